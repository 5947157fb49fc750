package dev.flocker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.compose.ApplicationFile;
import dev.flocker.compose.ConfigurationError;
import dev.flocker.compose.Deployment;
import dev.flocker.compose.DeploymentFile;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Errors in application and deployment files are reported with the file, line and column of what they name. */
class YamlFileTest {
    static final NodeId N11 = NodeId.random();
    static final ClusterState CLUSTER = new ClusterState(Map.of(N11, new NodeState(N11, "10.0.0.11", "e", List.of(), List.of(), List.of())));

    static String applicationError(String yaml) {
        var file = YamlFile.parse(Path.of("app.yml"), yaml.replace("\\n", "\n"));
        try {
            ApplicationFile.parse(file.value);
        } catch (ConfigurationError e) {
            return file.locate(e.getMessage());
        }
        throw new AssertionError("no error for " + yaml);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            native, missing image      | version: 1\\napplications:\\n  web:\\n    ports: []\\n                          | app.yml:3:3: Application 'web' has a config error. Missing 'image' key.
            native, unknown key        | version: 1\\napplications:\\n  web:\\n    image: x\\n    colour: red\\n      | app.yml:5:5: Application 'web' has a config error. Unrecognised keys: colour.
            native, wrong version      | version: 2\\napplications: {}\\n                                             | app.yml:1:1: Application configuration has an error. Incorrect version specified.
            native, bad mountpoint     | version: 1\\napplications:\\n  db:\\n    image: x\\n    volume: {mountpoint: data}\\n | app.yml:5:26: Application 'db' has a config error. Mountpoint 'data' must be an absolute ASCII path.
            fig, unsupported key       | web:\\n  image: nginx\\n  command: x\\n                                         | app.yml:3:3: Application 'web' has a config error. Unsupported fig keys found: command.
            compose, bad port          | services:\\n  web:\\n    image: x\\n    ports:\\n      - "80"\\n                   | app.yml:5:9: Application 'web' has a config error. Invalid ports specification: '80'.
            compose, unsupported key   | services:\\n  db:\\n    image: x\\n  web:\\n    image: y\\n    pull_policy: always\\n | app.yml:6:5: Application 'web' has a config error. 'pull_policy' is not supported yet.
            compose, unknown link      | services:\\n  web:\\n    image: x\\n    links: [cache]\\n                     | app.yml:4:13: Application 'web' has a config error. Link target 'cache' is not an application in this file.
            compose, top-level key     | services:\\n  web: {image: x}\\ninclude: [other.yml]\\n                       | app.yml:3:1: Compose file has an error. 'include' is not supported: put the services in one file.
            """)
    void applicationFileErrorsSayWhere(String name, String yaml, String expected) {
        assertThat(applicationError(yaml)).startsWith(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown application  | version: 1\\nnodes:\\n  "10.0.0.11": [web, nosuch]\\n | deploy.yml:3:22: Node 10.0.0.11 has a config error. Unrecognised application name: nosuch.
            unknown node         | version: 1\\nnodes:\\n  "10.0.0.11": [web]\\n  "10.0.0.99": []\\n | deploy.yml:4:3: No known node with address 10.0.0.99.
            not an address       | version: 1\\nnodes:\\n  db1.example.com: [web]\\n | deploy.yml:3:3: Node "db1.example.com" specified, but deployment configuration expects an IPv4 address.
            app listed twice     | version: 1\\nnodes:\\n  "10.0.0.11": [web, web]\\n | deploy.yml:3:22: Application 'web' appears more than once.
            """)
    void deploymentFileErrorsSayWhere(String name, String yaml, String expected) {
        var apps = ApplicationFile.parse(YamlFile.parse(Path.of("app.yml"), "services:\n  web: {image: x}\n").value);
        var file = YamlFile.parse(Path.of("deploy.yml"), yaml.replace("\\n", "\n"));
        try {
            Deployment.apply(Configuration.EMPTY, CLUSTER, apps, DeploymentFile.parse(file.value));
        } catch (ConfigurationError e) {
            assertThat(file.locate(e.getMessage())).isEqualTo(expected);
            return;
        }
        throw new AssertionError("no error");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unclosed list   | services:\\n  web: [\\n       | app.yml:3:1: not valid YAML
            tab indent      | services:\\n\\tweb: {}\\n      | app.yml:2:1: not valid YAML
            empty file      | ''                              | app.yml:1:1: the file is empty
            """)
    void notYamlIsReportedWithItsPosition(String name, String yaml, String expected) {
        assertThatThrownBy(() -> YamlFile.parse(Path.of("app.yml"), yaml.replace("\\n", "\n").replace("\\t", "\t").replace("''", "")))
                .isInstanceOf(DeployException.class).hasMessageStartingWith(expected);
    }
    static final Interpolation VARIABLES = new Interpolation(Map.of("TAG", "15", "PGPASS", "s3cret", "EMPTY", "", "PORT", "5432",
            "SHARES", "512"));

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            braced                 | 'postgres:${TAG}'            | postgres:15
            bare                   | 'postgres:$TAG'              | postgres:15
            default when unset     | '${NOPE:-x}'                 | x
            default when empty     | '${EMPTY:-x}'                | x
            default only if unset  | '${EMPTY-x}'                 | ''
            alternative when set   | '${TAG:+yes}'                | yes
            alternative when unset | '${NOPE:+yes}'               | ''
            unset is empty         | 'a${NOPE}b'                  | ab
            dollar dollar          | 'cost: $$5'                  | 'cost: $5'
            two in one             | '${PGPASS}@${PORT}'          | s3cret@5432
            """)
    void variablesArePutIntoValuesAsComposeDoes(String name, String value, String expected) {
        var file = YamlFile.parse(Path.of("app.yml"), "services:\n  db:\n    image: \"" + value + "\"\n", VARIABLES);
        @SuppressWarnings("unchecked")
        var services = (Map<String, Map<String, Object>>) ((Map<String, Object>) file.value).get("services");
        assertThat(services.get("db").get("image")).isEqualTo(expected.replace("''", ""));
    }

    @Test
    void interpolatedValuesReachTheParserWithTheirTypes() {
        var file = YamlFile.parse(Path.of("app.yml"), """
                services:
                  db:
                    image: "postgres:${TAG}"
                    environment: {POSTGRES_PASSWORD: "${PGPASS}"}
                    ports: ["${PORT}:5432"]
                    cpu_shares: ${SHARES}
                """, VARIABLES);
        var app = ApplicationFile.parse(file.value).get("db");
        assertThat(app.image()).isEqualTo("postgres:15");
        assertThat(app.environment()).containsEntry("POSTGRES_PASSWORD", "s3cret");
        assertThat(app.ports()).extracting(p -> p.external()).containsExactly(5432);
        assertThat(app.cpuShares()).as("a number stays a number").isEqualTo(512);
    }

    @Test
    void aRequiredVariableThatIsUnsetOrAMalformedOneIsAnErrorAtItsPlace() {
        assertThatThrownBy(() -> YamlFile.parse(Path.of("app.yml"), "services:\n  db:\n    image: \"${IMAGE:?name the image}\"\n", VARIABLES))
                .isInstanceOf(DeployException.class)
                .hasMessage("app.yml:3:12: variable IMAGE is required: name the image (set it in the environment or in .env beside the file)");
        assertThatThrownBy(() -> YamlFile.parse(Path.of("app.yml"), "services:\n  db:\n    image: \"${TAG\"\n", VARIABLES))
                .isInstanceOf(DeployException.class).hasMessageStartingWith("app.yml:3:12: '${TAG' has '${' without its '}'");
        assertThatThrownBy(() -> YamlFile.parse(Path.of("app.yml"), "services:\n  db:\n    image: \"${9X}\"\n", VARIABLES))
                .isInstanceOf(DeployException.class).hasMessageContaining("is not a variable");
    }

    @Test
    void aDotEnvFileBesideTheFileGivesVariablesAndTheEnvironmentWins(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve(".env"), "# the database\nexport DB_TAG=16\nQUOTED=\"a b\"\n\nPATH=not-the-real-one\n");
        java.nio.file.Files.writeString(dir.resolve("app.yml"), "services:\n  db:\n    image: \"postgres:${DB_TAG}\"\n"
                + "    environment: {A: \"${QUOTED}\", B: \"${PATH}\"}\n");
        var app = ApplicationFile.parse(YamlFile.read(dir.resolve("app.yml")).value).get("db");
        assertThat(app.image()).isEqualTo("postgres:16");
        assertThat(app.environment()).containsEntry("A", "a b").containsEntry("B", System.getenv("PATH"));
        java.nio.file.Files.writeString(dir.resolve(".env"), "not a variable\n");
        assertThatThrownBy(() -> YamlFile.read(dir.resolve("app.yml"))).isInstanceOf(DeployException.class)
                .hasMessageContaining(".env:1:1: expected NAME=value");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            a service twice      | services:\\n  web: {image: a}\\n  web: {image: b}\\n                    | app.yml:3:3: duplicate key 'web' (also at line 2, column 3)
            a key twice          | services:\\n  web:\\n    image: a\\n    image: b\\n                   | app.yml:4:5: duplicate key 'image' (also at line 3, column 5)
            a node twice         | version: 1\\nnodes:\\n  "10.0.0.11": [web]\\n  "10.0.0.11": []\\n     | app.yml:4:3: duplicate key '10.0.0.11' (also at line 3, column 3)
            """)
    void duplicateKeysAreErrorsNamingBothPlaces(String name, String yaml, String expected) {
        assertThatThrownBy(() -> YamlFile.parse(Path.of("app.yml"), yaml.replace("\\n", "\n")))
                .isInstanceOf(DeployException.class).hasMessageStartingWith(expected);
    }
    @Test
    void theProblemsOfEveryApplicationAreReportedAtOnceEachAtItsPlace() {
        var file = YamlFile.parse(Path.of("app.yml"), """
                services:
                  web:
                    image: x
                    ports: ["80"]
                  db:
                    image: y
                  cache:
                    image: z
                    pull_policy: always
                    depends_on: [nothere]
                """);
        try {
            ApplicationFile.parse(file.value);
            throw new AssertionError("no error");
        } catch (ConfigurationError e) {
            assertThat(e.problems().stream().map(file::locate).toList()).containsExactly(
                    "app.yml:4:13: Application 'web' has a config error. Invalid ports specification: '80'. Use \"external:internal\", e.g. \"8080:80\".",
                    "app.yml:9:5: Application 'cache' has a config error. 'pull_policy' is not supported yet. Supported: command,"
                            + " configs, container_name, cpu_shares, cpus, depends_on, deploy, dns, dns_search, entrypoint, env_file, environment, expose,"
                            + " extra_hosts, healthcheck, hostname, image, init, labels, links, mem_limit, networks, ports, profiles, read_only, restart, secrets,"
                            + " shm_size, stdin_open, stop_grace_period, stop_signal, sysctls, tmpfs, tty, ulimits, user, volumes, working_dir.",
                    "app.yml:10:5: Application 'cache' has a config error. 'depends_on' names 'nothere', which is not a service in this"
                            + " file.");
        }
    }
    @Test
    void plainValuesReadAsComposeReadsThem() {
        var file = YamlFile.parse(Path.of("app.yml"), """
                services:
                  dns:
                    image: coredns
                    restart: no
                    ports:
                      - 53:53
                    environment: {DEBUG: yes, QUIET: off, ON: true}
                """);
        var app = ApplicationFile.parse(file.value).get("dns");
        assertThat(app.restartPolicy().name()).as("restart: no is 'no', not false").isEqualTo("never");
        assertThat(app.ports()).as("53:53 is a port mapping, not the sexagesimal 3233").extracting(p -> p.external()).containsExactly(53);
        assertThat(app.environment()).containsEntry("DEBUG", "yes").containsEntry("QUIET", "off").containsEntry("ON", "true");
    }

    @Test
    void aServiceNamedImageOrBuildIsStillACompose() {
        var apps = ApplicationFile.parse(YamlFile.parse(Path.of("app.yml"), """
                services:
                  image: {image: "registry:2"}
                  build: {image: "builder:1"}
                """).value);
        assertThat(apps).containsOnlyKeys("image", "build");
        // And a Fig file whose application is called "services" is still Fig.
        assertThat(ApplicationFile.parse(YamlFile.parse(Path.of("app.yml"), "services: {image: nginx}\n").value)).containsOnlyKeys("services");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            services as a list | services: [web]\\n   | Compose file has an error. 'services' must be a map of service names to their settings, not list.
            services empty     | services:\\n         | Compose file has an error. 'services' is empty.
            port out of range  | services:\\n  web: {image: x, ports: ["70000:80"]}\\n | Application 'web' has a config error. port 70000:80 (external:internal) is out of range
            """)
    void composeErrorsSayWhatIsWrong(String name, String yaml, String expected) {
        try {
            ApplicationFile.parse(YamlFile.parse(Path.of("app.yml"), yaml.replace("\\n", "\n")).value);
            throw new AssertionError("no error");
        } catch (ConfigurationError e) {
            assertThat(e.getMessage()).startsWith(expected);
        }
    }

    @Test
    void aFileThatIsNotUtf8SaysSo(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        var file = dir.resolve("app.yml");
        java.nio.file.Files.write(file, "services:\n  web: {image: caf\u00e9}\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> YamlFile.read(file)).isInstanceOf(DeployException.class)
                .hasMessageContaining("app.yml: not UTF-8 text").hasMessageContaining("save the file as UTF-8");
    }
}
