package dev.flocker.compose;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.Standbys;
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
        return apply(current, cluster, apps, placement, Map.of());
    }

    /**
     * As above, with the standby nodes the deployment file names for applications' volumes ({@link DeploymentFile#STANDBYS}:
     * application name to node addresses).
     */
    public static Configuration apply(Configuration current, ClusterState cluster, Map<String, AppSpec> apps,
                                      Map<String, List<String>> placement, Map<String, List<String>> standbys) {
        var placed = new LinkedHashMap<String, NodeId>();
        placement.forEach((address, names) -> {
            var node = cluster.nodeByHost(address)
                    .orElseThrow(() -> new ConfigurationError("No known node with address " + address + "."));
            for (var name : names) {
                placed.put(keyOf(apps, name).orElseThrow(() -> new ConfigurationError("Node " + address
                        + " has a config error. Unrecognised application name: " + name + ".")), node.uuid());
            }
        });
        var standbysByName = new LinkedHashMap<String, List<String>>();
        standbys.forEach((name, addresses) -> {
            var key = keyOf(apps, name).filter(placed::containsKey).orElseThrow(() -> new ConfigurationError("'" + DeploymentFile.STANDBYS
                    + "' names '" + name + "', which the deployment file places on no node."));
            standbysByName.put(apps.get(key).name(), addresses);
        });
        var problems = new ArrayList<String>();
        var shared = sharedVolumes(current, apps, placed, problems);
        checkNetworks(apps, placed, problems);
        var applications = new ArrayList<Application>();
        var datasets = new LinkedHashMap<DatasetId, Dataset>();
        var usedPorts = new java.util.HashMap<Integer, String>();
        var placedNames = placed.keySet().stream().map(key -> apps.get(key).name()).collect(java.util.stream.Collectors.toSet());
        for (var entry : placed.entrySet()) {
            var spec = apps.get(entry.getKey());
            for (var dependency : spec.dependsOn()) {
                if (!placedNames.contains(dependency.name())) {
                    problems.add("Application '" + spec.name() + "' has a config error. It depends on '" + dependency.name()
                            + "' ('depends_on'), which the deployment file places on no node: it would never start. Place both.");
                }
            }
            if (spec.volumes().stream().anyMatch(v -> v.name() != null && !shared.containsKey(v.name()))) {
                continue; // its volume's problem is reported
            }
            try {
                applications.add(place(current, cluster, apps, spec, entry.getValue(), shared, usedPorts, datasets,
                        pinnedStandbys(cluster, spec.name(), entry.getValue(), standbysByName)));
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
        return current.withDeployment(datasets.values(), applications);
    }

    /** The file's key for {@code name} in a deployment file: a service's name, or its application ({@code container_name}). */
    private static java.util.Optional<String> keyOf(Map<String, AppSpec> apps, String name) {
        if (apps.containsKey(name)) {
            return java.util.Optional.of(name);
        }
        return apps.entrySet().stream().filter(e -> e.getValue().name().equals(name)).map(Map.Entry::getKey).findFirst();
    }

    /** The applications that join one network must be placed on one node: a network is a bridge on one node. */
    private static void checkNetworks(Map<String, AppSpec> apps, Map<String, NodeId> placed, List<String> problems) {
        var members = new java.util.TreeMap<String, List<String>>();
        apps.keySet().stream().filter(placed::containsKey).forEach(key -> { // in the file's order
            var docker = apps.get(key).docker();
            if (docker != null) {
                docker.networks().keySet().forEach(network -> members.computeIfAbsent(network, n -> new ArrayList<>()).add(key));
            }
        });
        members.forEach((network, keys) -> onSeveralNodes(keys, apps, placed).ifPresent(spread -> problems.add("Application '"
                + apps.get(keys.get(0)).name() + "' has a config error. Network '" + network + "' is joined by " + spread
                + ": applications that share a network must be placed on one node (or reach each other through 'links').")));
    }

    /** When the applications of {@code keys} are placed on more than one node: each with its node, for an error. */
    private static java.util.Optional<String> onSeveralNodes(List<String> keys, Map<String, AppSpec> apps, Map<String, NodeId> placed) {
        if (keys.stream().map(placed::get).distinct().count() <= 1) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(String.join(", ", keys.stream().map(k -> apps.get(k).name() + " (node " + placed.get(k) + ")").toList()));
    }

    /**
     * The dataset of each named volume that placed applications mount: an external one is the existing dataset of that
     * name; another is its own dataset, one for all services naming it, which must then run on one node.
     */
    private static Map<String, DatasetId> sharedVolumes(Configuration current, Map<String, AppSpec> apps, Map<String, NodeId> placed,
                                                        List<String> problems) {
        var users = new LinkedHashMap<String, List<String>>();
        var declarations = new LinkedHashMap<String, AppSpec.VolumeSpec>();
        placed.keySet().forEach(key -> {
            for (var volume : apps.get(key).volumes()) {
                if (volume.name() != null) {
                    users.computeIfAbsent(volume.name(), v -> new ArrayList<>()).add(key);
                    declarations.putIfAbsent(volume.name(), volume);
                }
            }
        });
        var result = new LinkedHashMap<String, DatasetId>();
        users.forEach((name, keys) -> {
            var first = apps.get(keys.get(0));
            var spread = onSeveralNodes(keys, apps, placed);
            if (spread.isPresent()) {
                problems.add("Application '" + first.name() + "' has a config error. Volume '" + name + "' is shared by " + spread.get()
                        + ": applications that share a volume must be placed on one node.");
                return;
            }
            if (declarations.get(name).external()) {
                var existing = current.datasets().values().stream().filter(d -> !d.deleted() && name.equals(d.name())).toList();
                if (existing.size() != 1) {
                    problems.add("Application '" + first.name() + "' has a config error. External volume '" + name + "' "
                            + (existing.isEmpty() ? "is not a dataset of this cluster: create it first (Docker's 'docker volume create"
                            + " -d flocker', or the API), or drop 'external' to have it created."
                            : "names " + existing.size() + " datasets; give the one meant a unique name."));
                    return;
                }
                result.put(name, existing.get(0).datasetId());
                return;
            }
            var id = datasetIdFor("volume/" + name);
            var legacy = datasetIdFor(first.name()); // before named volumes, a service's one volume was its own dataset
            if (keys.size() == 1 && first.volumes().size() == 1 && current.dataset(id).isEmpty()
                    && current.dataset(legacy).filter(d -> !d.deleted()).isPresent()) {
                id = legacy;
            }
            result.put(name, id);
        });
        return result;
    }

    private static Application place(Configuration current, ClusterState cluster, Map<String, AppSpec> apps, AppSpec spec, NodeId node,
                                     Map<String, DatasetId> shared, Map<Integer, String> usedPorts, Map<DatasetId, Dataset> datasets,
                                     List<NodeId> pinned) {
        for (var port : spec.ports()) {
            var other = usedPorts.put(port.external(), spec.name());
            if (other != null) {
                throw new ConfigurationError("Application '" + spec.name() + "' has a config error. External port " + port.external()
                        + " is also used by '" + other + "'.");
            }
        }
        var volumes = new ArrayList<Application.Volume>();
        int anonymous = 0;
        for (var volume : spec.volumes()) {
            // A new dataset's name: the named volume's; else the application's, as Flocker named an application's one
            // volume (also when the file names its dataset_id); further anonymous ones "application:/path".
            String name;
            DatasetId id;
            if (volume.name() != null) {
                name = volume.name();
                id = shared.get(name);
            } else if (volume.datasetId() != null) {
                name = spec.name();
                id = volume.datasetId();
            } else {
                name = anonymous++ == 0 ? spec.name() : spec.name() + ":" + volume.mountpoint();
                id = datasetIdFor(name);
            }
            var existing = current.dataset(id);
            Long size = volume.maximumSize() != null ? Long.valueOf(roundUp(volume.maximumSize()))
                    : existing.map(Dataset::maximumSize).orElse(null);
            var metadata = existing.map(Dataset::metadata).orElse(Map.of("name", name));
            // An existing dataset keeps its standbys (a move to one of them swaps the two) unless the file asks otherwise.
            var dataset = existing.filter(d -> !d.deleted()).map(d -> d.withPrimary(node).withMaximumSize(size))
                    .orElse(new Dataset(id, node, false, metadata, size));
            if (volume.replicas() != null || !pinned.isEmpty()) {
                int count = volume.replicas() != null ? volume.replicas() : Math.max(dataset.replicas(), pinned.size());
                if (pinned.size() > count) {
                    throw new ConfigurationError("Application '" + spec.name() + "' has a config error. '" + DeploymentFile.STANDBYS + "' names "
                            + pinned.size() + " standby nodes but its volume asks for " + count + " standby copies ('replicas').");
                }
                var standbys = Standbys.choose(dataset, count, pinned, current, cluster);
                if (standbys.size() < count) {
                    throw new ConfigurationError("Application '" + spec.name() + "' has a config error. Its volume asks for "
                            + count + " standby copies ('replicas'), which need as many nodes besides its own; the cluster has "
                            + standbys.size() + " other node(s) reporting.");
                }
                dataset = dataset.withReplicas(count, standbys);
            }
            datasets.put(id, dataset);
            volumes.add(new Application.Volume(id, volume.mountpoint(), volume.readOnly()));
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
        return new Application(node, spec.name(), spec.image(), spec.ports(), spec.environment(), spec.restartPolicy(), spec.commandLine(),
                List.of(), spec.cpuShares(), spec.memoryLimit(), links, spec.entrypoint(), spec.init(), spec.healthcheck(), spec.dependsOn(),
                spec.cpus(), null, spec.docker()).withVolumes(volumes).withImageTagged();
    }

    /** The nodes the deployment file names as standbys of {@code application}'s volumes, checked. */
    private static List<NodeId> pinnedStandbys(ClusterState cluster, String application, NodeId node, Map<String, List<String>> standbys) {
        var pinned = new ArrayList<NodeId>();
        for (var address : standbys.getOrDefault(application, List.of())) {
            var standby = cluster.nodeByHost(address).orElseThrow(() -> new ConfigurationError("Application '" + application
                    + "' has a config error in '" + DeploymentFile.STANDBYS + "'. No known node with address " + address + "."));
            if (standby.uuid().equals(node)) {
                throw new ConfigurationError("Application '" + application + "' has a config error in '" + DeploymentFile.STANDBYS
                        + "'. " + address + " is the node it runs on; a standby is another node.");
            }
            pinned.add(standby.uuid());
        }
        return pinned;
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
