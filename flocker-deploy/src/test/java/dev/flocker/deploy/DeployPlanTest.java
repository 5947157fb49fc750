package dev.flocker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.compose.ApplicationFile;
import dev.flocker.compose.Deployment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan a person reads before deploying: what each application becomes, in enough detail to catch a wrong file. */
class DeployPlanTest {
    static final NodeId N1 = NodeId.random();
    static final ClusterState CLUSTER = new ClusterState(Map.of(N1, new NodeState(N1, "10.0.0.1", "e", List.of(), List.of(), List.of())));
    static final Map<NodeId, String> HOSTS = Map.of(N1, "10.0.0.1");

    static Configuration deploy(Configuration current, String compose) {
        return Deployment.apply(current, CLUSTER, ApplicationFile.parse(Json.read(compose, Object.class)),
                Map.of("10.0.0.1", List.of("db", "web")));
    }

    static final String V1 = """
            {"services": {
              "db": {"image": "postgres:16", "environment": {"POSTGRES_PASSWORD": "first-secret", "PGDATA": "/d"},
                     "volumes": ["pg:/var/lib/postgresql/data"], "mem_limit": "512m",
                     "healthcheck": {"test": "pg_isready"}},
              "web": {"image": "nginx:1.25", "ports": ["8080:80"], "volumes": ["pg:/srv:ro"], "depends_on": {"db": {"condition": "service_healthy"}}}},
             "volumes": {"pg": {}}}""";

    @Test
    void aNewApplicationShowsItsImagePortsMountsLimitsAndOrderButNoValues() {
        var after = deploy(Configuration.EMPTY, V1);
        var lines = DeployPlan.between(Configuration.EMPTY, after, HOSTS).lines();
        var pg = Deployment.datasetIdFor("volume/pg");
        assertThat(lines).contains(
                "start    db on 10.0.0.1 (postgres:16; mounts pg (" + pg + ") at /var/lib/postgresql/data; environment PGDATA,"
                        + " POSTGRES_PASSWORD; memory 512.0 MiB; health check)",
                "start    web on 10.0.0.1 (nginx:1.25; ports 8080->80; mounts pg (" + pg + ") at /srv read-only; after db (healthy))",
                "create   dataset pg (" + pg + ") on 10.0.0.1");
        assertThat(String.join("\n", lines)).doesNotContain("first-secret");
    }

    @Test
    void aChangedApplicationSaysWhatChangedAndHidesValues() {
        var before = deploy(Configuration.EMPTY, V1);
        var v2 = V1.replace("first-secret", "second-secret").replace("\"PGDATA\": \"/d\"", "\"TZ\": \"UTC\"")
                .replace("512m", "1g").replace("8080:80", "8081:80").replace("pg:/srv:ro", "pg:/srv");
        var lines = DeployPlan.between(before, deploy(before, v2), HOSTS).lines();
        var pg = Deployment.datasetIdFor("volume/pg");
        assertThat(lines).containsExactly(
                "restart  db on 10.0.0.1 (environment -PGDATA ~POSTGRES_PASSWORD +TZ (values not shown); limits memory 512.0 MiB -> memory"
                        + " 1.0 GiB)",
                "restart  web on 10.0.0.1 (ports +8081->80 -8080->80; mounts pg (" + pg + ") at /srv)");
        assertThat(String.join("\n", lines)).doesNotContain("secret");
    }

    @Test
    void aNodeIsNamedByItsAddressItsUuidWhenNotReportingAndAQuestionMarkWhenNoneIsKnown() {
        // A move waiting for a replica's owner is reported with no source: --wait printed it, and once crashed on it.
        var gone = NodeId.random();
        assertThat(DeployPlan.host(HOSTS, N1)).isEqualTo("10.0.0.1");
        assertThat(DeployPlan.host(HOSTS, gone)).isEqualTo(gone.toString());
        assertThat(DeployPlan.host(HOSTS, null)).isEqualTo("?");
    }

    @Test
    void aNewApplicationShowsTheNetworksItJoinsAndTheNamesItIsReachedBy() {
        var after = deploy(Configuration.EMPTY, """
                {"services": {"db": {"image": "postgres:16", "networks": {"back": {"aliases": ["database"]}}},
                              "web": {"image": "nginx", "networks": ["back"]}},
                 "networks": {"back": {}}}""");
        assertThat(DeployPlan.between(Configuration.EMPTY, after, HOSTS).lines()).contains(
                "start    db on 10.0.0.1 (postgres:16; networks flocker_back as db, database)",
                "start    web on 10.0.0.1 (nginx:latest; networks flocker_back as web)");
    }

    @Test
    void aChangedNetworkIsNamedInTheRestart() {
        var before = deploy(Configuration.EMPTY, """
                {"services": {"db": {"image": "postgres:16", "networks": ["back"]}, "web": {"image": "nginx:1"}}, "networks": {"back": {}}}""");
        var after = deploy(before, """
                {"services": {"db": {"image": "postgres:16", "networks": ["front"]}, "web": {"image": "nginx:1"}}, "networks": {"front": {}}}""");
        assertThat(DeployPlan.between(before, after, HOSTS).lines()).containsExactly(
                "restart  db on 10.0.0.1 (docker options networks flocker_front)");
    }

    @Test
    void statusShowsEachStandbyWithItsLagOrWhyItHasNone() {
        var n2 = NodeId.random();
        var n3 = NodeId.random();
        var hosts = Map.of(N1, "10.0.0.1", n2, "10.0.0.2", n3, "10.0.0.3");
        var plain = new dev.flocker.api.model.Dataset(dev.flocker.api.model.DatasetId.random(), N1, false, Map.of(), null);
        assertThat(DeployMain.standbys(plain, List.of(), hosts)).isEqualTo("-");
        var two = plain.withReplicas(3, List.of(n2, n3));
        var reported = List.of(new dev.flocker.api.client.FlockerClient.StandbyView(n2, java.time.Instant.now(), 1.25, 0L, null),
                new dev.flocker.api.client.FlockerClient.StandbyView(n3, null, null, 4096L, null));
        assertThat(DeployMain.standbys(two, reported, hosts)).isEqualTo("10.0.0.2 lag 1.3 s, 10.0.0.3 copying, (no node free)");
        var failing = List.of(new dev.flocker.api.client.FlockerClient.StandbyView(n2, null, null, 0L, "connection refused"));
        assertThat(DeployMain.standbys(plain.withReplicas(1, List.of(n2)), failing, hosts)).isEqualTo("10.0.0.2 failing: connection refused");
        assertThat(DeployMain.standbys(plain.withReplicas(1, List.of(n3)), List.of(), hosts)).isEqualTo("10.0.0.3 waiting");
    }
}
