package dev.flocker.control;

import dev.flocker.api.model.Dataset;
import dev.flocker.control.store.ConfigurationStore;
import dev.flocker.control.store.NodeStateStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Periodic tidying of the configuration, safe on every replica at once (each change is a compare-and-set):
 * expired leases are dropped, and a deleted dataset's tombstone is dropped once it is older than the retention period
 * and no node, live or offline, reports holding a copy. Until then every agent learns of the deletion (an agent that
 * created the dataset just before it was deleted destroys its copy), and a retried DELETE answers 200. A dataset's
 * name can be used again at once: lookups by name skip deleted datasets.
 */
final class Housekeeping {
    private static final Instant STARTED = Instant.now();

    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final Clock clock;
    private final Duration nodeExpiry;
    private final Duration retention;
    /** The deleted datasets (tombstones), kept from the store's changes rather than found among all datasets every second. */
    private final DatasetsWhere tombstones;

    Housekeeping(ConfigurationStore configuration, NodeStateStore state, Clock clock, Duration nodeExpiry, Duration retention) {
        this.configuration = configuration;
        this.state = state;
        this.clock = clock;
        this.nodeExpiry = nodeExpiry;
        this.retention = retention;
        this.tombstones = new DatasetsWhere(Dataset::deleted, configuration::datasetsChanged);
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
        var config = configuration.current();
        for (var id : tombstones.in(config)) {
            var dataset = config.datasets().get(id);
            if (dataset.deleted() && dataset.deletedAt() == null) {
                // A tombstone from before deletion times were kept: its retention starts now.
                configuration.update(null, c -> c.dataset(id).filter(d -> d.deleted() && d.deletedAt() == null).isPresent()
                        ? c.withDataset(c.datasets().get(id).asDeleted(now)) : c);
            } else if (dataset.deleted() && !now.isBefore(dataset.deletedAt().plus(retention)) && cluster.holders(id).isEmpty()
                    && cluster.offlineHolders(id).isEmpty()) {
                configuration.update(null, c -> c.dataset(id).filter(d -> d.deleted()).isPresent() ? c.withoutDataset(id) : c);
            }
        }
    }
}
