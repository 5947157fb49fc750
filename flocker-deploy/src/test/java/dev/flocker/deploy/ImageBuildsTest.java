package dev.flocker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What flocker-deploy checks of a {@code build:} before it runs Docker (a real build, its upload and its load on a node
 * are tested end to end in the agent's DeployCliTest).
 */
class ImageBuildsTest {
    @TempDir
    Path dir;

    ImageBuilds builds() {
        return new ImageBuilds("unix:///nonexistent/docker.sock", new PrintStream(new ByteArrayOutputStream()));
    }

    Object compose(Object build) {
        return Map.of("services", Map.of("web", Map.of("build", build)));
    }

    @Test
    void aFileWithoutBuildIsLeftAsItIs() {
        var root = Map.of("services", Map.of("web", Map.of("image", "nginx")));
        var result = builds().build(root, dir.resolve("compose.yml"));
        assertThat(result.root()).isSameAs(root);
        assertThat(result.built()).isEmpty();
    }

    @Test
    void eachProblemOfABuildNamesTheFileTheServiceAndWhatIsValid() throws Exception {
        var file = dir.resolve("compose.yml");
        assertThatThrownBy(() -> builds().build(compose("./nowhere"), file)).isInstanceOf(DeployException.class)
                .hasMessage(file + ": service 'web': build: the context " + dir.resolve("nowhere") + " is not a directory");
        Files.createDirectories(dir.resolve("app"));
        assertThatThrownBy(() -> builds().build(compose("app"), file))
                .hasMessage(file + ": service 'web': build: " + dir.resolve("app/Dockerfile") + " does not exist (or name another file with"
                        + " 'dockerfile')");
        assertThatThrownBy(() -> builds().build(compose(Map.of("context", "app", "dockerfile", "Other")), file))
                .hasMessage(file + ": service 'web': build: the dockerfile " + dir.resolve("app/Other") + " does not exist");
        assertThatThrownBy(() -> builds().build(compose(Map.of("context", "app", "ssh", "default")), file))
                .hasMessage(file + ": service 'web': build: 'ssh' is not supported; supported: args, context, dockerfile, labels, target");
        assertThatThrownBy(() -> builds().build(compose(List.of("app")), file))
                .hasMessageContaining("build: must be a directory (the build context) or a mapping with args, context");
        Files.writeString(dir.resolve("app/Dockerfile"), "FROM scratch\n");
        assertThatThrownBy(() -> builds().build(compose(Map.of("context", "app", "args", 5)), file))
                .hasMessage(file + ": service 'web': build: args must be a mapping or a list of KEY=VALUE");
        // A daemon that cannot be reached: Docker's own words, after what failed.
        assertThatThrownBy(() -> builds().build(compose("app"), file)).isInstanceOf(DeployException.class)
                .hasMessageStartingWith(file + ": service 'web': build: docker build failed");
    }

    @Test
    void imagesAreNamedAfterTheirImageOrTheProjectAndService() {
        assertThat(ImageBuilds.repository("registry:5000/shop/web:1.0")).isEqualTo("registry:5000/shop/web");
        assertThat(ImageBuilds.repository("registry:5000/web")).isEqualTo("registry:5000/web");
        assertThat(ImageBuilds.repository("web@sha256:" + "0".repeat(64))).isEqualTo("web");
        assertThat(ImageBuilds.project(Map.of("name", "My Shop!"), dir.resolve("compose.yml"))).isEqualTo("myshop");
        assertThat(ImageBuilds.project(Map.of(), Path.of("/srv/Shop.App/compose.yml"))).isEqualTo("shopapp");
    }
}
