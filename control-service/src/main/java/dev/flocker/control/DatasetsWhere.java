package dev.flocker.control;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The ids of a configuration's datasets that match a predicate (tombstones, datasets with standbys), kept from one
 * version to the next from the changes between them ({@code changed(from, to)}: the store's record of recent changes),
 * so that a task run every second over a few of 100,000 datasets costs what they cost, not a walk over all of them
 * (on three replicas at 100,000 datasets, the housekeeping and failover walks were a tenth of a replica's samples). The
 * whole configuration is walked again when the changes between are not known (a restart, a reload, a rewind).
 */
final class DatasetsWhere {
    /** The changes from one version to another, or null when they are not known. */
    interface Changes {
        Set<DatasetId> between(long from, long to);
    }

    private final Predicate<Dataset> predicate;
    private final Changes changes;
    private Configuration last;
    private Set<DatasetId> ids = new HashSet<>();
    private long walks;

    DatasetsWhere(Predicate<Dataset> predicate, Changes changes) {
        this.predicate = predicate;
        this.changes = changes;
    }

    /** The ids of {@code config}'s datasets that match; a set of its own, which the caller may keep. */
    synchronized Set<DatasetId> in(Configuration config) {
        if (config == last) {
            return Set.copyOf(ids);
        }
        // Another configuration at the same version or an older one: the register was rewound; walk it.
        var changed = last == null || config.version() <= last.version() ? null : changes.between(last.version(), config.version());
        if (changed == null) {
            ids = new HashSet<>();
            config.datasets().values().stream().filter(predicate).forEach(d -> ids.add(d.datasetId()));
            walks++;
        } else {
            for (var id : changed) {
                var dataset = config.datasets().get(id);
                if (dataset != null && predicate.test(dataset)) {
                    ids.add(id);
                } else {
                    ids.remove(id);
                }
            }
        }
        last = config;
        return Set.copyOf(ids);
    }

    /** How many times the whole configuration was walked (tests). */
    synchronized long walks() {
        return walks;
    }
}
