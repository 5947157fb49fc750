package dev.flocker.volume;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A dataset as the backend shows it now.
 *
 * @param maximumSize the size limit in bytes, or null for none
 * @param mountpoint  where it is (or would be) mounted, or null when it has none (replicas)
 * @param owner       the node recorded as owner, or null when none was recorded
 * @param generation  the handoff generation recorded with the data (0 when none)
 * @param snapshots   oldest first
 */
public record Volume(DatasetId id, long usedBytes, long referencedBytes, Long maximumSize, Path mountpoint,
                     boolean mounted, boolean readOnly, NodeId owner, long generation, List<Snapshot> snapshots) {
    public Volume {
        snapshots = snapshots.stream().sorted(Comparator.comparingLong(Snapshot::createTxg)).toList();
    }

    public Optional<Snapshot> latestSnapshot() {
        return snapshots.isEmpty() ? Optional.empty() : Optional.of(snapshots.get(snapshots.size() - 1));
    }

    public Optional<Snapshot> snapshot(String name) {
        return snapshots.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
