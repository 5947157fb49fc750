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
    private static final Duration PING_EVERY = Duration.ofSeconds(3);
    /** Longer than any single step of a loop is allowed to take (a ZFS command's or Docker call's own time-outs). */
    static final Duration STUCK_AFTER = Duration.ofSeconds(120);

    private final URI uri;
    private final TlsFiles tls;
    private final Wakeup wakeup;
    private volatile AgentChannel channel;
    private volatile boolean stopping;
    private volatile NodeState lastReport;
    private volatile Instant lastSent = Instant.EPOCH;
    private volatile Instant lastReported = Instant.EPOCH;
    private volatile boolean warnedStuck;

    ControlLink(String host, int port, TlsFiles tls, Wakeup wakeup) {
        this.uri = URI.create("wss://" + host + ":" + port + "/v1/agent");
        this.tls = tls;
        this.wakeup = wakeup;
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

    /** Sends {@code state} if it differs from the last one sent on this connection; the loop calls it once per loop. */
    void report(NodeState state) {
        lastReported = Instant.now();
        if (warnedStuck) {
            warnedStuck = false;
            LOG.atInfo().log("the convergence loop reports again; pinging again");
        }
        send(state);
    }

    /** One sender at a time: a WebSocket takes one message at a time. A null state is a ping. */
    private synchronized void send(NodeState state) {
        var current = channel;
        if (current == null || (state == null && lastReport == null)) {
            return; // not connected, or nothing reported on this connection yet: a ping would refer to nothing
        }
        try {
            if (state == null) {
                current.ping();
            } else if (!state.equals(lastReport)) {
                current.report(state);
                lastReport = state;
            } else {
                return;
            }
            lastSent = Instant.now();
        } catch (RuntimeException e) {
            LOG.atWarn().log("reporting to the control service failed: " + ChangeExecutor.rootMessage(e));
        }
    }

    /** Pings whenever nothing was sent for {@link #PING_EVERY}, while the loop is not stuck. */
    private void heartbeat() {
        while (!stopping) {
            Agent.sleep(500);
            var now = Instant.now();
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
                var connected = AgentChannel.connect(uri, tls, view -> wakeup.signal());
                synchronized (this) {
                    lastReport = null; // a new connection (maybe another replica) gets the full state
                    channel = connected;
                }
                backoff = 200;
                LOG.atInfo().addKeyValue("control", uri).log("connected to the control service");
                wakeup.signal();
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
