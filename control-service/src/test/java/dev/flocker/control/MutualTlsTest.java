package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.client.AgentChannel;
import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.NodeId;
import dev.flocker.ca.ClusterCertificates;
import dev.flocker.api.tls.TlsFiles;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API and the agent channel accept only certificates of the cluster CA, within their validity, in the role each
 * listener is for: users on the API, nodes on the agent channel. Everything else is refused, each case tested.
 */
@Tag("integration")
class MutualTlsTest {
    @TempDir
    static Path dir;
    static RunningService svc;
    static ClusterCertificates other;

    @BeforeAll
    static void start() {
        svc = RunningService.start(dir.resolve("data"), Duration.ofSeconds(30));
        other = ClusterCertificates.in(dir.resolve("other-ca"), "someone-else", List.of("127.0.0.1"));
    }

    @AfterAll
    static void stop() {
        svc.close();
    }

    @Test
    void aUserOfTheClusterIsServed() {
        assertThat(svc.client().version()).isNotBlank();
    }

    @Test
    void aCertificateOfAnotherCaIsRefusedInTheHandshake() {
        var stranger = other.user("mallory");
        // It trusts our CA, so only its own certificate is wrong.
        var mixed = new TlsFiles(RunningService.CERTS.control().ca(), stranger.certificate(), stranger.key());
        assertThatThrownBy(() -> new FlockerClient(svc.api(), mixed).version()).isInstanceOf(FlockerApiException.class)
                .hasMessageContaining("cannot reach the control service");
        assertThatThrownBy(() -> AgentChannel.connect(svc.agents(), mixed, v -> { })).isInstanceOf(RuntimeException.class);
    }

    @Test
    void anExpiredCertificateIsRefusedInTheHandshake() throws Exception {
        var expiredDir = dir.resolve("expired");
        Files.createDirectories(expiredDir);
        Files.copy(RunningService.CERTS.dir().resolve("cluster.crt"), expiredDir.resolve("cluster.crt"));
        RunningService.CERTS.ca().issueUser(expiredDir, "old", "old", Instant.now().minus(Duration.ofDays(30)), Duration.ofDays(1));
        assertThatThrownBy(() -> new FlockerClient(svc.api(), TlsFiles.in(expiredDir, "old")).version())
                .hasMessageContaining("cannot reach the control service");
        RunningService.CERTS.ca().issueNode(expiredDir, "old-node", NodeId.random(), Instant.now().minus(Duration.ofDays(30)),
                Duration.ofDays(1));
        assertThatThrownBy(() -> AgentChannel.connect(svc.agents(), TlsFiles.in(expiredDir, "old-node"), v -> { }))
                .isInstanceOf(RuntimeException.class);
        // A certificate that is not valid yet is refused too.
        RunningService.CERTS.ca().issueUser(expiredDir, "early", "early", Instant.now().plus(Duration.ofDays(2)), Duration.ofDays(10));
        assertThatThrownBy(() -> new FlockerClient(svc.api(), TlsFiles.in(expiredDir, "early")).version())
                .hasMessageContaining("cannot reach the control service");
    }

    @Test
    void noClientCertificateIsRefusedInTheHandshake() throws Exception {
        var trustOnly = SSLContext.getInstance("TLS");
        trustOnly.init(null, RunningService.USER.trustManagers().getTrustManagers(), null);
        var http = HttpClient.newBuilder().sslContext(trustOnly).build();
        assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(svc.api().resolve("/v1/version")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void aNodeCertificateMayNotUseTheApiAndAUserCertificateMayNotUseTheAgentChannel() {
        var node = RunningService.CERTS.node(NodeId.random());
        assertThatThrownBy(() -> new FlockerClient(svc.api(), node).version()).isInstanceOfSatisfying(FlockerApiException.class, e -> {
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.description()).contains("This API is for users").contains("node-");
        });
        assertThatThrownBy(() -> AgentChannel.connect(svc.agents(), RunningService.USER, v -> { })).hasMessageContaining("403");
    }

    @Test
    void clientsRefuseAServerThatIsNotTheClusters() {
        // A client of another cluster does not trust this control service's certificate.
        assertThatThrownBy(() -> new FlockerClient(svc.api(), other.user("alice")).version())
                .hasMessageContaining("cannot reach the control service");
    }

    @Test
    void curlWithFlockersCertificateFilesWorksAsTheGoAndPythonClientsDo() throws Exception {
        var certs = RunningService.CERTS.dir();
        var process = new ProcessBuilder("curl", "-sS", "--cacert", certs.resolve("cluster.crt").toString(), "--cert",
                certs.resolve("tester.crt").toString(), "--key", certs.resolve("tester.key").toString(),
                svc.api().resolve("/v1/version").toString()).redirectErrorStream(true).start();
        var out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(out).isZero();
        assertThat(out).contains("\"flocker\"");
        // And by the name the Python client checks, control-service, pinned to the address.
        var byName = new ProcessBuilder("curl", "-sS", "--cacert", certs.resolve("cluster.crt").toString(), "--cert",
                certs.resolve("tester.crt").toString(), "--key", certs.resolve("tester.key").toString(), "--resolve",
                "control-service:" + svc.api().getPort() + ":127.0.0.1", "https://control-service:" + svc.api().getPort() + "/v1/version")
                .redirectErrorStream(true).start();
        var named = new String(byName.getInputStream().readAllBytes());
        assertThat(byName.waitFor()).as(named).isZero();
        var anonymous = new ProcessBuilder("curl", "-sS", "--cacert", certs.resolve("cluster.crt").toString(),
                svc.api().resolve("/v1/version").toString()).redirectErrorStream(true).start();
        anonymous.getInputStream().readAllBytes();
        assertThat(anonymous.waitFor()).as("curl without a client certificate").isNotZero();
    }
}
