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
 * replica), hands out the latest view it pushed, and sends reports: the whole state when it changed, else a ping now
 * and then so the service knows the node is alive. Every push signals the loop.
 */
final class ControlLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlLink.class);
    private static final Duration PING_EVERY = Duration.ofSeconds(5);

    private final URI uri;
    private final TlsFiles tls;
    private final Wakeup wakeup;
    private volatile AgentChannel channel;
    private volatile boolean stopping;
    private volatile NodeState lastReport;
    private volatile Instant lastPing = Instant.EPOCH;

    ControlLink(String host, int port, TlsFiles tls, Wakeup wakeup) {
        this.uri = URI.create("wss://" + host + ":" + port + "/v1/agent");
        this.tls = tls;
        this.wakeup = wakeup;
    }

    void start() {
        Thread.ofPlatform().name("agent-channel").daemon().start(this::keepConnected);
    }

    /** The configuration and cluster state the control service last pushed, or null while not connected. */
    AgentChannel.View view() {
        var current = channel;
        return current == null ? null : current.view();
    }

    /** Sends {@code state} if it differs from the last one sent on this connection, else pings now and then. */
    void report(NodeState state) {
        var current = channel;
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
            LOG.atWarn().log("reporting to the control service failed: " + ChangeExecutor.rootMessage(e));
        }
    }

    private void keepConnected() {
        long backoff = 200;
        while (!stopping) {
            try {
                var connected = AgentChannel.connect(uri, tls, view -> wakeup.signal());
                lastReport = null; // a new connection (maybe another replica) gets the full state
                channel = connected;
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
