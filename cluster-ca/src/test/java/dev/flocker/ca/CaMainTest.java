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
    @Test
    void revokesACertificateIntoASignedListThatNamesItAndOnlyIt() throws Exception {
        var ca = dir.toString();
        assertThat(run("initialize", "-o", ca, "one")).isZero();
        assertThat(run("create-api-certificate", "-i", ca, "-o", ca, "alice")).isZero();
        assertThat(run("create-api-certificate", "-i", ca, "-o", ca, "bob")).isZero();
        assertThat(run("revoke", "-i", ca, "-o", ca, dir.resolve("alice.crt").toString())).isZero();
        assertThat(run("revoke", "-i", ca, "-o", ca, dir.resolve("alice.crt").toString())).as("again: nothing to add").isZero();
        var list = dev.flocker.api.tls.RevocationList.beside(dir.resolve("cluster.crt"));
        assertThat(list.revokedAt(dev.flocker.api.tls.Pem.certificate(dir.resolve("alice.crt")))).isPresent();
        assertThat(list.revokedAt(dev.flocker.api.tls.Pem.certificate(dir.resolve("bob.crt")))).isEmpty();
        // A certificate of another cluster's CA is not this CA's to revoke; a missing file is an error too.
        var other = dir.resolve("other");
        assertThat(run("initialize", "-o", other.toString(), "two")).isZero();
        assertThat(run("create-api-certificate", "-i", other.toString(), "-o", other.toString(), "mallory")).isZero();
        assertThat(run("revoke", "-i", ca, "-o", ca, other.resolve("mallory.crt").toString())).isEqualTo(1);
        assertThat(run("revoke", "-i", ca, "-o", ca, dir.resolve("nobody.crt").toString())).isEqualTo(1);
        assertThat(run("revoke", "-i", ca, "-o", ca)).isEqualTo(2);
        // Bob revoked later: the list keeps Alice and gains Bob.
        assertThat(run("revoke", "-i", ca, "-o", ca, dir.resolve("bob.crt").toString())).isZero();
        Files.setLastModifiedTime(dir.resolve("cluster.crl"), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertThat(list.revokedAt(dev.flocker.api.tls.Pem.certificate(dir.resolve("alice.crt")))).isPresent();
        assertThat(list.revokedAt(dev.flocker.api.tls.Pem.certificate(dir.resolve("bob.crt")))).isPresent();
    }
}
