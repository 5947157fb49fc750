package dev.flocker.compose;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DockerOptions;
import dev.flocker.api.model.DatasetId;
import java.util.List;
import java.util.Map;

/**
 * One application as an application file describes it, before it is placed on a node.
 *
 * @param volumes    its volumes, in order (Flocker's native and Fig files have at most one)
 * @param entrypoint null for the image's
 * @param init       null for the default (an init process)
 * @param dependsOn  by application name (a Compose service's {@code container_name} when it has one)
 */
public record AppSpec(String name, String image, List<Application.Port> ports, Map<String, String> environment,
                      Application.RestartPolicy restartPolicy, List<String> commandLine, Integer cpuShares, Long memoryLimit,
                      List<LinkSpec> links, List<VolumeSpec> volumes, List<String> entrypoint, Boolean init, Application.HealthCheck healthcheck,
                      List<Application.Dependency> dependsOn, Double cpus, DockerOptions docker) {

    /** An application with Flocker's settings only (native and Fig files). */
    public AppSpec(String name, String image, List<Application.Port> ports, Map<String, String> environment,
                   Application.RestartPolicy restartPolicy, List<String> commandLine, Integer cpuShares, Long memoryLimit,
                   List<LinkSpec> links, VolumeSpec volume) {
        this(name, image, ports, environment, restartPolicy, commandLine, cpuShares, memoryLimit, links,
                volume == null ? List.of() : List.of(volume), null, null, null, List.of(), null, null);
    }

    /**
     * A volume: where it is mounted, its size limit (null = none), and its dataset (null = derived from the name).
     *
     * @param name     a Compose named volume's name (its dataset is shared by every service that names it), or null
     * @param external the named volume is an existing dataset of that name, never created here
     * @param readOnly mounted read-only into the container
     */
    /** @param replicas standby copies asked for (beyond Flocker), or null when the file does not say (an existing dataset keeps its own) */
    public record VolumeSpec(String mountpoint, Long maximumSize, DatasetId datasetId, String name, boolean external, boolean readOnly,
                             Integer replicas) {
        public VolumeSpec(String mountpoint, Long maximumSize, DatasetId datasetId, String name, boolean external, boolean readOnly) {
            this(mountpoint, maximumSize, datasetId, name, external, readOnly, null);
        }

        public VolumeSpec(String mountpoint, Long maximumSize, DatasetId datasetId) {
            this(mountpoint, maximumSize, datasetId, null, false, false);
        }

        public VolumeSpec withReplicas(Integer count) {
            return new VolumeSpec(mountpoint, maximumSize, datasetId, name, external, readOnly, count);
        }
    }

    /**
     * A link: native files give the ports; Fig files name the target application (and the ports come from it).
     *
     * @param target the linked application's name (Fig), or null (native)
     */
    public record LinkSpec(String alias, Integer localPort, Integer remotePort, String target) {
    }
}
