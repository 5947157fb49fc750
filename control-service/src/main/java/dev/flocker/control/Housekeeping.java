package dev.flocker.control;

import dev.flocker.control.store.ConfigurationStore;
import dev.flocker.control.store.NodeStateStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Periodic tidying of the configuration, safe on every replica at once (each change is a compare-and-set):
 * expired leases are dropped, and a deleted dataset's tombstone is dropped once no live node reports
 * holding it any more, so its id and name can be used again.
 */
final class Housekeeping {
    private static final Instant STARTED = Instant.now();

    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final Clock clock;
    private final Duration nodeExpiry;

    Housekeeping(ConfigurationStore configuration, NodeStateStore state, Clock clock, Duration nodeExpiry) {
        this.configuration = configuration;
        this.state = state;
        this.clock = clock;
        this.nodeExpiry = nodeExpiry;
    }

    void run() {
        var now = clock.instant();
        var current = configuration.current();
        if (current.leases().values().stream().anyMatch(l -> l.expired(now))) {
            configuration.update(null, c -> c.withoutExpiredLeases(now));
        }
        // Right after start, agents may not have reported yet: wait one expiry period before judging.
        if (now.isBefore(STARTED.plus(nodeExpiry))) {
            return;
        }
        var cluster = state.current();
        var wanted = configuration.current().datasets();
        for (var node : cluster.offline().values()) {
            if (node.datasets().stream().noneMatch(d -> wanted.containsKey(d.datasetId()))) {
                state.forgetOffline(node.uuid());
            }
        }
        for (var dataset : configuration.current().datasets().values()) {
            if (dataset.deleted() && cluster.holders(dataset.datasetId()).isEmpty()) {
                configuration.update(null, c -> c.dataset(dataset.datasetId()).filter(d -> d.deleted()).isPresent()
                        ? c.withoutDataset(dataset.datasetId()) : c);
            }
        }
    }
}
