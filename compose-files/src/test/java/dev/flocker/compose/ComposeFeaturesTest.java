package dev.flocker.compose;

import static dev.flocker.compose.ComposeFilesTest.CLUSTER;
import static dev.flocker.compose.ComposeFilesTest.N11;
import static dev.flocker.compose.ComposeFilesTest.N12;
import static dev.flocker.compose.ComposeFilesTest.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DockerOptions;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Compose keys beyond Flocker's model: each deployed as the specification says, or refused saying why. */
class ComposeFeaturesTest {
    static final String SHOP = """
            {"name": "shop", "x-common": {"anything": 1},
             "services": {
              "db": {"image": "postgres:16", "container_name": "shop-db", "volumes": ["pgdata:/var/lib/postgresql/data"],
                     "ports": ["15432:5432"], "healthcheck": {"test": ["CMD", "pg_isready", "-U", "postgres"], "interval": "1s", "timeout": "1m30s",
                                     "retries": 30, "start_period": "500ms"},
                     "deploy": {"resources": {"limits": {"memory": "512m", "cpus": "1.5"}}, "restart_policy": {"condition": "any"}},
                     "expose": ["5432"], "x-note": "ignored, as the specification says"},
              "backup": {"image": "alpine:3.20", "volumes": [{"type": "volume", "source": "pgdata", "target": "/data", "read_only": true}],
                         "command": "sh -c 'while true; do sleep 3600; done'", "init": false,
                         "depends_on": {"db": {"condition": "service_healthy"}}},
              "web": {"image": "nginx:1.25", "ports": ["8080:80"], "links": ["db:database"], "depends_on": ["db"],
                      "entrypoint": "/docker-entrypoint.sh", "cpus": 0.5, "profiles": ["frontend"]}},
             "volumes": {"pgdata": {"driver_opts": {"size": "2G"}}}}""";

    static final Map<String, List<String>> ALL_ON_N11 = Map.of("10.0.0.11", List.of("db", "backup", "web"), "10.0.0.12", List.of());

    @Test
    void aComposeApplicationDeploysEveryKeyItUses() {
        var config = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(SHOP)), ALL_ON_N11);

        var db = config.applications().get("shop-db");
        var backup = config.applications().get("backup");
        var web = config.applications().get("web");
        assertThat(config.applications()).containsOnlyKeys("shop-db", "backup", "web"); // container_name names the application
        // One named volume, one dataset, mounted by both services that name it; read-only where the file says so.
        var pgdata = Deployment.datasetIdFor("volume/pgdata");
        assertThat(db.volumes()).containsExactly(new Application.Volume(pgdata, "/var/lib/postgresql/data", false));
        assertThat(backup.volumes()).containsExactly(new Application.Volume(pgdata, "/data", true));
        assertThat(config.datasets()).containsOnlyKeys(pgdata);
        assertThat(config.datasets().get(pgdata).maximumSize()).isEqualTo(2L << 30);
        assertThat(config.datasets().get(pgdata).name()).isEqualTo("pgdata");

        assertThat(db.healthcheck()).isEqualTo(new Application.HealthCheck(List.of("CMD", "pg_isready", "-U", "postgres"), 1_000L,
                90_000L, 500L, 30));
        assertThat(db.memoryLimit()).isEqualTo(512L << 20);
        assertThat(db.cpus()).isEqualTo(1.5);
        assertThat(db.restartPolicy()).isEqualTo(new Application.RestartPolicy("always", null));
        assertThat(backup.commandLine()).containsExactly("sh", "-c", "while true; do sleep 3600; done");
        assertThat(backup.init()).isFalse();
        assertThat(backup.dependsOn()).containsExactly(new Application.Dependency("shop-db", "healthy"));
        assertThat(web.dependsOn()).containsExactly(new Application.Dependency("shop-db", "started"));
        assertThat(web.entrypoint()).containsExactly("/docker-entrypoint.sh");
        assertThat(web.cpus()).isEqualTo(0.5);
        assertThat(web.links()).containsExactly(new Application.Link("database", 5432, 15432));
    }

    @Test
    void dockerOptionsAreDeployedAsComposeWritesThem() {
        var file = """
                {"services": {"web": {"image": "nginx:1.25", "user": "101:101", "working_dir": "/srv", "hostname": "web.local",
                  "labels": ["traefik.enable=true", "team=shop"], "read_only": true, "tmpfs": "/run",
                  "volumes": [{"type": "tmpfs", "target": "/cache"}, "/data"], "shm_size": "64m",
                  "extra_hosts": ["db.local:10.0.0.5", "cache.local=10.0.0.6"], "stop_signal": "SIGQUIT", "stop_grace_period": "1m30s",
                  "tty": true, "stdin_open": true, "dns": "10.0.0.53", "dns_search": ["shop.local"],
                  "ulimits": {"nproc": 512, "nofile": {"soft": 1024, "hard": 4096}}, "sysctls": {"net.core.somaxconn": 1024}}}}""";
        var web = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(file)), Map.of("10.0.0.11", List.of("web")))
                .applications().get("web");
        assertThat(web.docker()).isEqualTo(new DockerOptions("101:101", "/srv", "web.local",
                Map.of("traefik.enable", "true", "team", "shop"), true, List.of("/cache", "/run"), 64L << 20,
                Map.of("db.local", "10.0.0.5", "cache.local", "10.0.0.6"), "SIGQUIT", 90_000L, List.of(), true, true, List.of("10.0.0.53"),
                List.of("shop.local"), Map.of("nproc", new DockerOptions.Ulimit(512, 512), "nofile", new DockerOptions.Ulimit(1024, 4096)),
                Map.of("net.core.somaxconn", "1024"), null, null));
        assertThat(web.datasets()).containsExactly(Deployment.datasetIdFor("web")); // the tmpfs is no dataset
        var json = dev.flocker.api.model.Json.write(web);
        assertThat(dev.flocker.api.model.Json.read(json, Application.class)).isEqualTo(web);
        var plain = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse("{\"services\": {\"web\": {\"image\": \"x\"}}}")),
                Map.of("10.0.0.11", List.of("web"))).applications().get("web");
        assertThat(plain.docker()).isNull();
        assertThat(dev.flocker.api.model.Json.write(plain)).doesNotContain("docker");
    }

    @Test
    void configsAndSecretsBecomeReadOnlyFilesOfTheServicesThatNameThem() {
        var token = java.util.Base64.getEncoder().encodeToString("s3cret\n".getBytes());
        var file = """
                {"services": {"web": {"image": "nginx:1.25", "configs": ["site", {"source": "site", "target": "/etc/nginx/conf.d/site.conf",
                  "mode": 288}], "secrets": ["token", {"source": "token", "target": "api-token"}]}},
                 "configs": {"site": {"content": "server {}"}},
                 "secrets": {"token": {"x-content-base64": "%s"}}}""".formatted(token);
        var web = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(file)), Map.of("10.0.0.11", List.of("web")))
                .applications().get("web");
        assertThat(web.docker().files()).containsExactly(
                new DockerOptions.FileMount("/site", "server {}".getBytes(), null),
                new DockerOptions.FileMount("/etc/nginx/conf.d/site.conf", "server {}".getBytes(), 0440),
                new DockerOptions.FileMount("/run/secrets/token", "s3cret\n".getBytes(), null),
                new DockerOptions.FileMount("/run/secrets/api-token", "s3cret\n".getBytes(), null));
        var json = dev.flocker.api.model.Json.write(web);
        assertThat(json).doesNotContain("s3cret"); // base64 in JSON, never printed as text by the plan
        assertThat(dev.flocker.api.model.Json.read(json, Application.class)).isEqualTo(web);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"services\": {\"a1\": {\"image\": \"x\", \"secrets\": [\"nope\"]}}}|'secrets' names 'nope', which is not declared under the top-level 'secrets'.",
        "{\"services\": {\"a1\": {\"image\": \"x\"}}, \"secrets\": {\"s1\": {\"file\": \"./s\"}}}|Secret 's1' has a config error. 'file' and 'environment' are read by flocker-deploy",
        "{\"services\": {\"a1\": {\"image\": \"x\"}}, \"configs\": {\"c1\": {\"external\": true}}}|Config 'c1' has a config error. 'external' configs are not supported",
        "{\"services\": {\"a1\": {\"image\": \"x\"}}, \"configs\": {\"c1\": {}}}|Config 'c1' has a config error. It needs 'file' (a path beside the Compose file) or 'content'.",
        "{\"services\": {\"a1\": {\"image\": \"x\", \"configs\": [{\"source\": \"c1\", \"uid\": \"0\"}]}}, \"configs\": {\"c1\": {\"content\": \"x\"}}}|Unrecognised keys: uid.",
        "{\"services\": {\"a1\": {\"image\": \"x\", \"configs\": [\"c1\", \"c1\"]}}, \"configs\": {\"c1\": {\"content\": \"x\"}}}|two files are mounted at /c1",
        "{\"services\": {\"a1\": {\"image\": \"x\", \"configs\": [{\"source\": \"c1\", \"mode\": \"rw\"}]}}, \"configs\": {\"c1\": {\"content\": \"x\"}}}|Invalid mode 'rw': use an octal permission such as 0440."})
    void badConfigsAndSecretsAreRefusedSayingWhy(String file, String message) {
        assertThatThrownBy(() -> ApplicationFile.parse(parse(file))).isInstanceOf(ConfigurationError.class).hasMessageContaining(message);
    }

    @Test
    void theExtensionsAreAbsentFromJsonWhenUnset() {
        var plain = new Application(N11, "web", "nginx:1.25", null, null, null, null,
                List.of(new Application.Volume(DatasetId.of("2c0b3c2e-4d5f-4a6b-8c7d-9e0f1a2b3c4d"), "/srv")), null, null, null);
        var json = dev.flocker.api.model.Json.write(plain);
        assertThat(json).doesNotContain("read_only", "entrypoint", "init", "healthcheck", "depends_on", "cpus");
        var full = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(SHOP)), ALL_ON_N11).applications().get("backup");
        var back = dev.flocker.api.model.Json.read(dev.flocker.api.model.Json.write(full), Application.class);
        assertThat(back).isEqualTo(full);
    }

    @Test
    void aServiceAsksForStandbyCopiesOfItsVolumesAndARedeployKeepsThem() {
        var cluster = new dev.flocker.api.model.ClusterState(Map.of(
                N11, new dev.flocker.api.model.NodeState(N11, "10.0.0.11", "e1", List.of(), List.of(), List.of(), "pool"),
                N12, new dev.flocker.api.model.NodeState(N12, "10.0.0.12", "e2", List.of(), List.of(), List.of(), "pool")));
        var file = "{\"services\": {\"db\": {\"image\": \"postgres\", \"volumes\": [\"data:/var/lib/db\"], \"x-flocker\": {\"replicas\": 1}}},"
                + " \"volumes\": {\"data\": {}}}";
        var config = Deployment.apply(Configuration.EMPTY, cluster, ApplicationFile.parse(parse(file)), Map.of("10.0.0.11", List.of("db")));
        var dataset = config.datasets().values().iterator().next();
        assertThat(dataset.replicas()).isEqualTo(1);
        assertThat(dataset.standbyNodes()).containsExactly(N12);
        var without = "{\"services\": {\"db\": {\"image\": \"postgres\", \"volumes\": [\"data:/var/lib/db\"]}}, \"volumes\": {\"data\": {}}}";
        var moved = Deployment.apply(config, cluster, ApplicationFile.parse(parse(without)), Map.of("10.0.0.12", List.of("db")))
                .datasets().get(dataset.datasetId());
        assertThat(moved.primary()).as("moved to its standby").isEqualTo(N12);
        assertThat(moved.replicas()).as("a file that does not say keeps the standbys").isEqualTo(1);
        assertThat(moved.standbyNodes()).as("the old primary keeps a standby copy").containsExactly(N11);
        var nativeFile = "{\"version\": 1, \"applications\": {\"db\": {\"image\": \"x\", \"volume\": {\"mountpoint\": \"/data\", \"replicas\": 1}}}}";
        var fromNative = Deployment.apply(Configuration.EMPTY, cluster, ApplicationFile.parse(parse(nativeFile)), Map.of("10.0.0.12", List.of("db")));
        assertThat(fromNative.datasets().values().iterator().next().standbyNodes()).containsExactly(N11);
        // The deployment file may name the standby node (beyond Flocker's format).
        var deployment = parse("{\"version\": 1, \"nodes\": {\"10.0.0.11\": [\"db\"]}, \"x-flocker-standbys\": {\"db\": [\"10.0.0.12\"]}}");
        var pinned = Deployment.apply(Configuration.EMPTY, cluster, ApplicationFile.parse(parse(without)), DeploymentFile.parse(deployment),
                DeploymentFile.standbys(deployment)).datasets().values().iterator().next();
        assertThat(pinned.replicas()).as("naming a standby asks for one").isEqualTo(1);
        assertThat(pinned.standbyNodes()).containsExactly(N12);
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, cluster, ApplicationFile.parse(parse(without)), Map.of("10.0.0.11",
                List.of("db")), Map.of("db", List.of("10.0.0.11")))).isInstanceOf(ConfigurationError.class)
                .hasMessage("Application 'db' has a config error in 'x-flocker-standbys'. 10.0.0.11 is the node it runs on; a standby is another node.");
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, cluster, ApplicationFile.parse(parse(without)), Map.of("10.0.0.11",
                List.of("db")), Map.of("db", List.of("10.0.0.99")))).isInstanceOf(ConfigurationError.class)
                .hasMessage("Application 'db' has a config error in 'x-flocker-standbys'. No known node with address 10.0.0.99.");
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, cluster, ApplicationFile.parse(parse(without)), Map.of("10.0.0.11",
                List.of("db")), Map.of("web", List.of("10.0.0.12")))).isInstanceOf(ConfigurationError.class)
                .hasMessage("'x-flocker-standbys' names 'web', which the deployment file places on no node.");
        assertThatThrownBy(() -> DeploymentFile.standbys(parse("{\"x-flocker-standbys\": {\"db\": \"10.0.0.12\"}}")))
                .isInstanceOf(ConfigurationError.class).hasMessageContaining("Should have been a list of node addresses.");
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(file)), Map.of("10.0.0.11", List.of("db"))))
                .isInstanceOf(ConfigurationError.class).hasMessageContaining("Application 'db' has a config error. Its volume asks for 1 standby"
                        + " copies ('replicas'), which need as many nodes besides its own; the cluster has 0 other node(s) reporting.");
    }

    @Test
    void servicesSharingAVolumeMustShareANode() {
        var apps = ApplicationFile.parse(parse(SHOP));
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, apps,
                Map.of("10.0.0.11", List.of("db", "web"), "10.0.0.12", List.of("backup"))))
                .isInstanceOf(ConfigurationError.class)
                .hasMessageContaining("Volume 'pgdata' is shared by")
                .hasMessageContaining("applications that share a volume must be placed on one node");
    }

    @Test
    void aDependencyTheDeploymentLeavesOutIsAnError() {
        var apps = ApplicationFile.parse(parse(SHOP));
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, apps, Map.of("10.0.0.11", List.of("web"))))
                .isInstanceOf(ConfigurationError.class)
                .hasMessage("Application 'web' has a config error. It depends on 'shop-db' ('depends_on'), which the deployment file places"
                        + " on no node: it would never start. Place both.");
    }

    @Test
    void theDeploymentFileMayNameTheContainerName() {
        var apps = ApplicationFile.parse(parse(SHOP));
        var config = Deployment.apply(Configuration.EMPTY, CLUSTER, apps, Map.of("10.0.0.12", List.of("shop-db")));
        assertThat(config.applications().get("shop-db").node()).isEqualTo(N12);
    }

    @Test
    void aServiceWithSeveralVolumesHasTheFirstInFlockersFieldAndTheRestInOurs() {
        var file = """
                {"services": {"db": {"image": "postgres:16", "volumes": ["data:/var/lib/postgresql/data", "wal:/wal", "/scratch"]}},
                 "volumes": {"data": {}, "wal": {"driver_opts": {"size": "128M"}}}}""";
        var config = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(file)), Map.of("10.0.0.11", List.of("db")));
        var db = config.applications().get("db");
        var data = Deployment.datasetIdFor("volume/data");
        var wal = Deployment.datasetIdFor("volume/wal");
        var scratch = Deployment.datasetIdFor("db");
        assertThat(db.volumes()).containsExactly(new Application.Volume(data, "/var/lib/postgresql/data"));
        assertThat(db.extraVolumes()).containsExactly(new Application.Volume(wal, "/wal"), new Application.Volume(scratch, "/scratch"));
        assertThat(db.datasets()).containsExactly(data, wal, scratch);
        assertThat(config.datasets()).containsOnlyKeys(data, wal, scratch);
        assertThat(config.datasets().values()).allSatisfy(d -> assertThat(d.primary()).isEqualTo(N11));
        assertThat(config.datasets().get(wal).maximumSize()).isEqualTo(128L << 20);
        var json = dev.flocker.api.model.Json.write(db);
        assertThat(dev.flocker.api.model.Json.read(json, Application.class)).isEqualTo(db);
        assertThat(json).contains("\"extra_volumes\"");
        // Moving it moves all three datasets with it.
        var moved = Deployment.apply(config, CLUSTER, ApplicationFile.parse(parse(file)), Map.of("10.0.0.12", List.of("db")));
        assertThat(moved.datasets().values()).allSatisfy(d -> assertThat(d.primary()).isEqualTo(N12));
    }

    @Test
    void theModelRefusesWhatFlockersFieldCannotHoldOrTwoMountsAtOnePath() {
        var d1 = new Application.Volume(DatasetId.of("2c0b3c2e-4d5f-4a6b-8c7d-9e0f1a2b3c4d"), "/a");
        var d2 = new Application.Volume(DatasetId.of("3c0b3c2e-4d5f-4a6b-8c7d-9e0f1a2b3c4d"), "/a");
        assertThatThrownBy(() -> new Application(N11, "web", "x", null, null, null, null, List.of(d1, d2), null, null, null))
                .hasMessageContaining("put the others in 'extra_volumes'");
        var plain = new Application(N11, "web", "x", null, null, null, null, List.of(), null, null, null);
        assertThatThrownBy(() -> plain.withVolumes(List.of(d1, d2))).hasMessageContaining("mounts two volumes at /a");
        assertThatThrownBy(() -> plain.withVolumes(List.of(d1, d1))).hasMessageContaining("twice");
    }

    static final String EXTERNAL = """
            {"services": {"app": {"image": "x:1", "volumes": ["uploads:/srv/uploads"]}},
             "volumes": {"uploads": {"external": true, "name": "team-uploads"}}}""";

    @Test
    void anExternalVolumeIsTheExistingDatasetOfThatNameNeverANewOne() {
        var apps = ApplicationFile.parse(parse(EXTERNAL));
        var placement = Map.of("10.0.0.11", List.of("app"));
        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, apps, placement))
                .hasMessageStartingWith("Application 'app' has a config error. External volume 'team-uploads' is not a dataset of this"
                        + " cluster: create it first");

        var existing = new Dataset(DatasetId.of("8f14e45f-ceea-467f-a0e6-5a2f5b1e1a11"), N12, false, Map.of("name", "team-uploads"),
                1L << 30);
        var current = Configuration.EMPTY.withDeployment(List.of(existing), List.of());
        var config = Deployment.apply(current, CLUSTER, apps, placement);
        assertThat(config.applications().get("app").volumes().get(0).datasetId()).isEqualTo(existing.datasetId());
        assertThat(config.datasets()).hasSize(1);
        assertThat(config.datasets().get(existing.datasetId()).primary()).isEqualTo(N11); // it moves with the application
        assertThat(config.datasets().get(existing.datasetId()).maximumSize()).isEqualTo(1L << 30);
    }

    @Test
    void aNamedVolumeKeepsTheDatasetEarlierVersionsGaveItsOnlyService() {
        var file = "{\"services\": {\"db\": {\"image\": \"postgres:16\", \"volumes\": [\"data:/var/lib/postgresql/data\"]}},"
                + " \"volumes\": {\"data\": null}}";
        var legacy = Deployment.datasetIdFor("db");
        var current = Configuration.EMPTY.withDeployment(List.of(new Dataset(legacy, N11, false, Map.of("name", "db"), null)), List.of());
        var config = Deployment.apply(current, CLUSTER, ApplicationFile.parse(parse(file)), Map.of("10.0.0.11", List.of("db")));
        assertThat(config.applications().get("db").volumes().get(0).datasetId()).isEqualTo(legacy);
    }

    @Test
    void everyProblemOfEveryServiceIsReportedInOneRun() {
        var file = """
                {"services": {
                  "web": {"image": "x", "ports": ["80"], "restart": "sometimes", "build": ".", "secrets": ["s"], "mem_limit": "lots"},
                  "db": {"image": "y", "volumes": ["undeclared:/data"], "depends_on": ["nothere"], "healthcheck": {"test": ["ECHO"]}}}}""";
        assertThatThrownBy(() -> ApplicationFile.parse(parse(file))).isInstanceOfSatisfying(ConfigurationError.class, e ->
                assertThat(e.problems()).containsExactly(
                        "Application 'web' has a config error. 'build' is for flocker-deploy: it builds the image with Docker and uploads it"
                                + " to the control service, where nodes load it from. A configuration sent to the API directly names an 'image'"
                                + " every node has or can pull.",
                        "Application 'web' has a config error. Invalid ports specification: '80'. Use \"external:internal\", e.g. \"8080:80\".",
                        "Application 'web' has a config error. Invalid restart 'sometimes': use no, always, unless-stopped, on-failure or"
                                + " on-failure:N.",
                        "Application 'web' has a config error. Invalid mem_limit 'lots': use bytes or a number with k, m or g, e.g. 512m.",
                        "Application 'web' has a config error. 'secrets' names 's', which is not declared under the top-level 'secrets'.",
                        "Application 'db' has a config error. Named volume 'undeclared' is not declared under the top-level 'volumes'"
                                + " key; add 'volumes: {undeclared: {}}'.",
                        "Application 'db' has a config error. 'healthcheck test' as a list starts with CMD, CMD-SHELL or NONE, e.g."
                                + " [\"CMD\", \"pg_isready\"].",
                        "Application 'db' has a config error. 'depends_on' names 'nothere', which is not a service in this file."));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"a1\": {\"image\": \"x\", \"depends_on\": [\"b1\"]}, \"b1\": {\"image\": \"x\", \"depends_on\": [\"a1\"]}}|'depends_on' goes round in a circle: a1 -> b1 -> a1",
        "{\"a1\": {\"image\": \"x\", \"depends_on\": {\"b1\": {\"condition\": \"service_healthy\"}}}, \"b1\": {\"image\": \"x\"}}|'depends_on' asks for 'b1' to be healthy, but it has no 'healthcheck' here",
        "{\"a1\": {\"image\": \"x\", \"depends_on\": {\"b1\": {\"condition\": \"service_completed_successfully\"}}}, \"b1\": {\"image\": \"x\"}}|applications are kept running, none is a one-shot job",
        "{\"a1\": {\"image\": \"x\", \"container_name\": \"same\"}, \"b1\": {\"image\": \"x\", \"container_name\": \"same\"}}|Two services have the application name 'same'",
        "{\"a1\": {\"image\": \"x\", \"healthcheck\": {\"test\": \"true\", \"interval\": \"soon\"}}}|Invalid healthcheck interval 'soon': use a duration such as 10s",
        "{\"a1\": {\"image\": \"x\", \"healthcheck\": {\"test\": \"true\", \"start_interval\": \"soon\"}}}|Invalid healthcheck start_interval 'soon'",
        "{\"a1\": {\"image\": \"x\", \"ulimits\": {\"nofile\": {\"soft\": 10, \"hard\": 5}}}}|ulimit soft 10 / hard 5 is invalid",
        "{\"a1\": {\"image\": \"x\", \"ulimits\": {\"nofile\": \"lots\"}}}|'ulimits nofile' must be an integer, found str.",
        "{\"a1\": {\"image\": \"x\", \"dns\": \"resolver\"}}|dns 'resolver' is not an IP address",
        "{\"a1\": {\"image\": \"x\", \"sysctls\": [\"Net Core=1\"]}}|sysctl 'Net Core' is not a kernel parameter",
        "{\"a1\": {\"image\": \"x\", \"tty\": \"yes\"}}|'tty' must be true or false, found str.",
        "{\"a1\": {\"image\": \"x\", \"deploy\": {\"replicas\": 3}}}|'deploy.replicas' 3 is not supported: one container per application",
        "{\"a1\": {\"image\": \"x\", \"deploy\": {\"placement\": {\"constraints\": []}}}}|'deploy.placement' is not supported: where an application runs is the deployment file's choice",
        "{\"a1\": {\"image\": \"x\", \"deploy\": {\"resources\": {\"reservations\": {\"memory\": \"1g\"}}}}}|'deploy.resources.reservations' is not supported",
        "{\"a1\": {\"image\": \"x\", \"mem_limit\": \"1g\", \"deploy\": {\"resources\": {\"limits\": {\"memory\": \"2g\"}}}}}|'mem_limit' and 'deploy.resources.limits.memory' differ: keep one.",
        "{\"a1\": {\"image\": \"x\", \"cpus\": \"fast\"}}|Invalid cpus 'fast': use a number of cores",
        "{\"a1\": {\"image\": \"x\", \"cpus\": 4096}}|cpus '4096' is out of range: from 0.01 to 1024 cores.",
        "{\"a1\": {\"image\": \"x\", \"init\": \"yes\"}}|'init' must be true or false, found str.",
        "{\"a1\": {\"image\": \"x\", \"expose\": [\"http\"]}}|Invalid 'expose' entry 'http'",
        "{\"a1\": {\"image\": \"x\", \"env_file\": \".env\"}}|'env_file' is read by flocker-deploy",
        "{\"a1\": {\"image\": \"x\", \"privileged\": true}}|'privileged' is not supported: an application must be able to run, and move, on any node",
        "{\"a1\": {\"image\": \"x\", \"volumes\": [\"v1:/data:rx\"]}}|Invalid volume mode 'rx' in 'v1:/data:rx': use ro or rw.",
        "{\"a1\": {\"image\": \"x\", \"volumes\": [{\"type\": \"npipe\", \"target\": \"/t\"}]}}|Volumes of type 'npipe' are not supported",
        "{\"a1\": {\"image\": \"x\", \"pull_policy\": \"always\"}}|'pull_policy' is not supported yet. Supported: command, configs, container_name",
        "{\"a1\": {\"image\": \"x\", \"logging\": {\"driver\": \"syslog\"}}}|'logging' is not supported: containers log through each node's Docker daemon",
        "{\"a1\": {\"image\": \"x\", \"user\": \"a b\"}}|user 'a b' is invalid",
        "{\"a1\": {\"image\": \"x\", \"working_dir\": \"app\"}}|working_dir 'app' must be an absolute path",
        "{\"a1\": {\"image\": \"x\", \"labels\": {\"dev.flocker.app\": \"x\"}}}|label 'dev.flocker.app' is invalid",
        "{\"a1\": {\"image\": \"x\", \"extra_hosts\": [\"nohost\"]}}|Invalid 'extra_hosts' entry 'nohost': use host:address.",
        "{\"a1\": {\"image\": \"x\", \"tmpfs\": [\"/run:size=1m\"]}}|mount options are not supported",
        "{\"a1\": {\"image\": \"x\", \"stop_grace_period\": \"forever\"}}|Invalid stop_grace_period 'forever'",
        "{\"a1\": {\"image\": \"x\", \"x-flocker\": {\"replicas\": 9}}}|'x-flocker.replicas' must be 0 to 4 (standby copies on other nodes), found 9.",
        "{\"a1\": {\"image\": \"x\", \"x-flocker\": {\"replica\": 1}}}|'x-flocker' has unknown keys [replica]; it takes 'replicas'",
        "{\"a1\": {\"image\": \"x\", \"stop_signal\": \"please stop\"}}|stop_signal 'please stop' is not a signal",
        "{\"a1\": {\"image\": \"x\", \"links\": [\"b1\"]}, \"b1\": {\"image\": \"x\"}}|Link target 'b1' has no 'ports': a link reaches another application through its external ports"})
    void badServicesAreRefusedSayingWhy(String services, String message) {
        assertThatThrownBy(() -> ApplicationFile.parse(parse("{\"services\": " + services + "}")))
                .isInstanceOf(ConfigurationError.class).hasMessageContaining(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"v1\": {\"driver\": \"rexray\"}}|'driver' 'rexray' cannot be used: every volume here is a Flocker dataset",
        "{\"v1\": {\"external\": true, \"driver_opts\": {\"size\": \"1G\"}}}|An external volume is an existing dataset: its size cannot be set here",
        "{\"v1\": {\"driver_opts\": {\"type\": \"nfs\"}}}|Unrecognised keys: type.",
        "{\"v1\": {\"external\": \"maybe\"}}|'external' must be true or false, found str."})
    void badVolumesAreRefusedSayingWhy(String volumes, String message) {
        var file = "{\"services\": {\"a1\": {\"image\": \"x\", \"volumes\": [\"v1:/data\"]}}, \"volumes\": " + volumes + "}";
        assertThatThrownBy(() -> ApplicationFile.parse(parse(file))).isInstanceOf(ConfigurationError.class)
                .hasMessageStartingWith("Volume 'v1' has a config error. " + message.substring(0, message.length() - 1));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10s|10000", "1m30s|90000", "500ms|500", "1.5s|1500", "2h|7200000", "1h1m1s|3661000"})
    void durationsAreGoDurations(String text, long millis) {
        assertThat(ComposeDeploy.duration(text, "interval")).isEqualTo(millis);
    }

    @Test
    void healthChecksTakeEveryFormComposeAllows() {
        assertThat(ComposeDeploy.healthcheck(Map.of("test", "curl -f http://localhost")).test())
                .containsExactly("CMD-SHELL", "curl -f http://localhost");
        assertThat(ComposeDeploy.healthcheck(Map.of("test", List.of("CMD-SHELL", "pg_isready", "-q"))).test())
                .containsExactly("CMD-SHELL", "pg_isready -q");
        assertThat(ComposeDeploy.healthcheck(Map.of("disable", true)).disabled()).isTrue();
        assertThat(ComposeDeploy.healthcheck(Map.of("test", List.of("NONE"))).disabled()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "sh -c 'echo hi there'|sh,-c,echo hi there",
        "echo \"a \\\"quoted\\\" word\"|echo,a \"quoted\" word",
        "  many   spaces  |many,spaces",
        "a\\ b c|a b,c",
        "x '' y|x,,y",
        "python -m http.server \"8000\"|python,-m,http.server,8000"})
    void commandsAreSplitAsAShellWould(String text, String words) {
        assertThat(String.join(",", ShellWords.split(text, "command"))).isEqualTo(words);
    }

    @Test
    void servicesOnANetworkReachEachOtherByNameAndMustShareANode() {
        var file = """
                {"services": {
                  "db": {"image": "postgres:16", "container_name": "shop-db", "networks": {"back": {"aliases": ["database"]}}},
                  "web": {"image": "nginx", "networks": ["back", "front"]},
                  "lone": {"image": "alpine", "networks": ["default"]}},
                 "networks": {"back": {"driver": "bridge"}, "front": {"name": "shop-front"}}}""";
        var placed = Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(file)),
                Map.of("10.0.0.11", List.of("db", "web"), "10.0.0.12", List.of("lone"))).applications();
        assertThat(placed.get("shop-db").docker().networks()).isEqualTo(Map.of("flocker_back", List.of("db", "database", "shop-db")));
        assertThat(placed.get("web").docker().networks()).isEqualTo(Map.of("flocker_back", List.of("web"), "shop-front", List.of("web")));
        assertThat(placed.get("lone").docker().networks()).isEqualTo(Map.of("flocker_default", List.of("lone")));
        var json = dev.flocker.api.model.Json.write(placed.get("web"));
        assertThat(dev.flocker.api.model.Json.read(json, Application.class)).isEqualTo(placed.get("web"));

        assertThatThrownBy(() -> Deployment.apply(Configuration.EMPTY, CLUSTER, ApplicationFile.parse(parse(file)),
                Map.of("10.0.0.11", List.of("db"), "10.0.0.12", List.of("web", "lone")))).isInstanceOfSatisfying(ConfigurationError.class,
                e -> assertThat(e.problems()).containsExactly("Application 'shop-db' has a config error. Network 'flocker_back' is joined by"
                        + " shop-db (node " + N11 + "), web (node " + N12 + "): applications that share a network must be placed on one node"
                        + " (or reach each other through 'links')."));
    }

    @Test
    void networksThatCannotMeanOneBridgeOnOneNodeAreRefusedSayingWhy() {
        var file = """
                {"services": {
                  "web": {"image": "nginx", "networks": {"nowhere": null, "back": {"ipv4_address": "172.20.0.5"}}, "network_mode": "host"}},
                 "networks": {"back": {}, "outside": {"external": true}, "overlay": {"driver": "overlay"}, "fixed": {"ipam": {}}}}""";
        assertThatThrownBy(() -> ApplicationFile.parse(parse(file))).isInstanceOfSatisfying(ConfigurationError.class, e ->
                assertThat(e.problems()).containsExactly(
                        "Network 'outside' has a config error. 'external' cannot be used: a network made outside Flocker exists on some"
                                + " nodes only, and an application must be able to run and move anywhere. Leave 'external' out to have"
                                + " Flocker make it. Networks here are bridges on one node, made by Flocker for the services that join them.",
                        "Network 'overlay' has a config error. 'driver' 'overlay' cannot be used: only bridge networks, on the node the"
                                + " services run on. Leave 'driver' out, or use bridge.",
                        "Network 'fixed' has a config error. 'ipam' is not supported. Networks here are bridges on one node, made by"
                                + " Flocker for the services that join them. Leave it out.",
                        "Application 'web' has a config error. 'network_mode' is not supported: an application joins networks with"
                                + " 'networks' (bridges on its node, shared with the services on it), or reaches others through 'links'"
                                + " (each host's routing proxy serves every application's external port, wherever the other application"
                                + " runs).",
                        "Application 'web' has a config error. Network 'nowhere' is not declared: add it under the top-level 'networks'."));
    }
}
