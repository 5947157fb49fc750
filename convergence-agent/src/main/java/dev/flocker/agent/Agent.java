package dev.flocker.agent;

import dev.flocker.api.model.NodeId;
import dev.flocker.proxy.KernelForwarding;
import dev.flocker.proxy.RoutingProxy;
import dev.flocker.volume.transfer.DatasetShipper;
import dev.flocker.volume.transfer.Peer;
import dev.flocker.volume.transfer.SshConnections;
import dev.flocker.volume.zfs.ZfsConfig;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The convergence agent of one host, wired from its parts: its {@link NodeIdentity}, the {@link ControlLink} to the
 * control service, the {@link ConvergenceLoop} (planner, {@link ChangeExecutor}, {@link MoveRunner}, {@link StateReport}),
 * the routing proxy and the Docker {@link PluginHost}. Each part owns its state; none calls back into this class.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final NodeIdentity identity;
    private final SshConnections ssh;
    private final Containers containers;
    private final RoutingProxy proxy;
    private final ControlLink link;
    private final ConvergenceLoop loop;
    private final AgentMetrics metrics;
    private PluginHost plugin;
    private final HandoffWake wake; // null when the wake file cannot be watched

    private Agent(AgentConfig config) {
        this.identity = NodeIdentity.of(config);
        var self = identity.node();
        var driver = ZfsVolumeDriver.open(new ZfsConfig(config.pool(), config.mountRoot(), config.poolFile(), config.poolSize()));
        MountNamespace.problem(driver.list()).ifPresent(problem -> {
            throw new AgentConfig.ConfigException(problem);
        });
        byte[] key;
        try {
            key = Files.readAllBytes(config.sshIdentity());
        } catch (IOException e) {
            throw new AgentConfig.ConfigException("ssh.identity " + config.sshIdentity() + " cannot be read: " + e.getMessage());
        }
        this.ssh = new SshConnections(key, Duration.ofSeconds(10));
        this.containers = new Containers(config.dockerHost(), config.address(), config.stopTimeout(), config.statePath().resolve("files"),
                config.sandboxImage());
        var address = hostAddress(config);
        var peers = new ConvergenceLoop.PeerHosts();
        // Chains named after this node, so two agents sharing a network namespace (never in production) keep apart.
        var kernel = config.proxy().kernelForwarding() ? KernelForwarding.open(identity.kernelTag(), address).orElse(null) : null;
        this.proxy = new RoutingProxy(address, config.proxy(), peers::contains, kernel);
        var knownHosts = new KnownHosts(config.knownHosts());
        var shipping = new Shipping(new DatasetShipper(driver, ssh), ssh,
                p -> new Peer(p.host(), config.sshPort(), config.sshUser(), knownHosts.keyFor(p.host()), p.datasetRoot()));
        var wakeup = new Wakeup();
        var executor = new ChangeExecutor(self, driver, containers, proxy, shipping, wakeup);
        this.wake = HandoffWake.start(self, wakeup);
        this.link = new ControlLink(self, config.controlHost(), config.controlPort(), config.tls(), wakeup, config.replication().fenceAfter());
        var report = new StateReport(identity, config.address(), address, config.pool(), proxy);
        this.metrics = AgentMetrics.start(config.metrics());
        var images = new Images(containers, new dev.flocker.api.client.FlockerClient(
                java.net.URI.create("https://" + config.controlHost() + ":" + config.controlApiPort()), config.tls()), wakeup);
        var replicator = new Replicator(executor, wakeup, config.replication().interval());
        var watchdog = new FenceWatchdog(self, link, containers);
        link.onLeaseLapse(() -> { // at once, from the heartbeat's thread, however long the loop's current step takes
            replicator.cancelAll();
            watchdog.lapsed();
        });
        this.loop = new ConvergenceLoop(self, config, new ConvergenceLoop.Parts(new Discovery(driver, containers), link, executor,
                new MoveRunner(self, executor, wakeup, id -> {
                    var view = link.view();
                    return view != null && view.configuration().dataset(id).filter(d -> self.equals(d.primary())).isPresent();
                }), replicator, images, proxy, report, peers, wakeup, metrics));
        if (wake != null) {
            loop.wakeWatched();
        }
    }

    /** Starts the agent: it connects to the control service (and keeps reconnecting), converges and serves Docker. */
    public static Agent start(AgentConfig config) {
        var agent = new Agent(config);
        if (config.plugin() != null) {
            agent.plugin = PluginHost.start(config, agent.identity.node(), agent.containers, agent.link.reported);
        }
        agent.link.start();
        agent.loop.start();
        LOG.atInfo().addKeyValue("node", agent.identity.node()).addKeyValue("address", config.address())
                .addKeyValue("control", agent.link).addKeyValue("metrics", config.metrics() == null ? "off"
                        : config.metrics().getHostString() + ":" + agent.metrics.port()).log("agent started");
        return agent;
    }

    public NodeId nodeId() {
        return identity.node();
    }

    /**
     * Removes the kernel forwarding rules this host's agents leave behind when they stop (for a host leaving the
     * cluster); returns the chain removed, or empty when iptables cannot be used here.
     */
    static Optional<String> removeKernelRules(AgentConfig config) {
        var node = NodeIdentity.certifiedNode(config);
        try (var kernel = KernelForwarding.open(NodeIdentity.kernelTag(node), hostAddress(config)).orElse(null)) {
            return Optional.ofNullable(kernel).map(KernelForwarding::chain);
        }
    }

    private static Inet4Address hostAddress(AgentConfig config) {
        try {
            return ListeningPorts.ipv4(config.address());
        } catch (IllegalArgumentException e) {
            throw new AgentConfig.ConfigException("node.address " + config.address() + " is not an address: " + e.getMessage());
        }
    }

    /**
     * The result of {@code task}, run on another thread: its own exception when it threw one (a RuntimeException as it
     * is), an IllegalStateException naming {@code what} when this thread is interrupted while waiting.
     */
    static <T> T result(java.util.concurrent.Future<T> task, String what) {
        try {
            return task.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what, e);
        }
    }

    /** Waits {@code millis}; an interrupt ends the wait early and stays set for the caller's loop to see. */
    static void sleep(long millis) {
        java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Override
    public void close() {
        link.close();
        loop.stop();
        if (plugin != null) {
            plugin.close();
        }
        ssh.close();
        containers.close();
        proxy.closeLeavingKernelRules(); // the apps here stay reachable at this host's address until the agent is back
        metrics.close();
        if (wake != null) {
            wake.close();
        }
    }
}
