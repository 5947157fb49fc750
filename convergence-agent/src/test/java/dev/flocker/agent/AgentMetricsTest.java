package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.agent.plan.LocalState;
import dev.flocker.api.model.DatasetId;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Each dataset's gauges follow the host's datasets loop after loop, and a scrape never misses a dataset that stays
 * (a ProxyMoveTest run once scraped at the moment its gauge was being re-registered, and found it gone).
 */
class AgentMetricsTest {
    static final DatasetId D = DatasetId.random();

    static LocalState with(long used, Long maximum) {
        return new LocalState(Map.of(D, new LocalState.LocalDataset(D, maximum, null, false, true, null, 1, used)), Map.of());
    }

    @Test
    void aDatasetsGaugesFollowItAndGoWithIt() {
        try (var metrics = AgentMetrics.start(null)) {
            metrics.datasets(with(1 << 20, 1L << 30));
            assertThat(metrics.scrape()).contains("flocker_dataset_used_bytes{dataset=\"" + D + "\"} 1048576.0")
                    .contains("flocker_dataset_maximum_bytes{dataset=\"" + D + "\"} 1.073741824E9");
            metrics.datasets(with(2 << 20, null));
            assertThat(metrics.scrape()).contains("flocker_dataset_used_bytes{dataset=\"" + D + "\"} 2097152.0")
                    .doesNotContain("flocker_dataset_maximum_bytes{dataset=\"" + D + "\"}");
            metrics.datasets(LocalState.EMPTY);
            assertThat(metrics.scrape()).doesNotContain(D.toString());
        }
    }

    @Test
    void aScrapeWhileLoopsUpdateTheGaugesAlwaysSeesTheDataset() throws Exception {
        try (var metrics = AgentMetrics.start(null)) {
            metrics.datasets(with(1 << 20, 1L << 30));
            var stop = new AtomicBoolean();
            var loops = new AtomicInteger();
            var updater = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    metrics.datasets(with((1 << 20) + loops.incrementAndGet(), 1L << 30));
                }
            });
            try {
                for (int i = 0; i < 300; i++) {
                    assertThat(metrics.scrape()).as("scrape %d", i).contains("flocker_dataset_used_bytes{dataset=\"" + D + "\"}");
                }
            } finally {
                stop.set(true);
                updater.join();
            }
            assertThat(loops.get()).isPositive();
        }
    }
}
