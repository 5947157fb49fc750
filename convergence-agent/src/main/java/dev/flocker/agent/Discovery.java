package dev.flocker.agent;

import dev.flocker.agent.plan.LocalState;
import dev.flocker.api.model.DatasetId;
import dev.flocker.volume.SnapshotName;
import dev.flocker.volume.VolumeDriver;
import java.util.HashMap;

/**
 * Reads this host as it is now: every dataset of the volume backend, every container this agent manages, and, when
 * asked, the ids of the images its Docker holds.
 */
record Discovery(VolumeDriver driver, Containers containers) {

    /** @param withImages whether to list Docker's images too (else the state has none) */
    LocalState now(boolean withImages) {
        // Docker's list and ZFS's are independent: read both at once (each loop's, and a handoff's target's, wait).
        var listing = containersNow();
        var datasets = new HashMap<DatasetId, LocalState.LocalDataset>();
        for (var v : driver.list()) {
            datasets.put(v.id(), local(v));
        }
        return new LocalState(datasets, Agent.result(listing, "listing containers"), withImages ? containers.imageIds() : java.util.Set.of());
    }

    /**
     * This host as {@code earlier} showed it, but for the datasets {@code ids} and the containers, read now: one small
     * {@code zfs get} per dataset instead of the whole pool's (~0.9 ms a dataset in zfs-fuse), for a loop that only looks
     * for a handoff's arrival ({@link ConvergenceLoop}). The images are {@code earlier}'s.
     */
    LocalState refreshed(LocalState earlier, java.util.Collection<DatasetId> ids) {
        var listing = containersNow();
        var datasets = new HashMap<>(earlier.datasets());
        for (var id : ids) {
            driver.get(id).ifPresentOrElse(v -> datasets.put(id, local(v)), () -> datasets.remove(id));
        }
        return new LocalState(datasets, Agent.result(listing, "listing containers"), earlier.images());
    }

    private java.util.concurrent.FutureTask<java.util.Map<String, LocalState.LocalContainer>> containersNow() {
        var listing = new java.util.concurrent.FutureTask<>(containers::list);
        Thread.ofVirtual().name("discovery-containers").start(listing);
        return listing;
    }

    private static LocalState.LocalDataset local(dev.flocker.volume.Volume v) {
        var ours = v.snapshots().stream().filter(s -> SnapshotName.isOurs(s.name())).toList();
        var newest = ours.isEmpty() ? null : SnapshotName.time(ours.get(ours.size() - 1).name());
        return new LocalState.LocalDataset(v.id(), v.maximumSize(), v.mountpoint() == null ? null : v.mountpoint().toString(),
                v.mounted(), v.readOnly(), v.owner(), v.generation(), v.referencedBytes(), newest, ours.size());
    }
}
