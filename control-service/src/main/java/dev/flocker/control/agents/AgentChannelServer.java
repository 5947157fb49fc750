package dev.flocker.control.agents;

import dev.flocker.api.model.AgentMessage;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.ClusterStateDiff;
import dev.flocker.api.model.ConfigurationDiff;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsFiles;
import dev.flocker.control.MutualTls;
import dev.flocker.control.store.ConfigurationStore;
import dev.flocker.control.store.NodeStateStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' channel: each agent keeps a WebSocket open at {@code /v1/agent}, sends its node's state
 * when it changes ({@code {"type":"state","state":{...}}}) and a {@code ping} now and then; the service
 * pushes to every agent when either changes: first {@code {"type":"update","configuration":..,"cluster_state":..}}
 * in full, then {@code {"type":"diff",...}} from what that connection was sent last, at most once per push
 * interval per agent (changes in between are coalesced into the next push).
 * A connection speaks for one node only.
 */
public final class AgentChannelServer {
    private static final Logger LOG = LoggerFactory.getLogger(AgentChannelServer.class);
    public static final String PATH = "/v1/agent";
    static final int MAX_MESSAGE = 64 << 20;

    private final Vertx vertx;
    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final long minIntervalMillis;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    /** The views of the latest configuration and cluster state, rebuilt by one thread at most every {@link #DISPATCH_MILLIS}. */
    private volatile NodeViews views;
    private final java.util.concurrent.ScheduledExecutorService dispatcher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        var t = new Thread(r, "agent-push-dispatch");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.atomic.AtomicBoolean dispatchScheduled = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile long lastDispatch;
    static final long DISPATCH_MILLIS = 50;

    /** Each node's report without datasets, kept while it does not change so that views share it (diffs compare by identity). */
    private record Stripped(NodeState source, NodeState stripped) {
    }

    private final Map<NodeId, Stripped> strippedNodes = new ConcurrentHashMap<>();

    private final class Connection {
        final ServerWebSocket socket;
        /** Everything done with a connection runs on its own context, so its frames are never interleaved. */
        final io.vertx.core.Context context = vertx.getOrCreateContext();
        volatile NodeId node;
        long lastPush;
        boolean scheduled;
        /** What this connection was sent last: its node's view, and the views it came from. */
        NodeViews sentFrom;
        Configuration sentConfiguration;
        ClusterState sentState;

        /** The node the connection's certificate speaks for: it may report that node's state only. */
        final NodeId certified;
        final java.security.cert.X509Certificate certificate;

        Connection(ServerWebSocket socket, NodeId certified, java.security.cert.X509Certificate certificate) {
            this.socket = socket;
            this.certified = certified;
            this.certificate = certificate;
        }
    }

    public AgentChannelServer(Vertx vertx, ConfigurationStore configuration, NodeStateStore state, Duration minPushInterval) {
        this.vertx = vertx;
        this.configuration = configuration;
        this.state = state;
        this.minIntervalMillis = minPushInterval.toMillis();
        this.views = new NodeViews(configuration.current(), state.current(), this::stripped);
        configuration.onChange(c -> changed());
        state.onChange(s -> changed());
    }

    private NodeState stripped(NodeState n) {
        var cached = strippedNodes.get(n.uuid());
        if (cached != null && cached.source() == n) {
            return cached.stripped();
        }
        var stripped = NodeViews.strip(n);
        if (cached != null && cached.stripped().equals(stripped)) {
            stripped = cached.stripped();
        }
        strippedNodes.put(n.uuid(), new Stripped(n, stripped));
        return stripped;
    }

    /** Listens with mutual TLS: only a certificate of the cluster CA for a node ({@code node-<uuid>}) gets in. */
    public Future<HttpServer> listen(String host, int port, TlsFiles tls) {
        revocations = tls.revocations();
        // A node with thousands of datasets reports megabytes; the default 256 KiB message limit would cut it off.
        var options = MutualTls.serverOptions(tls).setMaxWebSocketMessageSize(MAX_MESSAGE);
        return vertx.createHttpServer(options).webSocketHandshakeHandler(this::handshake).webSocketHandler(this::accept).listen(port, host);
    }

    /** The cluster's revocation list, once listening. */
    private volatile dev.flocker.api.tls.RevocationList revocations;

    private void handshake(io.vertx.core.http.ServerWebSocketHandshake handshake) {
        try {
            var identity = Identity.of(handshake.peerCertificates());
            if (identity.role() != Identity.Role.NODE) {
                LOG.atWarn().addKeyValue("peer", handshake.remoteAddress()).addKeyValue("identity", identity)
                        .log("refused an agent channel: the certificate is not a node's");
                handshake.reject(403);
                return;
            }
        } catch (javax.net.ssl.SSLPeerUnverifiedException | IllegalArgumentException e) {
            LOG.atWarn().addKeyValue("peer", handshake.remoteAddress()).log("refused an agent channel: " + e.getMessage());
            handshake.reject(403);
            return;
        }
        handshake.accept();
    }

    public int connectionCount() {
        return connections.size();
    }

    private void accept(ServerWebSocket socket) {
        if (!PATH.equals(socket.path())) {
            socket.close((short) 1008, "unknown path " + socket.path() + "; agents connect to " + PATH);
            return;
        }
        NodeId certified;
        java.security.cert.X509Certificate certificate;
        try {
            var peer = socket.sslSession().getPeerCertificates();
            certified = Identity.of(peer == null ? java.util.List.of() : java.util.List.of(peer)).node();
            certificate = (java.security.cert.X509Certificate) peer[0];
        } catch (javax.net.ssl.SSLPeerUnverifiedException | RuntimeException e) {
            socket.close((short) 1008, "a node certificate is required");
            return;
        }
        var connection = new Connection(socket, certified, certificate);
        connections.add(connection);
        socket.closeHandler(v -> {
            connections.remove(connection);
            LOG.atInfo().addKeyValue("node", connection.node).log("agent disconnected");
        });
        socket.exceptionHandler(e -> LOG.atDebug().addKeyValue("node", connection.node).setCause(e).log("agent channel error"));
        socket.textMessageHandler(text -> receive(connection, text));
        schedule(connection);
    }

    private void receive(Connection connection, String text) {
        // Checked on every message (a ping comes every few seconds), so a channel opened before its certificate was
        // revoked closes within seconds of the revocation reaching cluster.crl.
        if (revocations != null) {
            try {
                revocations.check(connection.certificate);
            } catch (java.security.cert.CertificateException e) {
                reject(connection, "this node's certificate is refused: " + e.getMessage());
                return;
            }
        }
        NodeState reported = null;
        try {
            switch (AgentMessage.read(text)) {
                case AgentMessage.State m -> reported = m.state();
                case AgentMessage.Ping m -> {
                    if (connection.node == null) {
                        throw new IllegalArgumentException("ping before the first state message");
                    }
                }
                case AgentMessage other -> throw new IllegalArgumentException("an agent sends state or ping messages, not " + other);
            }
        } catch (RuntimeException e) {
            reject(connection, "bad message: " + e.getMessage());
            return;
        }
        if (reported != null) {
            if (!reported.uuid().equals(connection.certified)) {
                reject(connection, "this connection's certificate is node " + connection.certified + "'s; it may not report node "
                        + reported.uuid());
                return;
            }
            if (connection.node == null) {
                connection.node = reported.uuid();
                LOG.atInfo().addKeyValue("node", reported.uuid()).addKeyValue("host", reported.host()).log("agent connected");
            } else if (!connection.node.equals(reported.uuid())) {
                reject(connection, "this connection speaks for node " + connection.node + ", not " + reported.uuid());
                return;
            }
        }
        var toStore = reported;
        var node = connection.node;
        vertx.executeBlocking(() -> {
            if (toStore != null) {
                state.report(toStore);
            } else {
                state.refresh(node);
            }
            return null;
        }, true).onSuccess(v -> connection.socket.writeTextMessage(ACK)) // the agent's lease runs from the message's sending
                .onFailure(e -> LOG.atWarn().addKeyValue("node", node).setCause(e).log("cannot record agent state"));
    }

    private static final String ACK = AgentMessage.write(new AgentMessage.Ack());

    private void reject(Connection connection, String reason) {
        LOG.atWarn().addKeyValue("node", connection.node).log("closing agent channel: " + reason);
        connection.socket.writeTextMessage(AgentMessage.write(new AgentMessage.Error(reason)));
        connection.socket.close((short) 1008, reason.length() > 120 ? reason.substring(0, 120) : reason);
    }

    /** Rebuilds the views soon (changes in between are coalesced) and schedules a push to the agents they concern. */
    private void changed() {
        if (!dispatchScheduled.getAndSet(true)) {
            long wait = Math.max(0, lastDispatch + DISPATCH_MILLIS - System.currentTimeMillis());
            dispatcher.schedule(this::dispatch, wait, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    private void dispatch() {
        dispatchScheduled.set(false);
        lastDispatch = System.currentTimeMillis();
        try {
            var before = views;
            var next = new NodeViews(configuration.current(), state.current(), this::stripped);
            views = next;
            var affected = NodeViews.affected(before, next);
            for (var connection : connections) {
                if (affected == NodeViews.EVERY_NODE || affected.contains(connection.certified)) {
                    schedule(connection);
                }
            }
            strippedNodes.keySet().retainAll(next.state().nodes().keySet().stream().collect(java.util.stream.Collectors.toSet()));
        } catch (RuntimeException e) {
            LOG.atError().setCause(e).log("cannot work out what to push to agents");
        }
    }

    /** Pushes now if the interval allows, else once it has passed; repeated changes meanwhile become one push. */
    private void schedule(Connection connection) {
        connection.context.runOnContext(v -> {
            if (connection.scheduled) {
                return;
            }
            connection.scheduled = true;
            long wait = Math.max(1, connection.lastPush + minIntervalMillis - System.currentTimeMillis());
            vertx.setTimer(wait, id -> push(connection));
        });
    }

    /** The first push to a connection is its node's whole view; later ones are diffs from what it was sent last. */
    private void push(Connection connection) {
        connection.scheduled = false;
        if (!connections.contains(connection)) {
            return;
        }
        var source = views;
        if (source == connection.sentFrom) {
            return;
        }
        var view = source.view(connection.certified);
        String text;
        if (connection.sentConfiguration == null) {
            text = AgentMessage.write(new AgentMessage.Update(view.configuration(), view.state()));
        } else {
            var diff = new AgentMessage.Diff(ConfigurationDiff.between(connection.sentConfiguration, view.configuration()),
                    ClusterStateDiff.between(connection.sentState, view.state()));
            connection.sentFrom = source;
            if (diff.configuration().noEntryChanged() && diff.clusterState().empty()) {
                return; // nothing this node is shown changed (another node's dataset did)
            }
            text = AgentMessage.write(diff);
        }
        connection.lastPush = System.currentTimeMillis();
        connection.sentFrom = source;
        connection.sentConfiguration = view.configuration();
        connection.sentState = view.state();
        connection.socket.writeTextMessage(text);
    }
}
