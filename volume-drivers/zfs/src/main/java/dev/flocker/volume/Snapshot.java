package dev.flocker.volume;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One snapshot of a dataset. {@code guid} identifies the snapshot's content on every host it was sent to,
 * so two hosts share a snapshot when they hold the same guid, whatever the names say.
 */
public record Snapshot(String name, String guid, long createTxg) {
    public Snapshot {
        SnapshotName.requireValidComponent(name);
    }

    /** The newest of {@code mine} (oldest first) that {@code theirs} also holds, compared by guid. */
    public static Optional<Snapshot> latestCommon(List<Snapshot> mine, Collection<Snapshot> theirs) {
        Set<String> guids = theirs.stream().map(Snapshot::guid).collect(Collectors.toSet());
        for (int i = mine.size() - 1; i >= 0; i--) {
            if (guids.contains(mine.get(i).guid())) {
                return Optional.of(mine.get(i));
            }
        }
        return Optional.empty();
    }
}
