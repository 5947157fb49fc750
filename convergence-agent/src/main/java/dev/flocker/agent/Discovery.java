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
        var listing = new java.util.concurrent.FutureTask<>(containers::list);
        Thread.ofVirtual().name("discovery-containers").start(listing);
        var datasets = new HashMap<DatasetId, LocalState.LocalDataset>();
        for (var v : driver.list()) {
            var ours = v.snapshots().stream().filter(s -> SnapshotName.isOurs(s.name())).toList();
            var newest = ours.isEmpty() ? null : SnapshotName.time(ours.get(ours.size() - 1).name());
            datasets.put(v.id(), new LocalState.LocalDataset(v.id(), v.maximumSize(), v.mountpoint() == null ? null : v.mountpoint().toString(),
                    v.mounted(), v.readOnly(), v.owner(), v.generation(), v.referencedBytes(), newest, ours.size()));
        }
        return new LocalState(datasets, Agent.result(listing, "listing containers"), withImages ? containers.imageIds() : java.util.Set.of());
    }
}
