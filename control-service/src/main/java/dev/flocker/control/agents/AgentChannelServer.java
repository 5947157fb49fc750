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
    private volatile Payload full;
    private final Map<DiffKey, String> diffs = new ConcurrentHashMap<>();

    private record Payload(Configuration configuration, ClusterState state, String text) {
    }

    /** Identifies a diff by the identity of the states at both ends: agents on one replica mostly share them. */
    private record DiffKey(Configuration fromConfiguration, ClusterState fromState, Configuration toConfiguration, ClusterState toState) {
        @Override
        public boolean equals(Object o) {
            return o instanceof DiffKey k && k.fromConfiguration == fromConfiguration && k.fromState == fromState
                    && k.toConfiguration == toConfiguration && k.toState == toState;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(fromConfiguration) * 31 * 31 * 31 + System.identityHashCode(fromState) * 31 * 31
                    + System.identityHashCode(toConfiguration) * 31 + System.identityHashCode(toState);
        }
    }

    private final class Connection {
        final ServerWebSocket socket;
        /** Everything done with a connection runs on its own context, so its frames are never interleaved. */
        final io.vertx.core.Context context = vertx.getOrCreateContext();
        volatile NodeId node;
        long lastPush;
        boolean scheduled;
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
        configuration.onChange(c -> changed());
        state.onChange(s -> changed());
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

    private void changed() {
        connections.forEach(this::schedule);
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

    /** The first push to a connection is the full state; later ones are diffs from what it was sent last. */
    private void push(Connection connection) {
        connection.scheduled = false;
        if (!connections.contains(connection)) {
            return;
        }
        var config = configuration.current();
        var cluster = state.current();
        if (config == connection.sentConfiguration && cluster == connection.sentState) {
            return;
        }
        String text;
        if (connection.sentConfiguration == null) {
            var payload = full();
            text = payload.text();
            config = payload.configuration();
            cluster = payload.state();
        } else {
            text = diff(connection.sentConfiguration, connection.sentState, config, cluster);
        }
        connection.lastPush = System.currentTimeMillis();
        connection.sentConfiguration = config;
        connection.sentState = cluster;
        connection.socket.writeTextMessage(text);
    }

    private String diff(Configuration fromConfiguration, ClusterState fromState, Configuration toConfiguration, ClusterState toState) {
        if (diffs.size() > 64) {
            diffs.clear();
        }
        return diffs.computeIfAbsent(new DiffKey(fromConfiguration, fromState, toConfiguration, toState), k -> AgentMessage.write(new AgentMessage.Diff(
                ConfigurationDiff.between(fromConfiguration, toConfiguration), ClusterStateDiff.between(fromState, toState))));
    }

    /** One rendering per (configuration, state) pair, shared by every connection. */
    private Payload full() {
        var config = configuration.current();
        var cluster = state.current();
        var cached = full;
        if (cached != null && cached.configuration() == config && cached.state() == cluster) {
            return cached;
        }
        var text = AgentMessage.write(new AgentMessage.Update(config, cluster));
        cached = new Payload(config, cluster, text);
        full = cached;
        return cached;
    }
}
