package dev.flocker.compose;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns an application file and a deployment file into the cluster's desired configuration, as Flocker's
 * {@code flocker-deploy} did: the listed applications replace all others, each on its node; an application's
 * volume becomes a dataset whose primary is that node (so changing the node moves the data); datasets are
 * never deleted by a deployment.
 */
public final class Deployment {
    private Deployment() {
    }

    public static Configuration apply(Configuration current, ClusterState cluster, Map<String, AppSpec> apps,
                                      Map<String, List<String>> placement) {
        var placed = new LinkedHashMap<String, NodeId>();
        placement.forEach((address, names) -> {
            var node = cluster.nodeByHost(address)
                    .orElseThrow(() -> new ConfigurationError("No known node with address " + address + "."));
            for (var name : names) {
                if (!apps.containsKey(name)) {
                    throw new ConfigurationError("Node " + address + " has a config error. Unrecognised application name: " + name + ".");
                }
                placed.put(name, node.uuid());
            }
        });
        var applications = new ArrayList<Application>();
        var datasets = new ArrayList<Dataset>();
        var usedPorts = new java.util.HashMap<Integer, String>();
        var problems = new ArrayList<String>();
        for (var entry : placed.entrySet()) {
            var spec = apps.get(entry.getKey());
            try {
                place(current, apps, spec, entry.getValue(), usedPorts, datasets, applications);
            } catch (IllegalArgumentException | ArithmeticException e) {
                // What the model's records refuse (an image, an environment name, a mountpoint...) is the file's problem.
                problems.add("Application '" + spec.name() + "' has a config error. " + e.getMessage());
            } catch (ConfigurationError e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw ConfigurationError.of(problems);
        }
        return current.withDeployment(datasets, applications);
    }

    private static void place(Configuration current, Map<String, AppSpec> apps, AppSpec spec, NodeId node, Map<Integer, String> usedPorts,
                              List<Dataset> datasets, List<Application> applications) {
        {
            for (var port : spec.ports()) {
                var other = usedPorts.put(port.external(), spec.name());
                if (other != null) {
                    throw new ConfigurationError("Application '" + spec.name() + "' has a config error. External port " + port.external()
                            + " is also used by '" + other + "'.");
                }
            }
            var volumes = new ArrayList<Application.Volume>();
            if (spec.volume() != null) {
                var id = spec.volume().datasetId() != null ? spec.volume().datasetId() : datasetIdFor(spec.name());
                var existing = current.dataset(id);
                Long size = spec.volume().maximumSize() != null ? Long.valueOf(roundUp(spec.volume().maximumSize()))
                        : existing.map(Dataset::maximumSize).orElse(null);
                var metadata = existing.map(Dataset::metadata).orElse(Map.of("name", spec.name()));
                datasets.add(new Dataset(id, node, false, metadata, size));
                volumes.add(new Application.Volume(id, spec.volume().mountpoint()));
            }
            var links = new ArrayList<Application.Link>();
            for (var link : spec.links()) {
                if (link.target() == null) {
                    links.add(new Application.Link(link.alias(), link.localPort(), link.remotePort()));
                } else {
                    for (var port : apps.get(link.target()).ports()) {
                        links.add(new Application.Link(link.alias(), port.internal(), port.external()));
                    }
                }
            }
            var application = new Application(node, spec.name(), spec.image(), spec.ports(), spec.environment(), spec.restartPolicy(),
                    spec.commandLine(), volumes, spec.cpuShares(), spec.memoryLimit(), links);
            applications.add(new Application(node, application.name(), application.imageWithTag(), application.ports(),
                    application.environment(), application.restartPolicy(), application.commandLine(), application.volumes(),
                    application.cpuShares(), application.memoryLimit(), application.links()));
        }
    }

    /** Flocker's default dataset id for an application's volume: a version-4 UUID made from md5(name). */
    public static DatasetId datasetIdFor(String applicationName) {
        try {
            var digest = MessageDigest.getInstance("MD5").digest(applicationName.getBytes(StandardCharsets.UTF_8));
            digest[6] = (byte) ((digest[6] & 0x0f) | 0x40);
            digest[8] = (byte) ((digest[8] & 0x3f) | 0x80);
            long msb = 0;
            long lsb = 0;
            for (int i = 0; i < 8; i++) {
                msb = (msb << 8) | (digest[i] & 0xff);
                lsb = (lsb << 8) | (digest[8 + i] & 0xff);
            }
            return DatasetId.of(new UUID(msb, lsb).toString());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Dataset sizes must be multiples of 1024 and at least 64 MiB. */
    private static long roundUp(long bytes) {
        long rounded = (bytes + 1023) / 1024 * 1024;
        if (rounded < Dataset.MIN_SIZE) {
            throw new ConfigurationError("maximum_size " + bytes + " is below the minimum of " + Dataset.MIN_SIZE + " bytes (64M).");
        }
        return rounded;
    }
}
