package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica whose Hazelcast member stops by itself stops serving (and its process exits), rather than answer from a frozen copy. */
@Tag("integration")
class MemberStoppedTest {
    private static final String DATASETS = "/v1/configuration/datasets";

    @Test
    void aReplicaWhoseClusterMemberStopsByItselfStopsServing(@TempDir Path data) throws Exception {
        try (var running = RunningService.start(data, Duration.ofSeconds(30))) {
            assertThat(running.call("GET", DATASETS, null).status()).isEqualTo(200);
            // What Hazelcast's own OutOfMemoryError handler does to a member, without this replica asking.
            running.service.hazelcast().getLifecycleService().terminate();
            running.service.memberStopped().get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> running.call("GET", DATASETS, null)).hasCauseInstanceOf(ConnectException.class);
        }
    }

    @Test
    void aReplicaClosedOnPurposeDoesNotSayItsMemberStoppedByItself(@TempDir Path data) throws Exception {
        var running = RunningService.start(data, Duration.ofSeconds(30));
        running.close();
        assertThat(running.service.hazelcast().getLifecycleService().isRunning()).isFalse();
        Thread.sleep(500);
        assertThat(running.service.memberStopped()).isNotDone();
    }
}
