package dev.flocker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.compose.ApplicationFile;
import dev.flocker.compose.ConfigurationError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** env_file and profiles, which only flocker-deploy (beside the files) can resolve. */
class ComposeInputsTest {
    @TempDir
    Path dir;

    @Test
    void envFilesAreReadBesideTheFileAndTheServicesOwnEnvironmentWins() throws Exception {
        Files.writeString(dir.resolve("common.env"), "# shared\nMODE=dev\nexport REGION='eu'\n");
        Files.writeString(dir.resolve("db.env"), "MODE=prod\nPASSWORD=\"s3cret\"\n");
        var compose = Files.writeString(dir.resolve("compose.yml"), """
                services:
                  db:
                    image: postgres:16
                    env_file: [common.env, db.env, {path: missing.env, required: false}]
                    environment: [REGION=us]
                """);
        var file = YamlFile.read(compose);
        var resolved = ComposeInputs.resolve(file.value, compose, Set.of(), Set.of("db"));
        var db = ApplicationFile.parse(resolved).get("db");
        assertThat(db.environment()).isEqualTo(Map.of("MODE", "prod", "PASSWORD", "s3cret", "REGION", "us"));
    }

    @Test
    void aMissingRequiredEnvFileIsAnErrorNamingIt() throws Exception {
        var compose = Files.writeString(dir.resolve("compose.yml"), "services:\n  db:\n    image: x:1\n    env_file: nothere.env\n");
        assertThatThrownBy(() -> ComposeInputs.resolve(YamlFile.read(compose).value, compose, Set.of(), Set.of()))
                .isInstanceOf(DeployException.class).hasMessageContaining("service 'db': env_file " + dir.resolve("nothere.env")
                        + " does not exist");
    }

    @Test
    void configAndSecretFilesAreReadBesideTheComposeFile() throws Exception {
        Files.writeString(dir.resolve("nginx.conf"), "server { listen 80; }\n");
        Files.write(dir.resolve("token.bin"), new byte[] {0, 1, 2, (byte) 255});
        var compose = Files.writeString(dir.resolve("compose.yml"), """
                services:
                  web:
                    image: nginx:1.25
                    configs: [{source: nginx, target: /etc/nginx/nginx.conf}]
                    secrets: [token]
                configs:
                  nginx: {file: ./nginx.conf}
                secrets:
                  token: {file: token.bin}
                """);
        var web = ApplicationFile.parse(ComposeInputs.resolve(YamlFile.read(compose).value, compose, Set.of(), Set.of())).get("web");
        assertThat(web.docker().files()).extracting(f -> f.target()).containsExactly("/etc/nginx/nginx.conf", "/run/secrets/token");
        assertThat(new String(web.docker().files().get(0).content())).isEqualTo("server { listen 80; }\n");
        assertThat(web.docker().files().get(1).content()).containsExactly(0, 1, 2, 255);

        var missing = Files.writeString(dir.resolve("missing.yml"), "services:\n  web: {image: x}\nsecrets:\n  s: {file: nothere}\n");
        assertThatThrownBy(() -> ComposeInputs.resolve(YamlFile.read(missing).value, missing, Set.of(), Set.of()))
                .isInstanceOf(DeployException.class).hasMessageContaining("secrets 's': file " + dir.resolve("nothere") + " does not exist");
    }

    static final String PROFILED = """
            services:
              web: {image: "nginx:1.25"}
              debug: {image: "busybox:1", profiles: [debug], build: .}
              tools: {image: "busybox:1", profiles: [tools]}
            """;

    @Test
    void servicesOfProfilesNotEnabledAreLeftOutUnlessTheDeploymentNamesThem() throws Exception {
        var compose = Files.writeString(dir.resolve("compose.yml"), PROFILED);
        var value = YamlFile.read(compose).value;
        // The debug service would be refused ('build'), but its profile is not enabled: the others deploy.
        assertThat(ApplicationFile.parse(ComposeInputs.resolve(value, compose, Set.of(), Set.of("web"))).keySet())
                .containsExactly("web");
        assertThat(ApplicationFile.parse(ComposeInputs.resolve(value, compose, Set.of("tools"), Set.of())).keySet())
                .containsExactly("web", "tools");
        assertThat(ApplicationFile.parse(ComposeInputs.resolve(value, compose, Set.of(), Set.of("tools"))).keySet())
                .containsExactly("web", "tools");
        assertThatThrownBy(() -> ApplicationFile.parse(ComposeInputs.resolve(value, compose, Set.of("debug"), Set.of())))
                .isInstanceOf(ConfigurationError.class).hasMessageContaining("'build' is for flocker-deploy");
    }
}
