package dev.flocker.agent;

import dev.flocker.api.client.AgentChannel;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.tls.TlsFiles;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This agent's link to the control service: keeps a channel connected (reconnecting with backoff, maybe to another
 * replica), hands out the latest view it pushed, and sends reports: the whole state when it changed. Pings keep the
 * node's last report alive from a thread of their own, so a loop that is slow (a busy pool, a slow dockerd) does not
 * make the node vanish from the cluster state; a loop that has not reported for {@link #STUCK_AFTER} is taken as stuck
 * and the pings stop, so its node expires as a dead one does. Every push signals the loop.
 */
final class ControlLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlLink.class);
    /** The reason the loop is given when the control service pushes a new view. */
    static final String PUSHED = "push";
    private static final Duration PING_EVERY = Duration.ofSeconds(1);
    /** Longer than any single step of a loop is allowed to take (a ZFS command's or Docker call's own time-outs). */
    static final Duration STUCK_AFTER = Duration.ofSeconds(120);
    /** A loop this late has its threads logged, once: longer than any loop of a healthy agent. */
    static final Duration SLOW_AFTER = Duration.ofSeconds(45);

    private final URI uri;
    private final TlsFiles tls;
    private final Wakeup wakeup;
    private volatile AgentChannel channel;
    private volatile boolean stopping;
    private volatile NodeState lastReport;
    private volatile Instant lastSent = Instant.EPOCH;
    private volatile Instant lastReported = Instant.EPOCH;
    private volatile boolean warnedStuck;
    private volatile boolean dumped;
    private final Duration fenceAfter;
    /** When each state or ping not acknowledged yet was sent, oldest first: acknowledgements come in order. */
    private final java.util.Deque<Instant> unacknowledged = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private volatile Instant leaseFrom = Instant.EPOCH;
    private volatile boolean leaseWasHeld;
    private volatile AgentChannel.View lastView;
    private final dev.flocker.api.model.NodeId self;
    private volatile Runnable onLapse = () -> { };

    /** @param fenceAfter how long a lease lasts from the sending of the last message the control service acknowledged */
    ControlLink(dev.flocker.api.model.NodeId self, String host, int port, TlsFiles tls, Wakeup wakeup, Duration fenceAfter) {
        this.self = self;
        this.uri = URI.create("wss://" + host + ":" + port + "/v1/agent");
        this.tls = tls;
        this.wakeup = wakeup;
        this.fenceAfter = fenceAfter;
    }

    /**
     * Whether this node holds its right to write datasets with standbys: the control service acknowledged a message this
     * agent sent less than {@code fenceAfter} ago. The control service promotes a standby only after the node has been
     * silent for longer (its {@code --failover-after}), so a node cut off stops writing before anyone else starts.
     */
    boolean leaseHeld() {
        return Instant.now().isBefore(leaseFrom.plus(fenceAfter));
    }

    Duration fenceAfter() {
        return fenceAfter;
    }

    /** Runs {@code action} on the heartbeat's thread each time the lease lapses. */
    void onLeaseLapse(Runnable action) {
        this.onLapse = action;
    }

    /** The view last pushed, kept after the connection is lost (what a cut-off agent fences by); null before any. */
    AgentChannel.View lastView() {
        var current = view();
        return current != null ? current : lastView;
    }

    void start() {
        Thread.ofPlatform().name("agent-channel").daemon().start(this::keepConnected);
        Thread.ofPlatform().name("agent-heartbeat").daemon().start(this::heartbeat);
    }

    /** The configuration and cluster state the control service last pushed, or null while not connected. */
    AgentChannel.View view() {
        var current = channel;
        return current == null ? null : current.view();
    }

    /** What the loop reported last, for the Docker plugin's Mount. */
    final dev.flocker.plugin.ReportedState reported = new dev.flocker.plugin.ReportedState();

    /** Sends {@code state} if it differs from the last one sent on this connection; the loop calls it once per loop. */
    void report(NodeState state) {
        lastReported = Instant.now();
        dumped = false;
        if (warnedStuck) {
            warnedStuck = false;
            LOG.atInfo().log("the convergence loop reports again; pinging again");
        }
        send(state);
        reported.published(state);
    }

    /** One sender at a time: a WebSocket takes one message at a time. A null state is a ping. */
    private synchronized void send(NodeState state) {
        var current = channel;
        if (current == null || (state == null && lastReport == null)) {
            return; // not connected, or nothing reported on this connection yet: a ping would refer to nothing
        }
        try {
            var sending = Instant.now();
            if (state == null) {
                unacknowledged.add(sending);
                current.ping();
            } else if (!state.equals(lastReport)) {
                unacknowledged.add(sending);
                current.report(state);
                lastReport = state;
            } else {
                return;
            }
            lastSent = sending;
        } catch (RuntimeException e) {
            LOG.atWarn().log("reporting to the control service failed: " + ChangeExecutor.rootMessage(e));
        }
    }

    /** Pings whenever nothing was sent for {@link #PING_EVERY}, while the loop is not stuck. */
    private void heartbeat() {
        while (!stopping) {
            Agent.sleep(200);
            boolean held = leaseHeld();
            if (held != leaseWasHeld) {
                leaseWasHeld = held;
                if (!held) {
                    LOG.atWarn().addKeyValue("fence_after_s", fenceAfter.toSeconds())
                            .log("no acknowledgement from the control service within the lease; fencing datasets with standbys");
                    onLapse.run();
                    // The lease comes back only on a new connection, whose first push is the whole current view: on the old one
                    // (a healed partition resumes a TCP connection), acknowledgements were seen to return before the pushes
                    // made meanwhile, and the agent made a copy writable that had been promoted elsewhere.
                    var current = channel;
                    if (current != null) {
                        current.close();
                    }
                }
                wakeup.signal("lease-lapsed"); // the loop fences (or writes again) at once
            }
            var now = Instant.now();
            if (lastReported.isAfter(Instant.EPOCH) && lastReported.plus(SLOW_AFTER).isBefore(now) && !dumped) {
                dumped = true; // once per slow spell: where the loop waits is what an operator needs to see
                ThreadDump.log(LOG, "the convergence loop has not reported for " + SLOW_AFTER.toSeconds() + " s");
            }
            if (lastReported.plus(STUCK_AFTER).isBefore(now)) {
                if (!warnedStuck && lastReported.isAfter(Instant.EPOCH)) {
                    warnedStuck = true;
                    LOG.atError().addKeyValue("since", lastReported).log("the convergence loop has not reported for " + STUCK_AFTER.toSeconds()
                            + " s; no more pings, so the control service takes this node for gone until it reports again");
                }
            } else if (lastSent.plus(PING_EVERY).isBefore(now)) {
                send(null);
            }
        }
    }

    private void keepConnected() {
        long backoff = 200;
        while (!stopping) {
            try {
                var connected = AgentChannel.connect(uri, tls, view -> {
                    var before = lastView;
                    lastView = view;
                    if (before != null && dev.flocker.agent.plan.ViewChanges.onlyOwnReport(self, before.configuration(), before.clusterState(),
                            view.configuration(), view.clusterState())) {
                        return; // this node's own report sent back: nothing for its loop (the view is kept all the same)
                    }
                    wakeup.signal(PUSHED);
                });
                connected.onAck(() -> {
                    var sent = unacknowledged.poll();
                    if (sent != null && sent.isAfter(leaseFrom)) {
                        leaseFrom = sent;
                    }
                });
                synchronized (this) {
                    lastReport = null; // a new connection (maybe another replica) gets the full state
                    unacknowledged.clear();
                    channel = connected;
                }
                backoff = 200;
                LOG.atInfo().addKeyValue("control", uri).log("connected to the control service");
                wakeup.signal("connected");
                var reason = connected.closed().join();
                LOG.atWarn().addKeyValue("reason", reason).log("lost the control service; reconnecting");
            } catch (RuntimeException e) {
                LOG.atWarn().addKeyValue("control", uri).log("cannot reach the control service: " + ChangeExecutor.rootMessage(e));
            }
            channel = null;
            Agent.sleep(backoff);
            backoff = Math.min(backoff * 2, 5000);
        }
    }

    @Override
    public void close() {
        stopping = true;
        var current = channel;
        if (current != null) {
            current.close();
        }
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
