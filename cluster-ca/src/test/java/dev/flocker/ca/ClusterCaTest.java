package dev.flocker.ca;

import dev.flocker.api.tls.TlsFiles;
import dev.flocker.api.tls.TlsException;
import dev.flocker.api.tls.Pem;
import dev.flocker.api.tls.Identity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterCaTest {
    @TempDir
    Path dir;

    @Test
    void theCaSignsControlNodeAndUserCertificatesWithTheirRolesAndNames() throws Exception {
        var ca = ClusterCa.initialize(dir, "prod");
        assertThat(ca.clusterId()).matches("[0-9a-f-]{36}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("cluster.key")))).isEqualTo("rw-------");

        ca.issueControl(dir, "control-service", List.of("10.0.0.1", "control.example.com"));
        var control = Pem.certificate(dir.resolve("control-service.crt"));
        control.verify(ca.certificate().getPublicKey());
        assertThat(Identity.of(control)).isEqualTo(new Identity(Identity.Role.CONTROL, "control-service"));
        assertThat(control.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                .containsExactlyInAnyOrder("control-service", "10.0.0.1", "control.example.com");
        assertThat(control.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1"); // serverAuth

        var node = NodeId.random();
        ca.issueNode(dir, "node", node);
        var nodeTls = TlsFiles.in(dir, "node");
        assertThat(nodeTls.identity().role()).isEqualTo(Identity.Role.NODE);
        assertThat(nodeTls.identity().node()).isEqualTo(node);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("node.key")))).isEqualTo("rw-------");

        ca.issueUser(dir, "alice", "alice");
        var user = Pem.certificate(dir.resolve("alice.crt"));
        user.verify(ca.certificate().getPublicKey());
        assertThat(Identity.of(user)).hasToString("user-alice");
        assertThat(user.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.2"); // clientAuth
        assertThat(user.getBasicConstraints()).isEqualTo(-1);
        assertThat(TlsFiles.in(dir, "alice").context()).isNotNull();
        assertThat(ClusterCa.load(dir).certificate()).isEqualTo(ca.certificate());
    }

    @Test
    void nothingIsOverwrittenAndBadInputIsRefusedClearly() {
        ClusterCa.initialize(dir, "prod");
        assertThatThrownBy(() -> ClusterCa.initialize(dir, "again")).hasMessageContaining("cluster.crt exists; remove it first");
        var ca = ClusterCa.load(dir);
        ca.issueUser(dir, "bob", "bob");
        assertThatThrownBy(() -> ca.issueUser(dir, "bob", "bob")).hasMessageContaining("bob.crt exists");
        assertThatThrownBy(() -> ca.issueUser(dir, "x", "../evil")).hasMessageContaining("user name '../evil' is invalid");
        assertThatThrownBy(() -> ca.issueControl(dir, "c", List.of("bad host!"))).hasMessageContaining("neither a host name nor an IP");
        assertThatThrownBy(() -> ClusterCa.load(dir.resolve("missing"))).isInstanceOf(TlsException.class)
                .hasMessageContaining("cluster.crt: no such file; create it with flocker-ca");
    }

    @Test
    void keysThatAreNotPkcs8AreRefusedWithHowToConvertThem() throws Exception {
        ClusterCa.initialize(dir, "prod");
        var key = dir.resolve("rsa.key");
        Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> Pem.privateKey(key)).hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    }

    @Test
    void identitiesComeFromTheCommonName() throws Exception {
        var ca = ClusterCa.initialize(dir, "prod");
        assertThatThrownBy(() -> Identity.of((X509Certificate) ca.certificate())).hasMessageContaining("is none of control-service");
        assertThatThrownBy(() -> Identity.of(List.of())).hasMessageContaining("no client certificate");
    }
}
