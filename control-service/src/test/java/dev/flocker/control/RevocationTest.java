package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.client.AgentChannel;
import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.tls.Pem;
import dev.flocker.api.tls.RevocationList;
import dev.flocker.api.tls.TlsFiles;
import dev.flocker.ca.ClusterCertificates;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flocker-ca revoke}: the control service refuses a revoked user on the API and a revoked node on the agent
 * channel (also on connections opened before the revocation), clients refuse a control service whose certificate was
 * revoked, and a damaged list refuses everyone; each with an error that says so.
 */
@Tag("integration")
class RevocationTest {
    @TempDir
    Path dir;

    @Test
    void revokedCertificatesAreRefusedOnBothListenersAndByClients() throws Exception {
        var certs = ClusterCertificates.in(dir.resolve("certs"), "revocation", List.of("127.0.0.1"));
        var settings = new ControlService.Settings(dir.resolve("data"), "127.0.0.1", 0, 0, RunningService.freePort(), List.of(),
                Duration.ofSeconds(30), Duration.ofMillis(100), certs.control());
        try (var service = ControlService.start(settings)) {
            var api = URI.create("https://127.0.0.1:" + service.apiPort());
            var alice = certs.user("alice");
            var bob = certs.user("bob");
            var aliceClient = new FlockerClient(api, alice);
            assertThat(aliceClient.version()).isNotBlank();
            assertThat(new FlockerClient(api, bob).version()).isNotBlank();

            var node = NodeId.random();
            var channel = AgentChannel.connect(URI.create("wss://127.0.0.1:" + service.agentPort() + "/v1/agent"), certs.node(node), v -> { });
            channel.report(new NodeState(node, "10.9.6.1", "era", List.of(), List.of(), List.of(), "pool"));
            channel.firstView().get(10, TimeUnit.SECONDS);

            assertThat(certs.ca().revoke(certs.dir(), Pem.certificate(alice.certificate()))).isTrue();
            assertThat(certs.ca().revoke(certs.dir(), Pem.certificate(alice.certificate()))).as("revoking twice changes nothing").isFalse();
            assertThat(certs.ca().revoke(certs.dir(), Pem.certificate(certs.node(node).certificate()))).isTrue();

            // The same client (its connection opened before the revocation) and a new one are both refused, with the reason.
            assertThatThrownBy(aliceClient::version).isInstanceOf(FlockerApiException.class).hasMessageContaining("revoked");
            assertThatThrownBy(() -> new FlockerClient(api, alice).version()).isInstanceOf(FlockerApiException.class)
                    .hasMessageContaining("refused this client's certificate: it was revoked")
                    .satisfies(e -> assertThat(((FlockerApiException) e).status()).isEqualTo(403));
            assertThat(new FlockerClient(api, bob).version()).as("others are still served").isNotBlank();

            // The node's open channel is closed at its next message, saying why; a new one is refused in the handshake.
            channel.ping();
            assertThat(channel.closed().get(10, TimeUnit.SECONDS)).contains("revoked");
            assertThatThrownBy(() -> AgentChannel.connect(URI.create("wss://127.0.0.1:" + service.agentPort() + "/v1/agent"),
                    certs.node(node), v -> { })).isInstanceOf(RuntimeException.class);

            // A list that is not the CA's refuses everyone until it is put right.
            var list = certs.dir().resolve(RevocationList.FILE);
            var good = Files.readString(list);
            Files.writeString(list, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
            assertThatThrownBy(() -> new FlockerClient(api, bob).version()).isInstanceOf(FlockerApiException.class);
            Files.writeString(list, good);
            assertThat(new FlockerClient(api, bob).version()).isNotBlank();
        }
    }

    @Test
    void clientsRefuseAControlServiceWhoseCertificateWasRevoked() throws Exception {
        var certs = ClusterCertificates.in(dir.resolve("certs"), "revocation", List.of("127.0.0.1"));
        var settings = new ControlService.Settings(dir.resolve("data"), "127.0.0.1", 0, 0, RunningService.freePort(), List.of(),
                Duration.ofSeconds(30), Duration.ofMillis(100), certs.control());
        try (var service = ControlService.start(settings)) {
            var api = URI.create("https://127.0.0.1:" + service.apiPort());
            var carol = certs.user("carol");
            // Carol's directory: her files and the cluster's, with the revocation list that names the (stolen) control certificate.
            var mine = Files.createDirectories(dir.resolve("carol"));
            Files.copy(carol.ca(), mine.resolve("cluster.crt"));
            var files = new TlsFiles(mine.resolve("cluster.crt"), carol.certificate(), carol.key());
            assertThat(new FlockerClient(api, files).version()).isNotBlank();
            certs.ca().revoke(mine, Pem.certificate(certs.control().certificate()));
            assertThatThrownBy(() -> new FlockerClient(api, files).version()).isInstanceOf(FlockerApiException.class)
                    .hasMessageContaining("refused the control service").hasMessageContaining("control-service")
                    .hasMessageContaining("was revoked");
        }
    }
}
