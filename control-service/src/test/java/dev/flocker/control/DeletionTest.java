package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deleted datasets: the tombstone outlives every copy and the retention period, so a retried DELETE answers 200 and an
 * agent that created the dataset just before it was deleted learns of the deletion; names are reusable at once.
 */
@Tag("integration")
class DeletionTest {
    @TempDir
    Path data;

    @Test
    void aRetriedDeleteAnswers200LongAfterNoNodeHoldsACopyAndTheNameIsReusableAtOnce() throws Exception {
        try (var svc = RunningService.start(data, Duration.ofSeconds(1))) {
            var client = svc.client();
            var node = NodeId.random();
            var id = client.createDataset(node, null, Map.of("name", "db"), null, null).datasetId();
            var before = Instant.now();
            assertThat(svc.call("DELETE", "/v1/configuration/datasets/" + id, null).status()).isEqualTo(200);
            var again = client.createDataset(node, null, Map.of("name", "db"), null, null);
            assertThat(again.datasetId()).isNotEqualTo(id);
            // Housekeeping runs every second once the node expiry has passed; no node holds the dataset: before deletion
            // times were kept, the tombstone went here and a retried DELETE answered 404.
            Thread.sleep(3500);
            var retried = svc.call("DELETE", "/v1/configuration/datasets/" + id, null);
            assertThat(retried.status()).isEqualTo(200);
            assertThat(retried.body().get("deleted").asBoolean()).isTrue();
            var deletedAt = Instant.parse(retried.body().get("deleted_at").asText());
            assertThat(deletedAt).isBetween(before.minusSeconds(1), before.plusSeconds(2));
            assertThat(client.datasets().value().stream().filter(d -> !d.deleted() && "db".equals(d.name())).map(d -> d.datasetId()))
                    .containsExactly(again.datasetId());
            var live = svc.call("GET", "/v1/configuration/datasets", null).body();
            for (var dataset : live) {
                assertThat(dataset.has("deleted_at")).as("only deleted datasets carry deleted_at: %s", dataset)
                        .isEqualTo(dataset.get("deleted").asBoolean());
            }
        }
    }

    @Test
    void aTombstoneGoesAfterTheRetentionOnlyOnceNoNodeLiveOrOfflineReportsACopy() throws Exception {
        try (var svc = RunningService.start(data, Duration.ofSeconds(1), Duration.ofSeconds(2))) {
            var client = svc.client();
            var node = NodeId.random();
            var id = client.createDataset(node, null, Map.of(), null, null).datasetId();
            try (var agent = new AgentChannelTest.FakeAgent(svc, node)) {
                agent.report(holding(node, id));
                await("the node's copy is reported", () -> !svc.service.clusterState().holders(id).isEmpty());
                svc.call("DELETE", "/v1/configuration/datasets/" + id, null);
                Thread.sleep(3500);
                assertThat(tombstone(svc, id)).as("kept while a node reports a copy").isTrue();
                agent.report(holding(node));
                await("the tombstone goes once the copy is gone", () -> !tombstone(svc, id));
            }
            assertThat(svc.call("DELETE", "/v1/configuration/datasets/" + id, null).status()).isEqualTo(404);
        }
    }

    private static NodeState holding(NodeId node, DatasetId... ids) {
        var datasets = java.util.Arrays.stream(ids).map(id -> new NodeState.DatasetState(id, true, "/flocker/" + id, null, 0)).toList();
        return new NodeState(node, "10.9.7.1", "era", datasets, List.of(), List.of(), "pool");
    }

    private static boolean tombstone(RunningService svc, DatasetId id) {
        return svc.client().datasets().value().stream().anyMatch(d -> d.datasetId().equals(id) && d.deleted());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
