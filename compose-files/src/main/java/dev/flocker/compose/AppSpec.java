package dev.flocker.compose;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import java.util.List;
import java.util.Map;

/**
 * One application as an application file describes it, before it is placed on a node.
 *
 * @param volume null when the application has no volume
 */
public record AppSpec(String name, String image, List<Application.Port> ports, Map<String, String> environment,
                      Application.RestartPolicy restartPolicy, List<String> commandLine, Integer cpuShares, Long memoryLimit,
                      List<LinkSpec> links, VolumeSpec volume) {

    /** A volume: where it is mounted, its size limit (null = none), and its dataset (null = derived from the name). */
    public record VolumeSpec(String mountpoint, Long maximumSize, DatasetId datasetId) {
    }

    /**
     * A link: native files give the ports; Fig files name the target application (and the ports come from it).
     *
     * @param target the linked application's name (Fig), or null (native)
     */
    public record LinkSpec(String alias, Integer localPort, Integer remotePort, String target) {
    }
}
