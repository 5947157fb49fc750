package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.agent.plan.LocalState;
import dev.flocker.agent.plan.Plan;
import dev.flocker.agent.plan.Planner;
import dev.flocker.agent.plan.Routes;
import dev.flocker.agent.plan.Wait;
import dev.flocker.api.client.AgentChannel;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.model.NodeState.MoveState;
import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsException;
import dev.flocker.plugin.PluginHttpServer;
import dev.flocker.plugin.VolumePlugin;
import dev.flocker.proxy.KernelForwarding;
import dev.flocker.proxy.Route;
import dev.flocker.proxy.RoutingProxy;
import dev.flocker.volume.Volume;
import dev.flocker.volume.transfer.DatasetShipper;
import dev.flocker.volume.transfer.Peer;
import dev.flocker.volume.transfer.SshConnections;
import dev.flocker.volume.zfs.ZfsConfig;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The convergence agent of one host: discover (ZFS, Docker) -> plan (pure) -> execute -> report, on every push from
 * the control service and otherwise every {@link AgentConfig#interval()}.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final Duration PING_EVERY = Duration.ofSeconds(5);
    private static final int MAX_EAGER_LOOPS = 5;
    private static final long HANDOFF_POLL_MILLIS = 50;

    private final AgentConfig config;
    private final NodeId self;
    private final String era;
    private final ZfsVolumeDriver driver;
    private final SshConnections ssh;
    private final Containers containers;
    private final Mover mover;
    private final java.net.Inet4Address address; // node.address
    private final RoutingProxy proxy;
    private final Set<DatasetId> handingOff = ConcurrentHashMap.newKeySet();
    private volatile Set<InetAddress> peers = Set.of();
    private volatile Configuration lastConfiguration;
    private volatile boolean handoffComing;
    private final Semaphore wake = new Semaphore(0);
    private final Map<DatasetId, String> errors = new HashMap<>();
    private volatile AgentChannel channel;
    private volatile boolean stopping;
    private volatile NodeState lastReport;
    private volatile Instant lastPing = Instant.EPOCH;
    private Thread loop;
    private Thread connector;
    private VolumePlugin plugin;
    private PluginHttpServer pluginServer;

    private Agent(AgentConfig config) {
        this.config = config;
        this.self = certifiedNodeId(config);
        this.era = era(self);
        this.driver = ZfsVolumeDriver.open(new ZfsConfig(config.pool(), config.mountRoot(), config.poolFile(), config.poolSize()));
        byte[] key;
        try {
            key = Files.readAllBytes(config.sshIdentity());
        } catch (IOException e) {
            throw new AgentConfig.ConfigException("ssh.identity " + config.sshIdentity() + " cannot be read: " + e.getMessage());
        }
        this.ssh = new SshConnections(key, Duration.ofSeconds(10));
        this.containers = new Containers(config.dockerHost(), config.address(), config.stopTimeout());
        var knownHosts = new KnownHosts(config.knownHosts());
        this.mover = new Mover(self, driver, new DatasetShipper(driver, ssh), ssh, containers,
                p -> new Peer(p.host(), config.sshPort(), config.sshUser(), knownHosts.keyFor(p.host()), p.datasetRoot()),
                config, this::wake);
        this.address = hostAddress(config);
        // Chains named after this node, so two agents sharing a network namespace (never in production) keep apart.
        var kernel = config.proxy().kernelForwarding() ? KernelForwarding.open(kernelTag(self), address).orElse(null) : null;
        this.proxy = new RoutingProxy(address, config.proxy(), source -> peers.contains(source), kernel);
        mover.setHook(new Mover.HandoffHook() {
            @Override
            public void handoffStarting(DatasetId dataset, NodeId to) {
                // Hold new connections before the application stops, so none reaches a stopping container.
                handingOff.add(dataset);
                for (var port : portsUsing(dataset)) {
                    proxy.route(port, Route.hold("handoff to " + to));
                }
            }

            @Override
            public void handoffEnded(DatasetId dataset, NodeId to, boolean succeeded) {
                handingOff.remove(dataset);
                wake();
            }
        });
    }

    /** External ports of the applications configured with {@code dataset} as their volume. */
    private List<Integer> portsUsing(DatasetId dataset) {
        var configuration = lastConfiguration;
        if (configuration == null) {
            return List.of();
        }
        return configuration.applications().values().stream()
                .filter(app -> app.usesDataset(dataset))
                .flatMap(app -> app.ports().stream().map(p -> p.external())).toList();
    }

    /** Starts the agent: it connects to the control service (and keeps reconnecting), converges and serves Docker. */
    public static Agent start(AgentConfig config) {
        var agent = new Agent(config);
        if (config.plugin() != null) {
            agent.startPlugin(config.plugin());
        }
        agent.connector = Thread.ofPlatform().name("agent-channel").daemon().start(agent::keepConnected);
        agent.loop = Thread.ofPlatform().name("agent-loop").start(agent::runLoop);
        LOG.atInfo().addKeyValue("node", agent.self).addKeyValue("address", config.address())
                .addKeyValue("control", config.controlHost() + ":" + config.controlPort()).log("agent started");
        return agent;
    }

    private void startPlugin(AgentConfig.Plugin settings) {
        dev.flocker.api.client.FlockerClient api;
        try {
            api = new dev.flocker.api.client.FlockerClient(URI.create("https://" + config.controlHost() + ":" + settings.apiPort()),
                    config.pluginTls());
        } catch (TlsException e) {
            throw new AgentConfig.ConfigException("tls (the Docker plugin's certificate): " + e.getMessage());
        }
        plugin = new VolumePlugin(api, self, settings.settings(), config.statePath().resolve("docker-mounts.json"),
                () -> containers.volumesInUse(settings.name()));
        try {
            pluginServer = PluginHttpServer.start(settings.listen(), plugin);
        } catch (IOException e) {
            plugin.close();
            throw new AgentConfig.ConfigException("plugin.listen " + settings.listen() + ": cannot listen: " + e.getMessage());
        }
        LOG.atInfo().addKeyValue("listen", settings.listen()).addKeyValue("api", api).log("Docker volume plugin serving");
        Thread.ofVirtual().name("plugin-announce").start(() -> keepAnnounced(settings.name()));
    }

    /** Keeps this host's dockerd listing the plugin (again after each restart of dockerd), for Swarm's scheduler. */
    private void keepAnnounced(String driver) {
        boolean announced = false;
        while (!stopping) {
            try {
                boolean now = containers.announceVolumeDriver(driver);
                if (now != announced) {
                    LOG.atInfo().addKeyValue("driver", driver).log(now ? "dockerd lists the volume plugin" : "dockerd does not list the volume plugin yet");
                }
                announced = now;
            } catch (RuntimeException e) {
                announced = false;
                LOG.atDebug().log("cannot check dockerd's volume plugins: " + rootMessage(e));
            }
            sleep(announced ? 5000 : 1000);
        }
    }

    public NodeId nodeId() {
        return self;
    }

    public Mover mover() {
        return mover;
    }

    void wake() {
        wake.release();
    }

    private void keepConnected() {
        var uri = URI.create("wss://" + config.controlHost() + ":" + config.controlPort() + "/v1/agent");
        long backoff = 200;
        while (!stopping) {
            try {
                var connected = AgentChannel.connect(uri, config.tls(), view -> wake());
                channel = connected;
                lastReport = null; // a new connection (maybe another replica) gets the full state
                backoff = 200;
                LOG.atInfo().addKeyValue("control", uri).log("connected to the control service");
                wake();
                var reason = connected.closed().join();
                LOG.atWarn().addKeyValue("reason", reason).log("lost the control service; reconnecting");
            } catch (RuntimeException e) {
                LOG.atWarn().addKeyValue("control", uri).log("cannot reach the control service: " + rootMessage(e));
            }
            channel = null;
            sleep(backoff);
            backoff = Math.min(backoff * 2, 5000);
        }
    }

    private void runLoop() {
        int streak = 0;
        while (!stopping) {
            try {
                if (streak == 0) {
                    // While a move to this host is handing over, look at ZFS often: ownership lands in this host's copy
                    // (over SSH from the old owner) before the control service can say so, and the wait is outage.
                    wake.tryAcquire(handoffComing ? HANDOFF_POLL_MILLIS : config.interval().toMillis(), TimeUnit.MILLISECONDS);
                }
                wake.drainPermits();
                if (!stopping) {
                    // Changes that worked often enable the next ones (a copy made writable lets its application start,
                    // which is the outage of a move): plan again at once rather than wait, a few loops in a row at most.
                    streak = converge() && streak < MAX_EAGER_LOOPS ? streak + 1 : 0;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                streak = 0;
                LOG.atWarn().setCause(e).log("convergence loop failed; trying again");
                sleep(500);
            }
        }
    }

    /** One loop: discover, plan, execute, report. True when it applied changes and none failed. */
    boolean converge() {
        long started = System.nanoTime();
        var current = channel;
        var view = current == null ? null : current.view();
        var local = discover();
        List<Wait> waits = List.of();
        boolean progressed = false;
        if (view != null) {
            lastConfiguration = view.configuration();
            handoffComing = view.clusterState().moves().stream().anyMatch(m -> self.equals(m.to()) && "handoff".equals(m.phase()));
            var plan = Planner.plan(new Planner.Input(self, view.configuration(), view.clusterState(), local, mover.active(), Instant.now()));
            mover.retain(plan.moves());
            if (!plan.steps().isEmpty()) {
                progressed = execute(plan);
                local = discover();
            }
            waits = plan.waits();
            peers = view.clusterState().nodes().values().stream().filter(n -> !n.uuid().equals(self)).map(n -> address(n.host()))
                    .filter(java.util.Objects::nonNull).collect(java.util.stream.Collectors.toUnmodifiableSet());
            proxy.update(Routes.of(self, view.configuration(), view.clusterState(), local, handingOff));
        }
        report(current, local, waits);
        // Read by the move benchmark (MoveOutageBenchmark) to time the steady-state loop.
        LOG.atDebug().addKeyValue("ms", (System.nanoTime() - started) / 1_000_000).addKeyValue("datasets", local.volumes().size())
                .log("loop done");
        return progressed;
    }

    private LocalState discover() {
        var volumes = new HashMap<DatasetId, Volume>();
        driver.list().forEach(v -> volumes.put(v.id(), v));
        return new LocalState(volumes, containers.list());
    }

    /** Applies the plan's steps in order, each step's changes in parallel; true when every change succeeded. */
    private boolean execute(Plan plan) {
        boolean allApplied = true;
        var failed = new java.util.HashSet<DatasetId>();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var step : plan.steps()) {
                var running = new ArrayList<Map.Entry<Change, Future<?>>>();
                for (var change : step) {
                    if (change.dataset() != null && failed.contains(change.dataset())) {
                        // e.g. never start an application on a copy that could not be made writable
                        LOG.atWarn().addKeyValue("change", change).log("skipped: an earlier change of its dataset failed");
                        allApplied = false;
                        continue;
                    }
                    running.add(Map.entry(change, executor.submit(() -> apply(change))));
                }
                for (var entry : running) {
                    try {
                        entry.getValue().get();
                        if (entry.getKey().dataset() != null) {
                            errors.remove(entry.getKey().dataset());
                        }
                    } catch (java.util.concurrent.ExecutionException e) {
                        allApplied = false;
                        var change = entry.getKey();
                        if (change.dataset() != null) {
                            failed.add(change.dataset());
                        }
                        var message = rootMessage(e.getCause());
                        LOG.atWarn().addKeyValue("change", change).log("change failed: " + message);
                        if (change.dataset() != null) {
                            errors.put(change.dataset(), change.getClass().getSimpleName() + " failed: " + message);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
            }
        }
        return allApplied;
    }

    private void apply(Change change) {
        LOG.atInfo().addKeyValue("change", change).log("applying");
        switch (change) {
            case Change.CreateDataset c -> driver.create(c.dataset(), c.maximumSize(), self);
            case Change.ResizeDataset c -> driver.resize(c.dataset(), c.maximumSize());
            case Change.MakeWritable c -> driver.makeWritable(c.dataset());
            case Change.MakeReplica c -> {
                containers.stopUsing(c.dataset());
                driver.makeReplica(c.dataset());
            }
            case Change.DeleteDataset c -> driver.destroy(c.dataset());
            case Change.CompleteHandoff c -> mover.completeHandoff(c);
            case Change.StartApplication c -> containers.start(c.application(), c.volume(), volumePath(c.volume()));
            case Change.RestartApplication c -> {
                containers.stop(c.application().name());
                containers.start(c.application(), c.volume(), volumePath(c.volume()));
            }
            case Change.StopApplication c -> containers.stop(c.name());
            case Change.MoveDataset c -> throw new IllegalStateException("moves run in the background, not in a step: " + c);
        }
    }

    private Path volumePath(DatasetId dataset) {
        return dataset == null ? null : driver.mountpoint(dataset);
    }

    private void report(AgentChannel current, LocalState local, List<Wait> waits) {
        var datasets = local.volumes().values().stream()
                .map(v -> new NodeState.DatasetState(v.id(), self.equals(v.owner()),
                        v.mounted() && !v.readOnly() ? String.valueOf(v.mountpoint()) : null, v.maximumSize(), v.generation()))
                .sorted(java.util.Comparator.comparing(d -> d.datasetId().toString())).toList();
        var apps = local.containers().values().stream()
                .map(c -> new NodeState.ApplicationState(c.name(), null, c.running(), null))
                .sorted(java.util.Comparator.comparing(NodeState.ApplicationState::name)).toList();
        var moves = new ArrayList<MoveState>();
        for (var move : mover.states()) {
            moves.add(move.phase().equals("done") ? withHoldTime(move) : move);
        }
        for (var wait : waits) {
            if (moves.stream().noneMatch(m -> m.datasetId().equals(wait.dataset()))) {
                moves.add(new MoveState(wait.dataset(), wait.from(), wait.to(), "waiting", 0, 0, 0, null, wait.reason()));
            }
        }
        errors.forEach((dataset, error) -> {
            if (moves.stream().noneMatch(m -> m.datasetId().equals(dataset))) {
                moves.add(new MoveState(dataset, self, null, "error", 0, 0, 0, null, error));
            }
        });
        var state = new NodeState(self, config.address(), era, datasets, apps, moves, config.pool(), busyPorts());
        if (current == null) {
            return;
        }
        try {
            if (!state.equals(lastReport)) {
                current.report(state);
                lastReport = state;
                lastPing = Instant.now();
            } else if (lastPing.plus(PING_EVERY).isBefore(Instant.now())) {
                current.ping();
                lastPing = Instant.now();
            }
        } catch (RuntimeException e) {
            LOG.atWarn().log("reporting to the control service failed: " + rootMessage(e));
        }
    }

    /** Ports other programs listen on at this host's address (not this agent's proxy): no application may take them. */
    private List<Integer> busyPorts() {
        try {
            var busy = new java.util.TreeSet<>(ListeningPorts.at(address));
            busy.removeAll(proxy.listening());
            return List.copyOf(busy);
        } catch (IOException | RuntimeException e) {
            LOG.atWarn().log("cannot read this host's listening ports: " + e.getMessage());
            return List.of();
        }
    }

    /** Adds how long this host's proxy held the moved application's connections to a finished move's detail. */
    private MoveState withHoldTime(MoveState move) {
        var held = portsUsing(move.datasetId()).stream().map(proxy::stats).flatMap(java.util.Optional::stream)
                .filter(stats -> stats.lastHoldMillis() >= 0).findFirst();
        if (held.isEmpty()) {
            return move;
        }
        var stats = held.get();
        return new MoveState(move.datasetId(), move.from(), move.to(), move.phase(), move.bytes(), move.expectedBytes(), move.bytesPerSecond(),
                move.etaSeconds(), move.detail() + "; connections held " + stats.lastHoldMillis() + " ms here (" + stats.lastReleased()
                + " released)");
    }

    private static InetAddress address(String host) {
        try {
            return host == null ? null : InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    /** The tag of this node's kernel forwarding chains (FLOCKER-&lt;tag&gt;): the first 12 hex digits of its UUID. */
    static String kernelTag(NodeId node) {
        return node.toString().replace("-", "").substring(0, 12);
    }

    /**
     * Removes the kernel forwarding rules this host's agents leave behind when they stop (for a host leaving the
     * cluster); returns the chain removed, or empty when iptables cannot be used here.
     */
    static java.util.Optional<String> removeKernelRules(AgentConfig config) {
        var node = certifiedNodeId(config);
        try (var kernel = KernelForwarding.open(kernelTag(node), hostAddress(config)).orElse(null)) {
            return java.util.Optional.ofNullable(kernel).map(KernelForwarding::chain);
        }
    }

    private static java.net.Inet4Address hostAddress(AgentConfig config) {
        try {
            return ListeningPorts.ipv4(config.address());
        } catch (IllegalArgumentException e) {
            throw new AgentConfig.ConfigException("node.address " + config.address() + " is not an address: " + e.getMessage());
        }
    }

    /** The node's identity is its certificate's (node-&lt;uuid&gt;); a configured node.uuid must agree with it. */
    private static NodeId certifiedNodeId(AgentConfig config) {
        Identity identity;
        try {
            identity = config.tls().identity();
            config.tls().context();
        } catch (TlsException | IllegalArgumentException e) {
            throw new AgentConfig.ConfigException("tls: " + e.getMessage());
        }
        if (identity.role() != Identity.Role.NODE) {
            throw new AgentConfig.ConfigException("tls.node_cert " + config.tls().certificate() + " is " + identity
                    + "'s certificate, not a node's (make one with flocker-ca create-node-certificate)");
        }
        var node = identity.node();
        if (config.nodeId() != null && !config.nodeId().equals(node)) {
            throw new AgentConfig.ConfigException("node.uuid " + config.nodeId() + " differs from the node certificate's " + node
                    + "; remove node.uuid or use that node's certificate");
        }
        remember(config.statePath(), node);
        return node;
    }

    /** Keeps the node's identity beside its state too, for operators and tools that look there. */
    private static void remember(Path statePath, NodeId node) {
        try {
            Files.createDirectories(statePath);
            var tmp = statePath.resolve("node.uuid.tmp");
            Files.writeString(tmp, node + "\n");
            Files.move(tmp, statePath.resolve("node.uuid"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AgentConfig.ConfigException("node.state_path " + statePath + ": cannot keep the node's identity there: " + e.getMessage());
        }
    }

    /** Changes when the host boots (Flocker's era): the kernel's boot id, per node. */
    private static String era(NodeId self) {
        try {
            var boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
            return UUID.nameUUIDFromBytes((boot + "/" + self).getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
        } catch (IOException e) {
            return UUID.randomUUID().toString();
        }
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stopping = true;
        wake();
        var current = channel;
        if (current != null) {
            current.close();
        }
        if (loop != null) {
            try {
                loop.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pluginServer != null) {
            pluginServer.close();
            plugin.close();
        }
        ssh.close();
        containers.close();
        proxy.closeLeavingKernelRules(); // the apps here stay reachable at this host's address until the agent is back
    }
}
