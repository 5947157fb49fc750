package dev.flocker.agent.plan;

import dev.flocker.api.model.DatasetId;
import dev.flocker.volume.Volume;
import java.util.Map;

/**
 * What discovery found on this host: every dataset of the volume backend and every container this agent manages.
 * Rebuilt from ZFS and Docker on every loop, never remembered.
 */
public record LocalState(Map<DatasetId, Volume> volumes, Map<String, LocalContainer> containers) {
    public static final LocalState EMPTY = new LocalState(Map.of(), Map.of());

    public LocalState {
        volumes = Map.copyOf(volumes);
        containers = Map.copyOf(containers);
    }

    /**
     * A managed container, as its labels describe it.
     *
     * @param configHash {@link ApplicationHash} of the application it was started from
     * @param volume     the dataset bound into it, or null
     * @param address    its address on this host's container network (where the routing proxy sends its clients), or
     *                   null when it is not running
     */
    public record LocalContainer(String name, String configHash, boolean running, DatasetId volume, String address) {
    }
}
