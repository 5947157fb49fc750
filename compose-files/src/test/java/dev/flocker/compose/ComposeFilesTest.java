package dev.flocker.compose;

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
    @CsvSource(delimiter = '|', value = {"\"2\"", "\"2.4\"", "\"3\"", "\"3.8\"", "3", "none"})
    void composeFilesOfVersions2And3AndVersionlessDeployEveryKeyWeHonour(String version) {
        var file = (version.equals("none") ? "{" : "{\"version\": " + version + ", ") + """
                "services": {
                  "db": {"image": "postgres:15", "environment": ["POSTGRES_PASSWORD=s3cret"], "ports": ["15432:5432"],
                         "volumes": ["pgdata:/var/lib/postgresql/data"], "mem_limit": "512m", "cpu_shares": 512,
                         "restart": "on-failure:3", "command": "postgres -c fsync=on"},
                  "web": {"image": "example/web:1", "ports": [{"target": 80, "published": 8080}], "links": ["db:database"],
                          "environment": {"MODE": "prod"}, "restart": "unless-stopped", "command": ["sh", "-c", "exec web --port 80"]}},
                "volumes": {"pgdata": {}}}""";
        var apps = ApplicationFile.parse(parse(file));
        var config = Deployment.apply(Configuration.EMPTY, CLUSTER, apps,
                DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[\"db\"],\"10.0.0.12\":[\"web\"]}}")));
        var db = config.applications().get("db");
        assertThat(db.ports()).containsExactly(new dev.flocker.api.model.Application.Port(5432, 15432));
        assertThat(db.environment()).containsEntry("POSTGRES_PASSWORD", "s3cret");
        assertThat(db.volumes().get(0).mountpoint()).isEqualTo("/var/lib/postgresql/data");
        assertThat(db.memoryLimit()).isEqualTo(512L << 20);
        assertThat(db.cpuShares()).isEqualTo(512);
        assertThat(db.restartPolicy()).isEqualTo(new dev.flocker.api.model.Application.RestartPolicy("on-failure", 3));
        assertThat(db.commandLine()).containsExactly("postgres", "-c", "fsync=on");
        assertThat(config.datasets().get(db.volumes().get(0).datasetId()).primary()).isEqualTo(N11);
        var web = config.applications().get("web");
        assertThat(web.node()).isEqualTo(N12);
        assertThat(web.ports()).containsExactly(new dev.flocker.api.model.Application.Port(80, 8080));
        assertThat(web.links()).containsExactly(new dev.flocker.api.model.Application.Link("database", 5432, 15432));
        assertThat(web.restartPolicy().name()).isEqualTo("always");
        assertThat(web.commandLine()).containsExactly("sh", "-c", "exec web --port 80");
    }

    /** Flocker's native files may name the dataset a volume is: that dataset, named after the application when new. */
    @Test
    void aNativeVolumeMayNameItsDataset() {
        var id = "5e0e1a26-8f4b-4c3a-9d52-1b6a3c7e2f10";
        var apps = ApplicationFile.parse(parse("{\"version\": 1, \"applications\": {\"db\": {\"image\": \"postgres:15\","
                + " \"volume\": {\"mountpoint\": \"/data\", \"dataset_id\": \"" + id + "\"}}}}"));
        var config = Deployment.apply(Configuration.EMPTY, CLUSTER, apps, DeploymentFile.parse(parse("{\"version\":1,\"nodes\":{\"10.0.0.11\":[\"db\"]}}")));
        assertThat(config.applications().get("db").datasets()).containsExactly(dev.flocker.api.model.DatasetId.of(id));
        assertThat(config.datasets().get(dev.flocker.api.model.DatasetId.of(id)).name()).isEqualTo("db");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"services\": {\"web\": {\"build\": \".\"}}}|Application 'web' has a config error. 'build' is for flocker-deploy",
        "{\"services\": {\"web\": {\"image\": \"x\", \"depends_on\": [\"db\"], \"network_mode\": \"host\"}}}|Application 'web' has a config error. 'network_mode' is not supported: an application joins networks with 'networks'",
        "{\"services\": {\"web\": {\"ports\": [\"80:80\"]}}}|Application 'web' has a config error. Missing 'image' key.",
        "{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"127.0.0.1:80:80\"]}}}|Application 'web' has a config error. Invalid ports specification: '127.0.0.1:80:80'. A host address cannot be chosen",
        "{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"80\"]}}}|Application 'web' has a config error. Invalid ports specification: '80'. Use \"external:internal\"",
        "{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"53:53/udp\"]}}}|Application 'web' has a config error. Only tcp ports are supported",
        "{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [{\"target\": 80}]}}}|Application 'web' has a config error. Port 80 needs 'published'",
        "{\"services\": {\"web\": {\"image\": \"x\", \"volumes\": [\"./site:/srv\"]}}}|Application 'web' has a config error. Host paths cannot be volumes ('./site'): a host's directory stays on that host when the application moves. Use a named volume",
        "{\"services\": {\"web\": {\"image\": \"x\", \"volumes\": [\"/a\", \"/a\"]}}}|Application 'web' has a config error. Two volumes are mounted at /a: give each its own path.",
        "{\"services\": {\"web\": {\"image\": \"x\", \"volumes\": [{\"type\": \"bind\", \"source\": \"/x\", \"target\": \"/y\"}]}}}|Application 'web' has a config error. Host paths cannot be volumes ('/x')",
        "{\"services\": {\"web\": {\"image\": \"x\", \"restart\": \"sometimes\"}}}|Application 'web' has a config error. Invalid restart 'sometimes': use no, always, unless-stopped, on-failure or on-failure:N.",
        "{\"services\": {\"web\": {\"image\": \"x\", \"mem_limit\": \"lots\"}}}|Application 'web' has a config error. Invalid mem_limit 'lots': use bytes or a number with k, m or g, e.g. 512m.",
        "{\"services\": {\"web\": {\"image\": \"x\", \"command\": \"sh -c 'echo hi\"}}}|Application 'web' has a config error. 'command' has a ' at character 7 that is never closed",
        "{\"services\": {\"web\": {\"image\": \"x\", \"links\": [\"db\"]}}}|Application 'web' has a config error. Link target 'db' is not an application in this file.",
        "{\"services\": {\"web\": {\"image\": \"x\", \"cpu_shares\": \"half\"}}}|Application 'web' has a config error. 'cpu_shares' must be an integer, found str.",
        "{\"version\": \"1\", \"services\": {\"web\": {\"image\": \"x\"}}}|Compose file has an error. Unsupported version '1': use 2, 2.x, 3, 3.x, or leave 'version' out.",
        "{\"services\": {\"web\": {\"image\": \"x\"}}, \"networks\": []}|Compose file has an error. Top-level 'networks' must be a map of network names, not list.",
        "{\"services\": {}}|Compose file has an error. 'services' is empty.",
        "{\"services\": {\"-web\": {\"image\": \"x\"}}}|Application '-web' has a config error. Invalid application name"})
    void badComposeFilesAreRefusedSayingWhatWouldBeValid(String file, String message) {
        assertThatThrownBy(() -> ApplicationFile.parse(parse(file))).isInstanceOf(ConfigurationError.class).hasMessageStartingWith(message);
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
        assertThat(FileValues.size("500M")).isEqualTo(500L << 20);
        assertThat(FileValues.size("2.5G")).isEqualTo((long) (2.5 * (1L << 30)));
        assertThat(FileValues.size("1073741824")).isEqualTo(1073741824L);
        assertThat(FileValues.size("1.0000001K")).isEqualTo(1025L);
        // The same id Flocker (Python: UUID(bytes=md5(name).digest(), version=4)) gives, so existing volumes are found.
        assertThat(Deployment.datasetIdFor("ledger-db").toString()).isEqualTo("4f1766b7-ca61-438a-ba8c-fcef7d85eb9e");
    }
}
