package dev.flocker.volume;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the agent needs from a volume backend: datasets with a size limit, ownership kept with the data,
 * snapshots, and snapshot streams to ship between hosts. Every method is idempotent where that makes
 * sense, and derives what it reports from the backend alone, never from memory.
 */
public interface VolumeDriver {

    /** Creates a writable, mounted dataset owned by {@code owner}; fails if it exists. {@code maximumSize} null = no limit. */
    Volume create(DatasetId id, Long maximumSize, NodeId owner);

    /** Changes the size limit; refuses to go below the space the dataset uses. */
    Volume resize(DatasetId id, Long maximumSize);

    /** Destroys the dataset and its snapshots; nothing to do when it does not exist. */
    void destroy(DatasetId id);

    /** Every dataset of this driver with its properties and snapshots, read in one backend call. */
    List<Volume> list();

    Optional<Volume> get(DatasetId id);

    /** Takes a snapshot whose name sorts after every earlier one of this driver. */
    default Snapshot snapshot(DatasetId id) {
        return snapshotAndGet(id).latestSnapshot().orElseThrow();
    }

    /**
     * Takes a snapshot as {@link #snapshot} does and returns the dataset as it is then, the new snapshot its newest: one
     * backend call fewer than taking it and listing the dataset apart (a handoff's final increment waits for both).
     */
    default Volume snapshotAndGet(DatasetId id) {
        return snapshotAndGet(id, SnapshotName.next());
    }

    /**
     * {@link #snapshotAndGet(DatasetId)} under a name from {@link SnapshotName#next()} chosen beforehand: a push starts the
     * peer's receive, whose command names the snapshot, while the snapshot is taken.
     */
    Volume snapshotAndGet(DatasetId id, String name);

    /** Records who owns the dataset and the handoff generation, in the backend itself. */
    void setOwner(DatasetId id, NodeId owner, long generation);

    /** Makes the dataset the writable copy: mounted read-write at its mountpoint. */
    Volume makeWritable(DatasetId id);

    /**
     * Makes the mounted dataset read-only where it is mounted, changing nothing else: from here on nothing on this host
     * writes it. The fence of a handoff, before its final snapshot. It waits while a file is open for writing (briefly,
     * then fails); the copy stays mounted, read-only, until it is made a replica or writable again. Nothing to do when it
     * is not mounted.
     */
    void freeze(DatasetId id);

    /**
     * Gives a replica that is about to become this host's writable copy its mountpoint, without mounting it, and lets it
     * be mounted read-write: making it writable is then a mount, which only an explicit one does (received increments do
     * not mount it either). Its owner is still another host, so nothing here mounts it before the handoff.
     */
    void prepareMount(DatasetId id);

    /**
     * Makes the dataset a replica: unmounted and read-only, ready to receive increments. A former writable copy keeps its
     * mountpoint, but only an explicit mount mounts it.
     */
    Volume makeReplica(DatasetId id);

    /**
     * Renames the dataset aside, out of this driver's datasets, unmounted and read-only with all its snapshots, as
     * {@code <id>.<label>-<time>}; returns its new full name. Nothing is destroyed.
     */
    String setAside(DatasetId id, String label);

    /** The full names of the copies set aside, oldest first. */
    List<String> setAside();

    /** Destroys this driver's snapshots except the newest {@code keepNewest} and those named in {@code keep}. */
    List<String> pruneSnapshots(DatasetId id, Set<String> keep, int keepNewest);

    /** Starts a stream of {@code snapshot}, incremental from {@code base} when given. */
    SendStream send(DatasetId id, Optional<Snapshot> base, Snapshot snapshot);

    /** Receives a stream into the dataset (creating it on a full stream); a failed receive leaves it at its last snapshot. */
    void receive(DatasetId id, InputStream stream);

    /** Where a writable dataset is mounted. */
    Path mountpoint(DatasetId id);
}
