package dev.flocker.control;

import com.hazelcast.config.Config;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import dev.flocker.api.tls.TlsFiles;
import dev.flocker.control.agents.AgentChannelServer;
import dev.flocker.control.cluster.ReplicaTunnels;
import dev.flocker.control.api.FlockerApi;
import dev.flocker.control.api.HttpApiServer;
import dev.flocker.control.store.ConfigurationLog;
import dev.flocker.control.store.ConfigurationStore;
import dev.flocker.control.store.NodeStateStore;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One control-service replica: a Hazelcast member holding the configuration and cluster state with the
 * other replicas, the HTTP API and the agents' channel. With no peers it is a complete single-replica service.
 */
public final class ControlService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlService.class);
    /** The configuration's entries (datasets, applications, leases), partitioned over the replicas. */
    static final String CONFIGURATION_MAP = "flocker-configuration";
    /** The configuration's commit register: its version and last change (one small entry). */
    static final String CONFIGURATION_HEAD_MAP = "flocker-configuration-head";
    /** Versions whose entries their writer wrote ({@link ConfigurationStore#announceWrittenOn}). */
    static final String CONFIGURATION_WRITTEN_TOPIC = "flocker-configuration-written";
    /** Each replica's HTTP API address, by Hazelcast member: where the others fetch images from. */
    static final String API_ENDPOINTS_MAP = "flocker-api-endpoints";
    static final String NODE_STATE_MAP = "flocker-node-state";
    static final String LAST_REPORTS_MAP = "flocker-last-reports";
    static final String NODE_SEEN_MAP = "flocker-node-seen";
    static final String MAJORITY = "flocker-majority";
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);

    /**
     * @param peers       other replicas' cluster addresses (host:port); empty for a single replica
     * @param clusterPort this replica's Hazelcast port
     */
    public record Settings(Path dataPath, String bindHost, int apiPort, int agentPort, int clusterPort, List<String> peers,
                           Duration nodeExpiry, Duration pushInterval, TlsFiles tls, Duration deletedRetention, String metricsBind,
                           int metricsPort, Duration failoverAfter) {
        /** How long a dataset's primary node may be silent before a standby is promoted. */
        public static final Duration FAILOVER_AFTER = Duration.ofSeconds(10);

        /** How long a deleted dataset's tombstone is kept at least (retried DELETEs answer 200 meanwhile). */
        public static final Duration DELETED_RETENTION = Duration.ofDays(1);
        /** {@link #metricsPort} when no metrics are served. */
        public static final int METRICS_OFF = -1;

        public Settings(Path dataPath, String bindHost, int apiPort, int agentPort, int clusterPort, List<String> peers,
                        Duration nodeExpiry, Duration pushInterval, TlsFiles tls) {
            this(dataPath, bindHost, apiPort, agentPort, clusterPort, peers, nodeExpiry, pushInterval, tls, DELETED_RETENTION, null, METRICS_OFF,
                    FAILOVER_AFTER);
        }

        public Settings withFailoverAfter(Duration after) {
            return new Settings(dataPath, bindHost, apiPort, agentPort, clusterPort, peers, nodeExpiry, pushInterval, tls, deletedRetention,
                    metricsBind, metricsPort, after);
        }

        public Settings withDeletedRetention(Duration retention) {
            return new Settings(dataPath, bindHost, apiPort, agentPort, clusterPort, peers, nodeExpiry, pushInterval, tls, retention,
                    metricsBind, metricsPort, failoverAfter);
        }

        /** Serves Prometheus metrics at {@code http://bind:port/metrics} (port 0: any free port). */
        public Settings withMetrics(String bind, int port) {
            return new Settings(dataPath, bindHost, apiPort, agentPort, clusterPort, peers, nodeExpiry, pushInterval, tls, deletedRetention,
                    bind, port, failoverAfter);
        }

        public Settings {
            peers = List.copyOf(peers);
            if (tls == null) {
                throw new IllegalArgumentException("the control service always uses TLS: give it its certificates");
            }
        }

        /**
         * How many replicas the cluster has: the distinct peers, plus this one unless it is listed among them
         * (operators may give every replica the same full list).
         */
        public int replicas() {
            var distinct = new java.util.LinkedHashSet<>(peers);
            boolean selfListed = distinct.stream().anyMatch(this::isSelf);
            return distinct.size() + (selfListed ? 0 : 1);
        }

        private boolean isSelf(String peer) {
            int colon = peer.lastIndexOf(':');
            if (colon < 0 || !peer.substring(colon + 1).equals(Integer.toString(clusterPort))) {
                return false;
            }
            try {
                var address = java.net.InetAddress.getByName(peer.substring(0, colon));
                if (!bindHost.equals("0.0.0.0")) {
                    return address.equals(java.net.InetAddress.getByName(bindHost));
                }
                return address.isLoopbackAddress() || java.net.NetworkInterface.getByInetAddress(address) != null;
            } catch (java.io.IOException e) {
                return false;
            }
        }

        /**
         * This replica's name as the others know it ({@code host:port}): the peer that is this host's own address and
         * cluster port, else the bind address and cluster port.
         */
        public String self() {
            var listed = peers.stream().filter(this::isSelf).findFirst();
            if (listed.isPresent()) {
                return listed.get();
            }
            if (!peers.isEmpty() && bindHost.equals("0.0.0.0")) {
                throw new IllegalArgumentException("with --peer, list this replica too (its address and --cluster-port " + clusterPort
                        + ", as the other replicas name it) or give --bind its address");
            }
            return (bindHost.equals("0.0.0.0") ? "127.0.0.1" : bindHost) + ":" + clusterPort;
        }

        /** Every replica's name, this one's included, each once. */
        public List<String> replicaNames() {
            var names = new java.util.TreeSet<>(peers);
            names.removeIf(this::isSelf);
            names.add(self());
            return List.copyOf(names);
        }

        public static Settings defaults(Path dataPath, TlsFiles tls) {
            return new Settings(dataPath, "0.0.0.0", 4523, 4524, 5701, List.of(), Duration.ofSeconds(30), Duration.ofMillis(200), tls);
        }
    }

    private final Settings settings;
    private final HazelcastInstance hazelcast;
    private final Vertx vertx;
    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final FlockerApi api;
    private final long sweeper;
    private final ReplicaTunnels tunnels;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.CompletableFuture<Void> memberStopped = new java.util.concurrent.CompletableFuture<>();
    private final ControlMetrics metrics = new ControlMetrics();
    private int apiPort;
    private int agentPort;
    private int metricsPort = Settings.METRICS_OFF;
    /** How long each step of this replica's start took (logged with "control service ready": where a slow restart goes). */
    private final StartPhases phases = new StartPhases();

    /** What the disk read gave, or its own exception (a damaged file names itself and its line). */
    private static dev.flocker.control.store.ConfigurationFile.Snapshot read(java.util.concurrent.FutureTask<dev.flocker.control.store.ConfigurationFile.Snapshot> disk) {
        try {
            return disk.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the configuration from disk", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private ControlService(Settings settings) {
        this.settings = settings;
        try {
            this.tunnels = settings.replicas() > 1
                    ? ReplicaTunnels.open(settings.self(), settings.replicaNames(), settings.bindHost(), settings.tls()) : null;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot listen on the cluster port " + settings.bindHost() + ":" + settings.clusterPort() + ": "
                    + e.getMessage(), e);
        }
        // The configuration on disk is read while the replicas find each other (at 100,000 datasets each takes seconds).
        var log = new ConfigurationLog(settings.dataPath());
        var disk = new java.util.concurrent.FutureTask<>(() -> phases.timed("disk read (beside the member's start)", log::readWithLastChange));
        Thread.ofPlatform().name("configuration-read").daemon().start(disk);
        phases.mark("tunnels");
        reuseCallbackThreads();
        try {
            this.hazelcast = Hazelcast.newHazelcastInstance(hazelcastConfig(settings));
        } catch (RuntimeException e) {
            closeTunnels();
            throw e;
        }
        phases.mark("cluster member");
        try {
            awaitMajority(hazelcast, settings.replicas());
            phases.mark("majority");
            var fromDisk = read(disk);
            phases.mark("disk read's rest");
            this.configuration = new ConfigurationStore(hazelcast.getMap(CONFIGURATION_HEAD_MAP), hazelcast.getMap(CONFIGURATION_MAP),
                    log, fromDisk);
            configuration.announceWrittenOn(hazelcast.getTopic(CONFIGURATION_WRITTEN_TOPIC));
            phases.mark(configuration.startedFromDisk() ? "configuration (seeded or kept from disk)" : "configuration (copied from the cluster)");
            this.state = new NodeStateStore(hazelcast.getMap(NODE_STATE_MAP), hazelcast.getMap(LAST_REPORTS_MAP),
                    hazelcast.getMap(NODE_SEEN_MAP), settings.nodeExpiry());
        } catch (RuntimeException e) {
            hazelcast.shutdown();
            closeTunnels();
            throw e;
        }
        // Vert.x would copy class-path files it serves into /tmp/vertx-cache-<uuid>, made at its start and removed by a
        // shutdown hook: every replica killed (kill -9, a lost host) left one. The service serves files by path only.
        this.vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setFileSystemOptions(new io.vertx.core.file.FileSystemOptions()
                .setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
        this.api = new FlockerApi(configuration, state, Clock.systemUTC(), () -> hazelcast.getCluster().getMembers().size(), metrics.registry());
        Thread.ofPlatform().name("render-at-start").daemon().start(() -> { // beside the servers' start
            try {
                api.renderAhead();
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).log("rendering the dataset list ahead failed; its first read renders it");
            }
        });
        metrics.watch(hazelcast, configuration);
        var failover = new Failover(configuration, state, Clock.systemUTC(), settings.failoverAfter());
        var housekeeping = new Housekeeping(configuration, state, Clock.systemUTC(), settings.nodeExpiry(), settings.deletedRetention());
        this.sweeper = vertx.setPeriodic(1000, id -> vertx.executeBlocking(() -> {
            housekeeping.run();
            failover.run();
            return null;
        }, false));
        hazelcast.getLifecycleService().addLifecycleListener(event -> {
            if (event.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.SHUTTING_DOWN) {
                memberStoppedByItself();
            }
        });
        if (!hazelcast.getLifecycleService().isRunning()) {
            memberStoppedByItself();
        }
    }

    /**
     * This replica's cluster member stopped without {@link #close} (Hazelcast's own handler of an OutOfMemoryError, a
     * member that could not rejoin...): its copies of the configuration and state are frozen and every write fails, so
     * it stops serving (agents and clients go to another replica) rather than answer from them; the process exits for
     * its supervisor to restart it ({@link #memberStopped}).
     */
    private void memberStoppedByItself() {
        if (closed.get()) {
            return;
        }
        LOG.atError().log("this replica's cluster member stopped by itself; the replica stops serving (see Hazelcast's log above for why)");
        Thread.ofPlatform().name("member-stopped").start(() -> {
            close();
            memberStopped.complete(null);
        });
    }

    /** Completes once this replica closed because its cluster member stopped by itself; never after {@link #close}. */
    public java.util.concurrent.CompletableFuture<Void> memberStopped() {
        return memberStopped;
    }

    /** How long each step of this replica's start took, as "step n ms, ..." in their order (the JVM's own start first). */
    public String startPhases() {
        return phases.toString();
    }

    /** The replica's cluster member, for tests. */
    HazelcastInstance hazelcast() {
        return hazelcast;
    }

    /** Starts a replica and waits until its API and agent channel listen. */
    public static ControlService start(Settings settings) {
        var service = new ControlService(settings);
        service.phases.mark("services");
        try {
            var endpoints = service.hazelcast.<String, String>getMap(API_ENDPOINTS_MAP);
            var self = service.hazelcast.getCluster().getLocalMember().getUuid().toString();
            // The other replicas' API addresses, where a replica fetches an image it was not sent itself.
            java.util.function.Supplier<List<java.net.URI>> peers = () -> {
                var members = service.hazelcast.getCluster().getMembers().stream().map(m -> m.getUuid().toString()).collect(java.util.stream.Collectors.toSet());
                return endpoints.entrySet().stream().filter(e -> !e.getKey().equals(self) && members.contains(e.getKey()))
                        .map(e -> java.net.URI.create(e.getValue())).toList();
            };
            var http = new HttpApiServer(service.vertx, service.api, service.metrics.registry(),
                    new dev.flocker.control.api.ImageStore.Settings(settings.dataPath().resolve("images"), peers, settings.tls()));
            service.configuration.onChange(c -> http.announce("configuration", Map.of("tag", c.tag())));
            service.state.onChange(s -> http.announce("state", Map.of("nodes", s.nodes().size())));
            // Both servers start together (each a server per core with its TLS context, ~0.5 s apiece in a cold JVM).
            var apiListening = http.listen(settings.bindHost(), settings.apiPort(), settings.tls());
            var agents = new AgentChannelServer(service.vertx, service.configuration, service.state, settings.pushInterval());
            var agentsListening = agents.listen(settings.bindHost(), settings.agentPort(), settings.tls());
            service.apiPort = apiListening.await(30, TimeUnit.SECONDS).actualPort();
            var host = settings.self().substring(0, settings.self().lastIndexOf(':'));
            endpoints.set(self, "https://" + host + ":" + service.apiPort);
            service.agentPort = agentsListening.await(30, TimeUnit.SECONDS).actualPort();
            service.metrics.agentsConnected(agents::connectionCount);
        } catch (Exception e) {
            service.close();
            throw new IllegalStateException("cannot listen on " + settings.bindHost() + " ports " + settings.apiPort() + "/"
                    + settings.agentPort() + ": " + e.getMessage(), e);
        }
        if (settings.metricsPort() != Settings.METRICS_OFF) {
            var bind = settings.metricsBind() == null ? settings.bindHost() : settings.metricsBind();
            try {
                service.metricsPort = service.metrics.serve(service.vertx, bind, settings.metricsPort()).await(30, TimeUnit.SECONDS).actualPort();
            } catch (Exception e) {
                service.close();
                throw new IllegalStateException("cannot serve metrics on " + bind + ":" + settings.metricsPort() + ": " + e.getMessage()
                        + " (choose another --metrics-port, or off)", e);
            }
        }
        service.phases.mark("servers (api, agent channel, metrics)");
        LOG.atInfo().addKeyValue("api_port", service.apiPort).addKeyValue("agent_port", service.agentPort)
                .addKeyValue("data_path", settings.dataPath()).addKeyValue("replicas", settings.replicas()).addKeyValue("tls", MutualTls.engine())
                .addKeyValue("start", service.phases)
                .log("control service ready");
        return service;
    }

    /**
     * Replicas started together may first form separate one-member clusters; nothing is read or written
     * until this replica sees a majority, so a lone replica never seeds or serves a configuration the
     * others do not share.
     */
    private static void awaitMajority(HazelcastInstance hazelcast, int replicas) {
        int majority = replicas / 2 + 1;
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        long nextLog = 0;
        while (hazelcast.getCluster().getMembers().size() < majority) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + hazelcast.getCluster().getMembers().size() + " of " + replicas
                        + " replicas joined within " + STARTUP_TIMEOUT.toSeconds() + " s; a majority (" + majority
                        + ") is needed: check the --peer addresses and that the other replicas run");
            }
            if (System.nanoTime() > nextLog) {
                LOG.atInfo().addKeyValue("members", hazelcast.getCluster().getMembers().size()).addKeyValue("majority", majority)
                        .log("waiting for a majority of replicas");
                nextLog = System.nanoTime() + 5_000_000_000L;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for replicas");
            }
        }
    }

    /** How long a starting replica waits for the others' answers before it claims to be the cluster's first member. */
    static final int JOIN_TIMEOUT_SECONDS = 2;

    /**
     * Where Hazelcast runs its futures' asynchronous callbacks (a map write's completion, for one) when none is named:
     * ForkJoinPool's common pool, or, where that pool has a single thread (two cores: its parallelism is the cores less
     * one), a new platform thread per callback. In the three-replica benchmark that was 700 threads started a minute in
     * each replica (JFR's thread starts), each living for one callback. A cached pool runs callbacks just as freely
     * (another thread whenever all are busy, so a blocking callback blocks no other), but keeps its threads for a minute.
     */
    private static final java.util.concurrent.ExecutorService CALLBACKS = java.util.concurrent.Executors.newCachedThreadPool(
            Thread.ofPlatform().name("hz-callback-", 0).daemon().factory());

    private static void reuseCallbackThreads() {
        if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() <= 1) {
            com.hazelcast.internal.util.ConcurrencyUtil.setDefaultAsyncExecutor(CALLBACKS);
        }
    }

    static Config hazelcastConfig(Settings settings) {
        var config = new Config();
        config.setClusterName("flocker");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        // Hazelcast's own metrics are collected every 5 s for its Management Center and JMX, neither of which is used here
        // (the service's /metrics are its own); in a three-replica benchmark their collection and compression showed among
        // the compilations still running minutes into a replica's life.
        config.getMetricsConfig().setEnabled(false);
        // Quicker detection of a lost replica than the defaults (60 s), so the survivors take over its share soon.
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
        // Replicas that started apart (or were partitioned) find and merge into one cluster within seconds.
        config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        // Hazelcast listens on a loopback address of this replica's own; other hosts reach it through ReplicaTunnels only.
        var self = ReplicaTunnels.loopbackFor(settings.self());
        var network = config.getNetworkConfig();
        network.setPort(self.getPort()).setPortAutoIncrement(false);
        network.getMemberAddressProviderConfig().setEnabled(true).setImplementation(new LoopbackAddress(self));
        var join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        // The members are loopback addresses (ReplicaTunnels), so connecting to one takes milliseconds; this time-out is also how
        // long a starting member asks the others for a master before claiming to be one (5 s by default: a third of a
        // three-replica start on 2 cores). Too short only risks separate clusters that merge 5 s later (merge delay above);
        // a minority one takes no writes meanwhile (split-brain protection below).
        var tcp = join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(JOIN_TIMEOUT_SECONDS);
        for (var replica : settings.replicaNames()) {
            var loopback = ReplicaTunnels.loopbackFor(replica);
            tcp.addMember(loopback.getAddress().getHostAddress() + ":" + loopback.getPort());
        }
        int replicas = settings.replicas();
        var mapConfig = new MapConfig(CONFIGURATION_MAP).setBackupCount(Math.min(2, replicas - 1)).setAsyncBackupCount(0);
        var headConfig = new MapConfig(CONFIGURATION_HEAD_MAP).setBackupCount(Math.min(2, replicas - 1)).setAsyncBackupCount(0);
        var stateConfig = new MapConfig(NODE_STATE_MAP).setBackupCount(Math.min(1, replicas - 1));
        if (replicas > 1) {
            // A minority side of a partition must not accept writes that the majority never sees.
            // Count only replicas heard from in the last 3 s (heartbeats are every second), so a replica cut off
            // from the others stops accepting writes within seconds, not only once it has declared them dead.
            config.addSplitBrainProtectionConfig(SplitBrainProtectionConfig
                    .newRecentlyActiveSplitBrainProtectionConfigBuilder(MAJORITY, replicas / 2 + 1, 3000)
                    .build().setProtectOn(SplitBrainProtectionOn.WRITE));
            mapConfig.setSplitBrainProtectionName(MAJORITY);
            headConfig.setSplitBrainProtectionName(MAJORITY);
        }
        config.addMapConfig(mapConfig);
        config.addMapConfig(headConfig);
        config.addMapConfig(stateConfig);
        config.addMapConfig(new MapConfig(LAST_REPORTS_MAP).setBackupCount(Math.min(2, replicas - 1)));
        config.addMapConfig(new MapConfig(NODE_SEEN_MAP).setBackupCount(Math.min(1, replicas - 1)));
        return config;
    }

    /** Where this replica's Hazelcast binds and what it tells the others: its loopback address. */
    private record LoopbackAddress(java.net.InetSocketAddress address) implements com.hazelcast.spi.MemberAddressProvider {
        @Override
        public java.net.InetSocketAddress getBindAddress() {
            return address;
        }

        @Override
        public java.net.InetSocketAddress getBindAddress(com.hazelcast.instance.EndpointQualifier qualifier) {
            return address;
        }

        @Override
        public java.net.InetSocketAddress getPublicAddress() {
            return address;
        }

        @Override
        public java.net.InetSocketAddress getPublicAddress(com.hazelcast.instance.EndpointQualifier qualifier) {
            return address;
        }
    }

    private void closeTunnels() {
        if (tunnels != null) {
            tunnels.close();
        }
    }

    public int apiPort() {
        return apiPort;
    }

    public int agentPort() {
        return agentPort;
    }

    /** Where Prometheus metrics are served ({@code /metrics}), or {@link Settings#METRICS_OFF}. */
    public int metricsPort() {
        return metricsPort;
    }

    public Settings settings() {
        return settings;
    }

    /** What the agents last reported, whole (the HTTP API shows parts of it in Flocker's forms). */
    public dev.flocker.api.model.ClusterState clusterState() {
        return state.current();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        vertx.cancelTimer(sweeper);
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.atWarn().setCause(e).log("vert.x did not close cleanly");
        }
        configuration.close();
        state.close();
        hazelcast.shutdown();
        closeTunnels();
    }
}
