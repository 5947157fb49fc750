package dev.flocker.ca;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CaMainTest {
    @TempDir
    Path dir;

    private int run(String... args) {
        return new CommandLine(new CaMain()).execute(args);
    }

    @Test
    void makesACaAndEveryKindOfCertificateWithFlockersNamesAndLayout() {
        var ca = dir.toString();
        var node = dir.resolve("node1");
        assertThat(run("initialize", "-o", ca, "mycluster")).isZero();
        assertThat(run("create-control-certificate", "-i", ca, "-o", ca, "10.0.0.1", "control.example.com")).isZero();
        assertThat(run("create-node-certificate", "-i", ca, "-o", node.toString(), "--uuid", "0d7a6b2e-1111-4222-8333-444455556666")).isZero();
        assertThat(run("create-api-certificate", "-i", ca, "-o", ca, "user")).isZero();
        assertThat(run("create-plugin-certificate", "-i", ca, "-o", node.toString())).isZero();

        assertThat(TlsFiles.in(dir, "control-service").identity().role()).isEqualTo(Identity.Role.CONTROL);
        assertThat(new TlsFiles(dir.resolve("cluster.crt"), node.resolve("node.crt"), node.resolve("node.key")).identity())
                .hasToString("node-0d7a6b2e-1111-4222-8333-444455556666");
        assertThat(TlsFiles.in(dir, "user").identity()).hasToString("user-user");
        assertThat(new TlsFiles(dir.resolve("cluster.crt"), node.resolve("plugin.crt"), node.resolve("plugin.key")).identity())
                .hasToString("user-plugin");
    }

    @Test
    void refusesToOverwriteToWorkWithoutACaAndBadArguments() throws Exception {
        var ca = dir.toString();
        assertThat(run("initialize", "-o", ca, "one")).isZero();
        var before = Files.readString(dir.resolve("cluster.crt"));
        assertThat(run("initialize", "-o", ca, "two")).isEqualTo(1);
        assertThat(Files.readString(dir.resolve("cluster.crt"))).isEqualTo(before);
        assertThat(run("create-api-certificate", "-i", dir.resolve("nowhere").toString(), "-o", ca, "alice")).isEqualTo(1);
        assertThat(run("create-api-certificate", "-i", ca, "-o", ca, "cluster")).isEqualTo(1);
        assertThat(run("create-node-certificate", "-i", ca, "-o", ca, "--uuid", "not-a-uuid")).isEqualTo(1);
        assertThat(run("create-control-certificate", "-i", ca, "-o", ca)).isEqualTo(2);
        assertThat(run("no-such-command")).isEqualTo(2);
    }
}
