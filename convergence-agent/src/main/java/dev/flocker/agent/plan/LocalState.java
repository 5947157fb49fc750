package dev.flocker.agent.plan;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.util.Map;

/**
 * What discovery found on this host: every dataset of the volume backend and every container this agent manages.
 * Read from ZFS and Docker on every loop (a loop that only waits for a handoff's arrival reads the arriving datasets
 * and takes the rest from the loop before). The planner's own values: it knows nothing of ZFS.
 */
public record LocalState(Map<DatasetId, LocalDataset> datasets, Map<String, LocalContainer> containers, java.util.Set<String> images) {
    public static final LocalState EMPTY = new LocalState(Map.of(), Map.of());

    /** @param images the content ids ({@code sha256:...}) of the images this host's Docker holds */
    public LocalState {
        datasets = Map.copyOf(datasets);
        containers = Map.copyOf(containers);
        images = java.util.Set.copyOf(images);
    }

    public LocalState(Map<DatasetId, LocalDataset> datasets, Map<String, LocalContainer> containers) {
        this(datasets, containers, java.util.Set.of());
    }

    /**
     * A dataset's copy on this host, as the backend shows it.
     *
     * @param maximumSize the size limit in bytes, or null for none
     * @param mountpoint  where it is mounted (or would be), or null when it has none (replicas, until one the configuration wants here is prepared)
     * @param owner       the node recorded with the data as its owner, or null when none was recorded
     * @param generation  the handoff generation recorded with the data (0 when none)
     * @param usedBytes   what its data takes (ZFS's referenced bytes: snapshots not counted), what a full copy sends
     * @param snapshotTime when the newest of this project's snapshots of it was taken, or null when it has none
     * @param snapshots   how many of this project's snapshots it has
     */
    public record LocalDataset(DatasetId id, Long maximumSize, String mountpoint, boolean mounted, boolean readOnly, NodeId owner,
                               long generation, long usedBytes, java.time.Instant snapshotTime, int snapshots) {
        public LocalDataset(DatasetId id, Long maximumSize, String mountpoint, boolean mounted, boolean readOnly, NodeId owner,
                            long generation, long usedBytes) {
            this(id, maximumSize, mountpoint, mounted, readOnly, owner, generation, usedBytes, null, 0);
        }

        /** Mounted read-write: applications can write it. */
        public boolean writable() {
            return mounted && !readOnly;
        }
    }

    /**
     * A managed container, as its labels describe it.
     *
     * @param configHash {@link ApplicationHash} of the application it was started from
     * @param volumes    the datasets bound into it, in the application's order (empty when none)
     * @param address    its address on this host's container network (where the routing proxy sends its clients), or
     *                   null when it is not running, unless it was made and joins a running network sandbox (then the
     *                   address it will listen at)
     * @param health     Docker's health status ("starting", "healthy", "unhealthy"), or null when it has no health check
     * @param created    made and never started (Docker's "created"): an application moving here, made during the pre-copy
     *                   so that the handoff only has to start it
     */
    public record LocalContainer(String name, String configHash, boolean running, java.util.List<DatasetId> volumes, String address,
                                 String health, boolean created) {
        public LocalContainer {
            volumes = volumes == null ? java.util.List.of() : java.util.List.copyOf(volumes);
        }

        public LocalContainer(String name, String configHash, boolean running, java.util.List<DatasetId> volumes, String address,
                              String health) {
            this(name, configHash, running, volumes, address, health, false);
        }

        /** A container with one dataset, or none (null). */
        public LocalContainer(String name, String configHash, boolean running, DatasetId volume, String address, String health) {
            this(name, configHash, running, volume == null ? java.util.List.of() : java.util.List.of(volume), address, health);
        }

        public LocalContainer(String name, String configHash, boolean running, DatasetId volume, String address) {
            this(name, configHash, running, volume, address, null);
        }

        /** Whether {@code dataset} is bound into it. */
        public boolean uses(DatasetId dataset) {
            return volumes.contains(dataset);
        }

        /** Running, and past its health check's start when it has one: where clients may be sent. */
        public boolean ready() {
            return running && !"starting".equals(health);
        }
    }
}
