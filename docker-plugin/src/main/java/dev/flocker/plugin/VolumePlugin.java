package dev.flocker.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.client.FlockerClient.DatasetStateView;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Docker's volume plugin protocol (v1) on top of the cluster: a Docker volume is the dataset whose metadata
 * {@code name} is the volume's name. Mount brings the dataset to this host (a move with pre-copy, done by the agents)
 * and leases it here while any container mounts it, so nothing else moves or deletes it; Unmount is counted by the
 * caller's ID and gives the lease back at zero. Every answer is HTTP 200 with an {@code Err} text ("" for success),
 * as Docker expects, except malformed JSON (400) and unknown paths (404).
 */
public final class VolumePlugin implements PluginHttpServer.Handler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VolumePlugin.class);
    private static final int MAX_METADATA = 16;
    /** Metadata the plugin keeps beside the name: when the volume was created (Docker's CreatedAt), RFC 3339. */
    static final String CREATED_AT = "created_at";
    private static final int MAX_TEXT = PluginRequest.MAX_TEXT;

    /**
     * @param leaseDuration how long a lease lasts without renewal (a dead host's volumes are free again after it)
     * @param mountTimeout  how long Mount waits for the dataset to arrive (Docker gives it 2 minutes)
     * @param leaseWait     how long Mount waits for another host to unmount the volume before failing
     * @param poll          how often Mount looks at the cluster state while waiting
     * @param mountGrace    how long a mount no live container accounts for is kept anyway (a container starting, or
     *                      {@code docker cp} into a stopped one, mounts without running)
     */
    public record Settings(Duration leaseDuration, Duration mountTimeout, Duration leaseWait, Duration poll, Duration mountGrace) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(60), Duration.ofSeconds(100), Duration.ofSeconds(20),
                Duration.ofMillis(100), Duration.ofSeconds(60));
    }

    private final FlockerClient api;
    private final NodeId self;
    private final Settings settings;
    private final Mounts mounts;
    private final VolumeLocks locks = new VolumeLocks();
    private final Whereabouts where;
    private final Leases leases;

    /**
     * @param mountsFile where the mount counts are kept across restarts (null: memory only)
     */
    public VolumePlugin(FlockerClient api, NodeId self, Settings settings, Path mountsFile) {
        this(api, self, settings, mountsFile, null);
    }

    /**
     * @param inUse the names of this driver's volumes that live containers on this host's dockerd use (null: not
     *              checked). dockerd sends no Unmount for the containers it loses when it dies (not at its restart,
     *              not at {@code docker rm}): mounts no running container accounts for are forgotten, so the volume's
     *              lease does not outlive them.
     */
    public VolumePlugin(FlockerClient api, NodeId self, Settings settings, Path mountsFile, Supplier<Set<String>> inUse) {
        this(api, self, settings, mountsFile, inUse, null);
    }

    /** @param reports what this host's agent reports (null: a Mount polls the cluster's state only) */
    public VolumePlugin(FlockerClient api, NodeId self, Settings settings, Path mountsFile, Supplier<Set<String>> inUse,
                        AgentReports reports) {
        this.api = api;
        this.self = self;
        this.settings = settings;
        this.mounts = new Mounts(mountsFile);
        this.where = new Whereabouts(api, self, reports);
        this.leases = new Leases(api, self, settings, mounts, locks, inUse, where::describe);
    }

    @Override
    public PluginHttpServer.Reply handle(String method, String path, byte[] body) {
        if (!method.equals("POST")) {
            return new PluginHttpServer.Reply(405, PluginHttpServer.errJson(method + " " + path + ": the plugin protocol uses POST"));
        }
        JsonNode request;
        try {
            request = body.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return new PluginHttpServer.Reply(400, PluginHttpServer.errJson(path + ": the request is not valid JSON: "
                    + e.getOriginalMessage()));
        } catch (IOException e) {
            return new PluginHttpServer.Reply(400, PluginHttpServer.errJson(path + ": the request cannot be read: " + e.getMessage()));
        }
        if (request == null || !request.isObject()) {
            return new PluginHttpServer.Reply(400, PluginHttpServer.errJson(path + ": the request must be a JSON object"));
        }
        // One line per call, so an operator (and the tests) can see what Docker asked, in order.
        LOG.atInfo().addKeyValue("volume", request.path("Name").asText("")).addKeyValue("id", request.path("ID").asText(""))
                .log("call " + path.substring(1));
        Map<String, Object> answer;
        try {
            answer = switch (path) {
                case "/Plugin.Activate" -> Map.of("Implements", List.of("VolumeDriver"));
                case "/VolumeDriver.Capabilities" -> Map.of("Capabilities", Map.of("Scope", "global"));
                case "/VolumeDriver.Create" -> create(PluginRequest.name(request), PluginRequest.options(request));
                case "/VolumeDriver.Remove" -> remove(PluginRequest.name(request));
                case "/VolumeDriver.Mount" -> mount(PluginRequest.name(request), PluginRequest.id(request));
                case "/VolumeDriver.Unmount" -> unmount(PluginRequest.name(request), PluginRequest.id(request));
                case "/VolumeDriver.Path" -> path(PluginRequest.name(request));
                case "/VolumeDriver.Get" -> get(PluginRequest.name(request));
                case "/VolumeDriver.List" -> list();
                default -> null;
            };
        } catch (PluginError e) {
            LOG.atInfo().addKeyValue("call", path).addKeyValue("volume", request.path("Name").asText()).log("refused: " + e.getMessage());
            count(path, "refused");
            return ok(Map.of("Err", e.getMessage()));
        } catch (FlockerApiException e) {
            LOG.atWarn().addKeyValue("call", path).addKeyValue("volume", request.path("Name").asText()).log("control service: " + e.getMessage());
            count(path, "failed");
            return ok(Map.of("Err", "the control service refused or failed: " + e.description()));
        }
        if (answer == null) {
            count("unknown", "unknown");
            return new PluginHttpServer.Reply(404, PluginHttpServer.errJson(path + " is not part of the volume plugin protocol"));
        }
        count(path, "ok");
        var withErr = new LinkedHashMap<String, Object>();
        withErr.put("Err", "");
        withErr.putAll(answer);
        return ok(withErr);
    }

    /** Docker's calls by method (e.g. VolumeDriver.Mount) and outcome: ok, refused (an Err for Docker), failed, unknown. */
    private static void count(String path, String outcome) {
        io.micrometer.core.instrument.Counter.builder("flocker.plugin.calls").tag("method", path.startsWith("/") ? path.substring(1) : path)
                .tag("outcome", outcome).description("Docker volume plugin calls by method and outcome")
                .register(io.micrometer.core.instrument.Metrics.globalRegistry).increment();
    }

    private static PluginHttpServer.Reply ok(Map<String, Object> json) {
        return new PluginHttpServer.Reply(200, Json.write(json));
    }

    // ---- the calls ---------------------------------------------------------------------------------------------------

    private Map<String, Object> create(String name, Map<String, String> options) {
        Long size = null;
        int replicas = 0;
        var metadata = new TreeMap<String, String>();
        for (var option : options.entrySet()) {
            var key = option.getKey();
            if (key.equals("replicas")) {
                replicas = replicasOption(option.getValue());
            } else if (key.equals("size")) {
                try {
                    size = VolumeSize.parse(option.getValue());
                } catch (IllegalArgumentException e) {
                    throw new PluginError("option " + e.getMessage());
                }
            } else if (key.equals("name") || key.equals(CREATED_AT)) {
                throw new PluginError("option '" + key + "' is reserved: the plugin keeps the volume's " + key + " itself");
            } else if (key.isEmpty() || key.length() > MAX_TEXT || option.getValue().length() > MAX_TEXT) {
                throw new PluginError("option '" + PluginRequest.abbreviate(key) + "': names and values are 1-" + MAX_TEXT + " characters");
            } else {
                metadata.put(key, option.getValue());
            }
        }
        metadata.put("name", name);
        metadata.put(CREATED_AT, java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        if (metadata.size() > MAX_METADATA) {
            throw new PluginError("too many options (" + (metadata.size() - 2) + "); a volume keeps at most " + (MAX_METADATA - 2)
                    + " besides size");
        }
        Long maximumSize = size;
        int standbys = replicas;
        var created = api.conditionally(seen -> {
            if (seen.value().stream().anyMatch(d -> !d.deleted() && name.equals(d.name()))) {
                return FlockerClient.nothing(); // Swarm creates on every node it schedules to: one volume, one dataset
            }
            return tag -> api.createDataset(self, maximumSize, metadata, null, tag, standbys);
        });
        if (created != null) {
            LOG.atInfo().addKeyValue("volume", name).addKeyValue("dataset", created.datasetId()).log("created");
        }
        return Map.of();
    }

    /** {@code -o replicas=N}: standby copies of the volume on other nodes, kept current (0 to 4). */
    private static int replicasOption(String value) {
        try {
            int count = Integer.parseInt(value.strip());
            if (count >= 0 && count <= dev.flocker.api.model.Dataset.MAX_REPLICAS) {
                return count;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new PluginError("option replicas '" + PluginRequest.abbreviate(value) + "' must be 0 to "
                + dev.flocker.api.model.Dataset.MAX_REPLICAS + " (standby copies on other nodes)");
    }

    private Map<String, Object> remove(String name) {
        return underLock(name, () -> {
            var dataset = find(name);
            int here = mounts.count(name);
            if (here > 0) {
                throw new PluginError("volume " + name + " is in use on this host by " + here + " mount(s); remove the containers using it first");
            }
            api.leaseHolder(dataset.datasetId()).ifPresent(holder -> {
                throw new PluginError("volume " + name + " is in use on " + where.describe(holder) + "; remove the containers using it there first");
            });
            try {
                api.deleteDataset(dataset.datasetId());
            } catch (FlockerApiException e) {
                if (e.status() == 409) {
                    throw new PluginError("volume " + name + " cannot be removed: " + e.description());
                }
                throw e;
            }
            LOG.atInfo().addKeyValue("volume", name).addKeyValue("dataset", dataset.datasetId()).log("removed");
            return Map.of();
        });
    }

    private Map<String, Object> mount(String name, String id) {
        return underLock(name, () -> {
            var dataset = find(name);
            var datasetId = dataset.datasetId();
            if (mounts.count(name) > 0) {
                var path = where.localPath(datasetId);
                if (path.isPresent()) {
                    addMount(name, datasetId, id);
                    return Map.of("Mountpoint", path.get());
                }
            }
            long deadline = System.nanoTime() + settings.mountTimeout().toNanos();
            leases.acquire(name, datasetId, deadline);
            boolean mounted = false;
            try {
                if (!dataset.primary().equals(self)) {
                    LOG.atInfo().addKeyValue("volume", name).addKeyValue("dataset", datasetId).addKeyValue("from", dataset.primary())
                            .log("moving the volume here for a mount");
                    try {
                        api.moveDataset(datasetId, self);
                    } catch (FlockerApiException e) {
                        throw new PluginError("volume " + name + " cannot be moved here: " + e.description());
                    }
                }
                var path = where.awaitHere(name, datasetId, dataset.primary(), deadline, settings.mountTimeout(), settings.poll());
                addMount(name, datasetId, id);
                mounted = true;
                return Map.of("Mountpoint", path);
            } finally {
                if (!mounted && mounts.count(name) == 0) {
                    leases.release(name, datasetId); // Docker never unmounts a failed mount
                }
            }
        });
    }

    private Map<String, Object> unmount(String name, String id) {
        return underLock(name, () -> {
            var removed = mounts.remove(name, id);
            if (removed.isEmpty()) {
                LOG.atWarn().addKeyValue("volume", name).addKeyValue("id", id).log("Unmount of a mount this host does not know; ignored");
                return Map.of();
            }
            var datasetId = removed.get();
            LOG.atInfo().addKeyValue("volume", name).addKeyValue("id", id).addKeyValue("left", mounts.count(name)).log("unmounted");
            if (mounts.count(name) == 0) {
                leases.release(name, datasetId);
            }
            return Map.of();
        });
    }

    private Map<String, Object> path(String name) {
        var dataset = find(name);
        var path = where.localPath(dataset.datasetId());
        if (path.isEmpty()) {
            throw new PluginError("volume " + name + " is not on this host; it is mounted when a container here uses it");
        }
        return Map.of("Mountpoint", path.get());
    }

    private Map<String, Object> get(String name) {
        var dataset = find(name);
        var states = api.datasetState();
        var volume = new LinkedHashMap<String, Object>();
        volume.put("Name", name);
        volume.put("Mountpoint", where.localPath(dataset.datasetId(), states).orElse(""));
        createdAt(dataset).ifPresent(at -> volume.put("CreatedAt", at));
        volume.put("Status", status(dataset, states));
        return Map.of("Volume", volume);
    }

    private Map<String, Object> list() {
        var states = api.datasetState();
        var volumes = new ArrayList<Map<String, Object>>();
        api.datasets().value().stream().filter(d -> !d.deleted() && d.name() != null)
                .sorted(java.util.Comparator.comparing(Dataset::name)).forEach(d -> {
                    var volume = new LinkedHashMap<String, Object>();
                    volume.put("Name", d.name());
                    volume.put("Mountpoint", where.localPath(d.datasetId(), states).orElse(""));
                    createdAt(d).ifPresent(at -> volume.put("CreatedAt", at));
                    volumes.add(volume);
                });
        return Map.of("Volumes", volumes);
    }

    /** What {@code docker volume inspect} shows under Status: where the volume is, who holds it, a move's progress. */
    private Map<String, Object> status(Dataset dataset, List<DatasetStateView> states) {
        var status = new LinkedHashMap<String, Object>();
        var id = dataset.datasetId();
        status.put("dataset_id", id.toString());
        var nodes = where.nodes();
        status.put("wanted_on", where.describe(dataset.primary(), nodes));
        var state = states.stream().filter(s -> s.datasetId().equals(id)).findFirst();
        status.put("writable_on", state.map(DatasetStateView::primary).map(n -> where.describe(n, nodes)).orElse("nowhere yet"));
        status.put("maximum_size", dataset.maximumSize() == null ? "unlimited" : String.valueOf(dataset.maximumSize()));
        state.map(DatasetStateView::usedBytes).ifPresent(used -> status.put("used_bytes", String.valueOf(used)));
        api.leaseHolder(id).ifPresent(holder -> status.put("in_use_on", where.describe(holder, nodes)));
        int here = mounts.count(dataset.name());
        if (here > 0) {
            status.put("mounts_here", here);
        }
        state.map(DatasetStateView::move).ifPresent(move -> status.put("move", where.progress(move, nodes)));
        dataset.metadata().forEach((key, value) -> {
            if (!key.equals("name") && !key.equals(CREATED_AT)) {
                status.put("option." + key, value);
            }
        });
        return status;
    }

    /** When the plugin created the volume; volumes made through the API say nothing (Docker then shows no time). */
    private static java.util.Optional<String> createdAt(Dataset dataset) {
        return java.util.Optional.ofNullable(dataset.metadata().get(CREATED_AT));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    private Map<String, Object> underLock(String name, Supplier<Map<String, Object>> call) {
        return locks.underLock(name, call);
    }

    private void addMount(String name, DatasetId dataset, String id) {
        mounts.add(name, dataset, id);
        LOG.atInfo().addKeyValue("volume", name).addKeyValue("id", id).addKeyValue("mounts", mounts.count(name)).log("mounted");
    }

    private Dataset find(String name) {
        var named = api.datasets().value().stream().filter(d -> !d.deleted() && name.equals(d.name())).toList();
        if (named.isEmpty()) {
            throw new PluginError("no such volume: " + name);
        }
        if (named.size() > 1) {
            throw new PluginError("volume name " + name + " is ambiguous: datasets " + named.stream().map(d -> d.datasetId().toString()).toList()
                    + " all carry it; rename or delete all but one through the API");
        }
        return named.get(0);
    }

    @Override
    public void close() {
        leases.close();
    }
}
