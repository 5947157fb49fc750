package dev.flocker.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.client.FlockerClient.DatasetStateView;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState.MoveState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;
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
    /** Docker's own rule for volume names; anonymous volumes are 64 hex digits, which it also allows. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}");
    private static final int MAX_METADATA = 16;
    private static final int MAX_TEXT = 256;

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
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ReentrantLock mountsLock = new ReentrantLock();
    private final ScheduledExecutorService renewer;
    private final Supplier<Set<String>> inUse;
    /** When each volume was last mounted here (a mount in progress may not have a running container yet). */
    private final Map<String, Long> lastMount = new ConcurrentHashMap<>();
    /** Volumes with mounts that no running container used at the last check. */
    private final Set<String> unaccounted = ConcurrentHashMap.newKeySet();

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
        this.api = api;
        this.self = self;
        this.settings = settings;
        this.inUse = inUse;
        this.mounts = new Mounts(mountsFile);
        this.renewer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("plugin-leases").daemon().factory());
        long every = Math.max(1000, settings.leaseDuration().toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::renewLeases, 0, every, TimeUnit.MILLISECONDS);
    }

    /** A request Docker may not repeat as is: the text goes back in {@code Err}. */
    static final class PluginError extends RuntimeException {
        PluginError(String message) {
            super(message);
        }
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
                case "/VolumeDriver.Create" -> create(name(request), options(request));
                case "/VolumeDriver.Remove" -> remove(name(request));
                case "/VolumeDriver.Mount" -> mount(name(request), id(request));
                case "/VolumeDriver.Unmount" -> unmount(name(request), id(request));
                case "/VolumeDriver.Path" -> path(name(request));
                case "/VolumeDriver.Get" -> get(name(request));
                case "/VolumeDriver.List" -> list();
                default -> null;
            };
        } catch (PluginError e) {
            LOG.atInfo().addKeyValue("call", path).addKeyValue("volume", request.path("Name").asText()).log("refused: " + e.getMessage());
            return ok(Map.of("Err", e.getMessage()));
        } catch (FlockerApiException e) {
            LOG.atWarn().addKeyValue("call", path).addKeyValue("volume", request.path("Name").asText()).log("control service: " + e.getMessage());
            return ok(Map.of("Err", "the control service refused or failed: " + e.description()));
        }
        if (answer == null) {
            return new PluginHttpServer.Reply(404, PluginHttpServer.errJson(path + " is not part of the volume plugin protocol"));
        }
        var withErr = new LinkedHashMap<String, Object>();
        withErr.put("Err", "");
        withErr.putAll(answer);
        return ok(withErr);
    }

    private static PluginHttpServer.Reply ok(Map<String, Object> json) {
        return new PluginHttpServer.Reply(200, Json.write(json));
    }

    private static String name(JsonNode request) {
        var name = request.get("Name");
        if (name == null || !name.isTextual() || name.asText().isEmpty()) {
            throw new PluginError("the request needs \"Name\", the volume's name");
        }
        if (!NAME.matcher(name.asText()).matches()) {
            throw new PluginError("volume name '" + abbreviate(name.asText()) + "' is invalid: use 1-255 of [a-zA-Z0-9_.-], starting with a letter or digit");
        }
        return name.asText();
    }

    private static String id(JsonNode request) {
        var id = request.get("ID");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            throw new PluginError("the request needs \"ID\", the caller's mount ID (Docker 1.12 or newer sends it)");
        }
        if (id.asText().length() > MAX_TEXT) {
            throw new PluginError("ID is longer than " + MAX_TEXT + " characters");
        }
        return id.asText();
    }

    private static Map<String, String> options(JsonNode request) {
        var opts = request.get("Opts");
        var result = new TreeMap<String, String>();
        if (opts == null || opts.isNull()) {
            return result;
        }
        if (!opts.isObject()) {
            throw new PluginError("\"Opts\" must be an object of option names to text values");
        }
        for (var field : (Iterable<Map.Entry<String, JsonNode>>) opts::fields) {
            if (!field.getValue().isTextual()) {
                throw new PluginError("option '" + abbreviate(field.getKey()) + "' must have a text value");
            }
            result.put(field.getKey(), field.getValue().asText());
        }
        return result;
    }

    private static String abbreviate(String text) {
        return text.length() > 64 ? text.substring(0, 64) + "..." : text;
    }

    // ---- the calls ---------------------------------------------------------------------------------------------------

    private Map<String, Object> create(String name, Map<String, String> options) {
        Long size = null;
        var metadata = new TreeMap<String, String>();
        for (var option : options.entrySet()) {
            var key = option.getKey();
            if (key.equals("size")) {
                try {
                    size = VolumeSize.parse(option.getValue());
                } catch (IllegalArgumentException e) {
                    throw new PluginError("option " + e.getMessage());
                }
            } else if (key.equals("name")) {
                throw new PluginError("option 'name' is reserved: the volume's name is its name");
            } else if (key.isEmpty() || key.length() > MAX_TEXT || option.getValue().length() > MAX_TEXT) {
                throw new PluginError("option '" + abbreviate(key) + "': names and values are 1-" + MAX_TEXT + " characters");
            } else {
                metadata.put(key, option.getValue());
            }
        }
        metadata.put("name", name);
        if (metadata.size() > MAX_METADATA) {
            throw new PluginError("too many options (" + (metadata.size() - 1) + "); a volume keeps at most " + (MAX_METADATA - 1)
                    + " besides size");
        }
        Long maximumSize = size;
        var created = api.conditionally(seen -> {
            if (seen.value().stream().anyMatch(d -> !d.deleted() && name.equals(d.name()))) {
                return FlockerClient.nothing(); // Swarm creates on every node it schedules to: one volume, one dataset
            }
            return tag -> api.createDataset(self, maximumSize, metadata, null, tag);
        });
        if (created != null) {
            LOG.atInfo().addKeyValue("volume", name).addKeyValue("dataset", created.datasetId()).log("created");
        }
        return Map.of();
    }

    private Map<String, Object> remove(String name) {
        return underLock(name, () -> {
            var dataset = find(name);
            int here = mountCount(name);
            if (here > 0) {
                throw new PluginError("volume " + name + " is in use on this host by " + here + " mount(s); remove the containers using it first");
            }
            api.leaseHolder(dataset.datasetId()).ifPresent(holder -> {
                throw new PluginError("volume " + name + " is in use on " + describe(holder) + "; remove the containers using it there first");
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
            if (mountCount(name) > 0) {
                var path = localPath(datasetId);
                if (path.isPresent()) {
                    addMount(name, datasetId, id);
                    return Map.of("Mountpoint", path.get());
                }
            }
            long deadline = System.nanoTime() + settings.mountTimeout().toNanos();
            acquireLease(name, datasetId, deadline);
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
                var path = awaitHere(name, datasetId, dataset.primary(), deadline);
                addMount(name, datasetId, id);
                mounted = true;
                return Map.of("Mountpoint", path);
            } finally {
                if (!mounted && mountCount(name) == 0) {
                    releaseLease(name, datasetId); // Docker never unmounts a failed mount
                }
            }
        });
    }

    private Map<String, Object> unmount(String name, String id) {
        return underLock(name, () -> {
            DatasetId datasetId;
            mountsLock.lock();
            try {
                var entry = mounts.all().get(name);
                datasetId = entry == null ? null : entry.datasetId();
                if (!mounts.remove(name, id)) {
                    LOG.atWarn().addKeyValue("volume", name).addKeyValue("id", id).log("Unmount of a mount this host does not know; ignored");
                    return Map.of();
                }
            } finally {
                mountsLock.unlock();
            }
            LOG.atInfo().addKeyValue("volume", name).addKeyValue("id", id).addKeyValue("left", mountCount(name)).log("unmounted");
            if (mountCount(name) == 0) {
                releaseLease(name, datasetId);
            }
            return Map.of();
        });
    }

    private Map<String, Object> path(String name) {
        var dataset = find(name);
        var path = localPath(dataset.datasetId());
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
        volume.put("Mountpoint", localPath(dataset.datasetId(), states).orElse(""));
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
                    volume.put("Mountpoint", localPath(d.datasetId(), states).orElse(""));
                    volumes.add(volume);
                });
        return Map.of("Volumes", volumes);
    }

    /** What {@code docker volume inspect} shows under Status: where the volume is, who holds it, a move's progress. */
    private Map<String, Object> status(Dataset dataset, List<DatasetStateView> states) {
        var status = new LinkedHashMap<String, Object>();
        var id = dataset.datasetId();
        status.put("dataset_id", id.toString());
        var nodes = nodes();
        status.put("wanted_on", describe(dataset.primary(), nodes));
        var state = states.stream().filter(s -> s.datasetId().equals(id)).findFirst();
        status.put("writable_on", state.map(DatasetStateView::primary).map(n -> describe(n, nodes)).orElse("nowhere yet"));
        status.put("maximum_size", dataset.maximumSize() == null ? "unlimited" : String.valueOf(dataset.maximumSize()));
        api.leaseHolder(id).ifPresent(holder -> status.put("in_use_on", describe(holder, nodes)));
        int here = mountCount(dataset.name());
        if (here > 0) {
            status.put("mounts_here", here);
        }
        state.map(DatasetStateView::move).ifPresent(move -> status.put("move", progress(move, nodes)));
        dataset.metadata().forEach((key, value) -> {
            if (!key.equals("name")) {
                status.put("option." + key, value);
            }
        });
        return status;
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    private interface Call {
        Map<String, Object> run();
    }

    private Map<String, Object> underLock(String name, Call call) {
        var lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
        lock.lock();
        try {
            return call.run();
        } finally {
            lock.unlock();
        }
    }

    private int mountCount(String name) {
        mountsLock.lock();
        try {
            return mounts.count(name);
        } finally {
            mountsLock.unlock();
        }
    }

    private void addMount(String name, DatasetId dataset, String id) {
        lastMount.put(name, System.nanoTime());
        mountsLock.lock();
        try {
            mounts.add(name, dataset, id);
        } finally {
            mountsLock.unlock();
        }
        LOG.atInfo().addKeyValue("volume", name).addKeyValue("id", id).addKeyValue("mounts", mountCount(name)).log("mounted");
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

    /** Takes the lease for this host, waiting a while for another host to give it back. */
    private void acquireLease(String name, DatasetId dataset, long deadline) {
        long leaseDeadline = Math.min(deadline, System.nanoTime() + settings.leaseWait().toNanos());
        while (true) {
            try {
                api.acquireLease(dataset, self, (double) settings.leaseDuration().toSeconds());
                return;
            } catch (FlockerApiException e) {
                if (e.status() != 409) {
                    throw e;
                }
            }
            if (System.nanoTime() > leaseDeadline) {
                var holder = api.leaseHolder(dataset);
                throw new PluginError("volume " + name + " is in use on " + holder.map(this::describe).orElse("another host")
                        + "; a Flocker volume is writable on one host at a time, so it can be mounted here once the containers using it"
                        + " there stop (waited " + settings.leaseWait().toSeconds() + " s)");
            }
            sleep(Math.max(settings.poll().toMillis(), 250));
        }
    }

    private void releaseLease(String name, DatasetId dataset) {
        if (dataset == null) {
            return;
        }
        try {
            api.releaseLease(dataset);
        } catch (FlockerApiException e) {
            if (e.status() != 404) {
                LOG.atWarn().addKeyValue("volume", name).log("cannot release the lease (it expires by itself in "
                        + settings.leaseDuration().toSeconds() + " s): " + e.getMessage());
            }
        }
    }

    private Map<String, Mounts.Entry> heldMounts() {
        mountsLock.lock();
        try {
            return mounts.all();
        } finally {
            mountsLock.unlock();
        }
    }

    /** Renews the leases of the volumes mounted here, so they last while the containers run and lapse if this host dies. */
    private void renewLeases() {
        forgetLostMounts();
        for (var entry : heldMounts().entrySet()) {
            try {
                api.acquireLease(entry.getValue().datasetId(), self, (double) settings.leaseDuration().toSeconds());
            } catch (RuntimeException e) {
                LOG.atWarn().addKeyValue("volume", entry.getKey()).log("cannot renew the lease of a mounted volume: " + e.getMessage());
            }
        }
    }

    /**
     * Forgets the mounts of a volume that no live container on this host has used at two checks in a row, and
     * gives its lease back: what dockerd leaves when it dies with containers running.
     */
    private void forgetLostMounts() {
        if (inUse == null) {
            return;
        }
        var held = heldMounts();
        if (held.isEmpty()) {
            unaccounted.clear();
            return;
        }
        Set<String> used;
        try {
            used = inUse.get();
        } catch (RuntimeException e) {
            LOG.atDebug().log("cannot ask dockerd which volumes are in use: " + e.getMessage());
            return; // dockerd down or restarting: ask again next time
        }
        long now = System.nanoTime();
        for (var entry : held.entrySet()) {
            var name = entry.getKey();
            boolean recent = lastMount.containsKey(name) && now - lastMount.get(name) < settings.mountGrace().toNanos();
            if (used.contains(name) || recent) {
                unaccounted.remove(name);
            } else if (!unaccounted.add(name)) {
                underLock(name, () -> {
                    int forgotten;
                    mountsLock.lock();
                    try {
                        forgotten = mounts.clear(name);
                    } finally {
                        mountsLock.unlock();
                    }
                    unaccounted.remove(name);
                    LOG.atWarn().addKeyValue("volume", name).addKeyValue("mounts", forgotten)
                            .log("no running container on this host uses the volume any more, yet dockerd never unmounted it"
                                    + " (it restarted?); forgetting its mounts and giving its lease back");
                    releaseLease(name, entry.getValue().datasetId());
                    return Map.of();
                });
            }
        }
    }

    /** Waits until this host reports the dataset writable and mounted; an error that says what blocks it otherwise. */
    private String awaitHere(String name, DatasetId dataset, NodeId wasOn, long deadline) {
        while (true) {
            var states = api.datasetState();
            var path = localPath(dataset, states);
            if (path.isPresent()) {
                return path.get();
            }
            if (System.nanoTime() > deadline) {
                throw new PluginError("volume " + name + " did not reach this host within " + settings.mountTimeout().toSeconds() + " s: "
                        + blocking(dataset, wasOn, states) + "; the move goes on, so mounting again later may succeed");
            }
            sleep(settings.poll().toMillis());
        }
    }

    private String blocking(DatasetId dataset, NodeId wasOn, List<DatasetStateView> states) {
        var state = states.stream().filter(s -> s.datasetId().equals(dataset)).findFirst();
        var move = state.map(DatasetStateView::move);
        var nodes = nodes();
        if (move.isPresent()) {
            return progress(move.get(), nodes);
        }
        var holder = state.map(DatasetStateView::primary).orElse(wasOn);
        if (nodes != null && nodes.stream().noneMatch(n -> n.uuid().equals(holder))) {
            return "the host that has it, node " + holder + ", is not reporting (down, unreachable, or its agent stopped)";
        }
        if (holder.equals(self)) {
            return "this host's agent has not mounted it yet (see its log)";
        }
        return "no move has started yet (is the agent of " + describe(holder, nodes) + " running?)";
    }

    private String progress(MoveState move, List<FlockerClient.NodeView> nodes) {
        var text = new StringBuilder(move.phase().json()).append(" from ").append(describe(move.from(), nodes));
        if (move.expectedBytes() > 0) {
            text.append(String.format(java.util.Locale.ROOT, ": %.1f MiB of %.1f MiB copied (%d%%)", move.bytes() / 1048576.0, move.expectedBytes() / 1048576.0,
                    Math.min(100, move.bytes() * 100 / move.expectedBytes())));
        }
        if (move.etaSeconds() != null) {
            text.append(String.format(java.util.Locale.ROOT, ", about %.0f s left", move.etaSeconds()));
        }
        if (move.detail() != null && !move.detail().isEmpty()) {
            text.append(" (").append(move.detail()).append(')');
        }
        return text.toString();
    }

    private Optional<String> localPath(DatasetId dataset) {
        return localPath(dataset, api.datasetState());
    }

    private Optional<String> localPath(DatasetId dataset, List<DatasetStateView> states) {
        return states.stream().filter(s -> s.datasetId().equals(dataset) && self.equals(s.primary()) && s.path() != null)
                .map(DatasetStateView::path).findFirst();
    }

    /** A node as "node <uuid> (<address>)", for messages an operator acts on. */
    private String describe(NodeId node) {
        return describe(node, nodes());
    }

    /** As {@link #describe(NodeId)}, with the reporting nodes already read (null: unknown). */
    private String describe(NodeId node, List<FlockerClient.NodeView> nodes) {
        if (node == null) {
            return "no node";
        }
        if (node.equals(self)) {
            return "this host (node " + node + ")";
        }
        if (nodes == null) {
            return "node " + node;
        }
        var host = nodes.stream().filter(n -> n.uuid().equals(node)).map(FlockerClient.NodeView::host).findFirst();
        return "node " + node + host.map(h -> " (" + h + ")").orElse(" (not reporting)");
    }

    /** The nodes that report, or null when the control service cannot say (messages then omit addresses). */
    private List<FlockerClient.NodeView> nodes() {
        try {
            return api.nodes();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PluginError("interrupted");
        }
    }

    @Override
    public void close() {
        renewer.shutdownNow();
    }
}
