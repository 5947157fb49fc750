package dev.flocker.api.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ComposeFilesTest {
    static final NodeId N11 = NodeId.random();
    static final NodeId N12 = NodeId.random();
    static final ClusterState CLUSTER = new ClusterState(Map.of(
            N11, new NodeState(N11, "10.0.0.11", "e1", List.of(), List.of(), List.of()),
            N12, new NodeState(N12, "10.0.0.12", "e2", List.of(), List.of(), List.of())));

    /** JSON stands in for YAML here: both arrive as maps, lists, strings and numbers. */
    static Object parse(String json) {
        return Json.read(json, Object.class);
    }

    static final String NATIVE = """
            {"version": 1, "applications": {
              "ledger-db": {"image": "postgres:9.5", "environment": {"POSTGRES_PASSWORD": "s3cret"},
                            "ports": [{"internal": 5432, "external": 15432}],
                            "volume": {"mountpoint": "/var/lib/postgresql/data", "maximum_size": "2G"}},
              "ledger-web": {"image": "example/ledger-ui:1.4", "ports": [{"internal": 8000, "external": 80}],
                             "links": [{"alias": "db", "local_port": 5432, "remote_port": 15432}],
                             "restart_policy": {"name": "on-failure", "maximum_retry_count": 3}}}}""";

    @Test
    void nativeFilesDeployAndMovingAnAppMovesItsDataset() {
        var apps = ApplicationFile.parse(parse(NATIVE));
        var first = Deployment.apply(Configuration.EMPTY, CLUSTER, apps,
                DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[\"ledger-db\",\"ledger-web\"],\"10.0.0.12\":[]}}")));
        var db = first.applications().get("ledger-db");
        assertThat(db.node()).isEqualTo(N11);
        var datasetId = db.volumes().get(0).datasetId();
        assertThat(datasetId).isEqualTo(Deployment.datasetIdFor("ledger-db"));
        var dataset = first.datasets().get(datasetId);
        assertThat(dataset.maximumSize()).isEqualTo(2L << 30);
        assertThat(dataset.name()).isEqualTo("ledger-db");
        assertThat(first.applications().get("ledger-web").links()).containsExactly(new dev.flocker.api.model.Application.Link("db", 5432, 15432));

        var moved = Deployment.apply(first, CLUSTER, apps,
                DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[\"ledger-web\"],\"10.0.0.12\":[\"ledger-db\"]}}")));
        assertThat(moved.applications().get("ledger-db").node()).isEqualTo(N12);
        assertThat(moved.datasets().get(datasetId).primary()).isEqualTo(N12);

        var stopped = Deployment.apply(moved, CLUSTER, apps, DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[],\"10.0.0.12\":[]}}")));
        assertThat(stopped.applications()).isEmpty();
        assertThat(stopped.datasets()).containsKey(datasetId); // data is never deleted by a deployment
    }

    @Test
    void figFilesDeployWithLinksExpandedToTheTargetsPorts() {
        var apps = ApplicationFile.parse(parse("""
                {"cache": {"image": "redis:3", "ports": ["16379:6379"], "volumes": ["/data"], "mem_limit": 268435456},
                 "api": {"image": "example/api:2", "links": ["cache:kv"], "environment": ["MODE=prod"]}}"""));
        var config = Deployment.apply(Configuration.EMPTY, CLUSTER, apps,
                DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[\"cache\",\"api\"]}}")));
        var api = config.applications().get("api");
        assertThat(api.links()).containsExactly(new dev.flocker.api.model.Application.Link("kv", 6379, 16379));
        assertThat(api.environment()).containsEntry("MODE", "prod");
        assertThat(config.applications().get("cache").ports()).containsExactly(new dev.flocker.api.model.Application.Port(6379, 16379));
        assertThat(config.applications().get("cache").memoryLimit()).isEqualTo(268435456L);
        assertThat(config.applications().get("cache").image()).isEqualTo("redis:3");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"version\": 1}|Application configuration has an error. Missing 'applications' key.",
        "{\"applications\": {}}|Application configuration has an error. Missing 'version' key.",
        "{\"version\": 2, \"applications\": {}}|Application configuration has an error. Incorrect version specified.",
        "{\"version\": 1, \"applications\": {\"web\": {\"ports\": []}}}|Application 'web' has a config error. Missing 'image' key.",
        "{\"version\": 1, \"applications\": {\"web\": {\"image\": \"x\", \"colour\": 1}}}|Application 'web' has a config error. Unrecognised keys: colour.",
        "{\"version\": 1, \"applications\": {\"web\": {\"image\": \"x\", \"volume\": {\"mountpoint\": \"data\"}}}}|Application 'web' has a config error. Mountpoint 'data' must be an absolute ASCII path.",
        "{\"version\": 1, \"applications\": {\"web\": {\"image\": \"x\", \"volume\": {\"mountpoint\": \"/d\", \"maximum_size\": \"lots\"}}}}|Application 'web' has a config error. Invalid maximum_size 'lots'",
        "{\"web\": {\"build\": \".\"}}|Application 'web' has a config error. 'build' is not supported yet",
        "{\"web\": {\"image\": \"nginx\", \"build\": \".\"}}|Application 'web' has a config error. Application configuration must contain either an 'image' or 'build' key, not both.",
        "{\"web\": {\"image\": \"nginx\", \"command\": \"x\"}}|Application 'web' has a config error. Unsupported fig keys found: command.",
        "{\"web\": {\"image\": \"nginx\", \"colour\": \"x\"}}|Application 'web' has a config error. Unrecognised keys: colour.",
        "{\"web\": {\"image\": \"nginx\", \"ports\": [\"80\"]}}|Application 'web' has a config error. Invalid ports specification: '80'",
        "{\"web\": {\"image\": \"nginx\", \"links\": [\"nothere\"]}}|Application 'web' has a config error. Link target 'nothere' is not an application",
        "{\"web\": {\"image\": \"nginx\", \"volumes\": [\"/a\", \"/b\"]}}|Application 'web' has a config error. Only one volume per application"})
    void badApplicationFilesAreRefusedWithFlockersWords(String file, String message) {
        assertThatThrownBy(() -> ApplicationFile.parse(parse(file))).isInstanceOf(ConfigurationError.class).hasMessageStartingWith(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"version\": 1}|Deployment configuration has an error. Missing 'nodes' key.",
        "{\"version\": 1, \"nodes\": {\"db1.example.com\": [\"web\"]}}|Node \"db1.example.com\" specified, but deployment configuration expects an IPv4 address.",
        "{\"version\": 1, \"nodes\": {\"10.0.0.11\": \"web\"}}|Node 10.0.0.11 has a config error. Wrong value type: str. Should have been list.",
        "{\"version\": 1, \"nodes\": {\"10.0.0.11\": [\"web\"], \"10.0.0.12\": [\"web\"]}}|Application 'web' appears more than once."})
    void badDeploymentFilesAreRefusedWithFlockersWords(String file, String message) {
        assertThatThrownBy(() -> DeploymentFile.parse(parse(file))).isInstanceOf(ConfigurationError.class).hasMessage(message);
    }

    @Test
    void deploymentsNameOnlyKnownNodesAndApplications() {
        var apps = ApplicationFile.parse(parse(NATIVE));
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, apps,
                DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.99\":[\"ledger-db\"]}}"))))
                .hasMessage("No known node with address 10.0.0.99.");
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, apps,
                DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[\"nosuch\"]}}"))))
                .hasMessage("Node 10.0.0.11 has a config error. Unrecognised application name: nosuch.");
    }

    @Test
    void sizesFollowFlockersUnits() {
        assertThat(ApplicationFile.size("500M")).isEqualTo(500L << 20);
        assertThat(ApplicationFile.size("2.5G")).isEqualTo((long) (2.5 * (1L << 30)));
        assertThat(ApplicationFile.size("1073741824")).isEqualTo(1073741824L);
        assertThat(ApplicationFile.size("1.0000001K")).isEqualTo(1025L);
        // The same id Flocker (Python: UUID(bytes=md5(name).digest(), version=4)) gives, so existing volumes are found.
        assertThat(Deployment.datasetIdFor("ledger-db").toString()).isEqualTo("4f1766b7-ca61-438a-ba8c-fcef7d85eb9e");
    }
}
