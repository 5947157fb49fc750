package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettingsTest {
    private static ControlService.Settings settings(String bind, int port, List<String> peers) {
        return new ControlService.Settings(Path.of("/tmp/x"), bind, 4523, 4524, port, peers, Duration.ofSeconds(30), Duration.ofMillis(200),
                dev.flocker.api.tls.TlsFiles.in(Path.of("/tmp/x"), "control-service"));
    }

    @Test
    void replicasCountsDistinctPeersAndThisReplicaOnce() {
        assertThat(settings("127.0.0.1", 5701, List.of()).replicas()).isEqualTo(1);
        assertThat(settings("127.0.0.1", 5701, List.of("127.0.0.1:5702", "127.0.0.1:5703")).replicas()).isEqualTo(3);
        assertThat(settings("127.0.0.1", 5701, List.of("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703")).replicas()).isEqualTo(3);
        assertThat(settings("0.0.0.0", 5701, List.of("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5702")).replicas()).isEqualTo(2);
        assertThat(settings("127.0.0.1", 5701, List.of("127.0.0.1:5801")).replicas()).isEqualTo(2);
    }
}
