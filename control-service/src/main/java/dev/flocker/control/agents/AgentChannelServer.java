package dev.flocker.control.agents;

import dev.flocker.api.model.AgentMessage;
import dev.flocker.api.model.ClusterStateDiff;
import dev.flocker.api.model.ConfigurationDiff;
import dev.flocker.api.model.DatasetId;
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
import java.util.List;
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
    /**
     * The connections that may have something to push (a first view, or what {@link #note} marked): a dispatch walks these,
     * not every connection (1,000 of them in the benchmark, most with nothing pending, at every dispatch).
     */
    private final Set<Connection> pendingConnections = ConcurrentHashMap.newKeySet();
    /**
     * One thread works out every push: it keeps the {@link ViewIndex}, notes what each connection must be sent, and
     * sends it once the connection's push interval allows. Changes that arrive meanwhile are coalesced.
     */
    private final java.util.concurrent.ScheduledExecutorService dispatcher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        var t = new Thread(r, "agent-push-dispatch");
        t.setDaemon(true);
        return t;
    });
    /** When the next dispatch is due ({@link Long#MAX_VALUE}: none is scheduled); guarded by {@link #dispatchLock}. */
    private long scheduledFor = Long.MAX_VALUE;
    private final Object dispatchLock = new Object();
    private volatile long lastDispatch;
    static final long DISPATCH_MILLIS = 50;
    /**
     * The least time between two pushes of a node's desired state (see {@code Connection.lastConfigPush}): a burst of
     * writes still goes out in a few pushes, and two writes in a row (a Docker volume's lease, then its move) do not make
     * the second wait long.
     */
    public static final long CONFIG_PUSH_MILLIS = 20;
    /**
     * A report that changed only in its progress (bytes copied, rates, sizes, snapshot times: {@link NodeState#withoutProgress})
     * is pushed to an agent at most this often, unless a push goes anyway. Agents plan from none of it, and each push
     * runs a loop on each agent (a zfs listing): during a move both hosts looped every 60-100 ms on each other's
     * progress, their listings competing with the handoff's own zfs calls.
     */
    static final long PROGRESS_MILLIS = 1000;
    /** Owned by the dispatcher thread. */
    private final ViewIndex index = new ViewIndex();
    private final Map<NodeId, Set<Connection>> byNode = new ConcurrentHashMap<>();

    private final class Connection {
        final ServerWebSocket socket;
        /** Everything written to a connection is written on its own context, so its frames are never interleaved. */
        final io.vertx.core.Context context = vertx.getOrCreateContext();
        volatile NodeId node;
        // The rest is the dispatcher thread's: what the agent was sent, and what may have changed for it since.
        long lastPush;
        /**
         * The last push that carried a change of this node's desired state: such a change goes at once when that was
         * at least {@link #CONFIG_PUSH_MILLIS} ago (or the push interval, if shorter), however recently others' reports were
         * pushed (a move starts without waiting for the report traffic's interval). Changes in a burst are coalesced
         * still, but two in a row (a Docker volume's lease, then its move) do not wait a whole push interval (200 ms).
         */
        long lastConfigPush;
        boolean pendingConfig;
        boolean sentWhole;
        long sentVersion;
        /** The desired state of each dataset the agent was sent, as sent: one is sent again only when it changed. */
        final Map<DatasetId, dev.flocker.api.model.Dataset> sentDatasets = new java.util.HashMap<>();
        List<dev.flocker.api.model.Lease> sentLeases = List.of();
        Map<String, dev.flocker.api.model.Application> sentApplications = Map.of();
        final Map<NodeId, NodeState> sentNodes = new java.util.HashMap<>();
        List<NodeState> sentOffline = List.of();
        final Set<DatasetId> pendingDatasets = new java.util.HashSet<>();
        final Set<NodeId> pendingNodes = new java.util.HashSet<>();
        /** Reports changed only in their progress since last sent, held back until {@link #PROGRESS_MILLIS} after the last such push. */
        final Set<NodeId> progressNodes = new java.util.HashSet<>();
        long lastProgressPush;
        boolean pendingApplications;
        boolean pendingOffline;

        boolean pending() {
            return !sentWhole || !pendingDatasets.isEmpty() || !pendingNodes.isEmpty() || pendingApplications || pendingOffline;
        }

        /** Whatever is pending is only reports' progress (see {@link #PROGRESS_MILLIS}). */
        boolean progressOnly() {
            return sentWhole && pendingDatasets.isEmpty() && !pendingApplications && !pendingOffline && progressNodes.containsAll(pendingNodes);
        }

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
        configuration.onChange(c -> scheduleDispatch(0)); // desired state: worked out at once (see Connection.lastConfigPush)
        state.onChange(s -> changed());
        changed();
    }

    /** Listens with mutual TLS: only a certificate of the cluster CA for a node ({@code node-<uuid>}) gets in. */
    public Future<HttpServer> listen(String host, int port, TlsFiles tls) {
        revocations = tls.revocations();
        // A node with thousands of datasets reports megabytes; the default 256 KiB message limit would cut it off.
        var options = MutualTls.serverOptions(tls).setMaxWebSocketMessageSize(MAX_MESSAGE);
        return dev.flocker.control.EventLoopServers.listen(vertx,
                () -> vertx.createHttpServer(options).webSocketHandshakeHandler(this::handshake).webSocketHandler(this::accept), host, port);
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
        pendingConnections.add(connection); // its first view
        byNode.computeIfAbsent(certified, k -> ConcurrentHashMap.newKeySet()).add(connection);
        socket.closeHandler(v -> {
            connections.remove(connection);
            pendingConnections.remove(connection);
            byNode.computeIfPresent(certified, (k, set) -> {
                set.remove(connection);
                return set.isEmpty() ? null : set;
            });
            LOG.atInfo().addKeyValue("node", connection.node).log("agent disconnected");
        });
        socket.exceptionHandler(e -> LOG.atDebug().addKeyValue("node", connection.node).setCause(e).log("agent channel error"));
        socket.textMessageHandler(text -> receive(connection, text));
        changed(); // its first push: the whole view
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

    /** Works out the pushes soon (at most every {@link #DISPATCH_MILLIS}; changes in between are coalesced). */
    private void changed() {
        scheduleDispatch(Math.max(0, lastDispatch + DISPATCH_MILLIS - System.currentTimeMillis()));
    }

    /** Runs a dispatch in {@code delayMillis}, unless one is due by then already (an extra one is harmless). */
    private void scheduleDispatch(long delayMillis) {
        long due = System.currentTimeMillis() + delayMillis;
        synchronized (dispatchLock) {
            if (scheduledFor <= due) {
                return;
            }
            scheduledFor = due;
        }
        dispatcher.schedule(this::dispatch, delayMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Advances the index, notes for each connection what may have changed for it, and pushes where the interval allows. */
    private void dispatch() {
        synchronized (dispatchLock) {
            scheduledFor = Long.MAX_VALUE;
        }
        lastDispatch = System.currentTimeMillis();
        try {
            var latest = configuration.current();
            long from = index.configuration().version();
            var configChanged = configuration.datasetsChanged(from, latest.version());
            var changes = index.advance(latest, state.current(), configChanged);
            if (!changes.none()) {
                note(changes, latest.version() == from ? Set.of() : configChanged);
            }
            long now = System.currentTimeMillis();
            long next = Long.MAX_VALUE;
            for (var connection : pendingConnections) {
                if (!connection.pending() || !connections.contains(connection)) {
                    pendingConnections.remove(connection); // nothing left to push, or closed (note() may mark it after)
                    continue;
                }
                long due = connection.lastPush + minIntervalMillis;
                if (connection.pendingConfig) {
                    due = Math.min(due, connection.lastConfigPush + Math.min(minIntervalMillis, CONFIG_PUSH_MILLIS));
                }
                if (connection.progressOnly()) {
                    due = Math.max(due, connection.lastProgressPush + PROGRESS_MILLIS);
                }
                if (due <= now) {
                    push(connection);
                    clearPending(connection);
                    if (!connection.pending()) {
                        pendingConnections.remove(connection);
                    }
                } else {
                    next = Math.min(next, due);
                }
            }
            if (next != Long.MAX_VALUE) {
                scheduleDispatch(Math.max(1, next - now));
            }
        } catch (RuntimeException e) {
            LOG.atError().setCause(e).log("cannot work out what to push to agents");
            scheduleDispatch(1000);
        }
    }

    /** {@code configChanged}: the datasets whose desired state changed (null: any of them may have). */
    private void note(ViewIndex.Changes changes, Set<DatasetId> configChanged) {
        changes.datasets().forEach((dataset, nodes) -> {
            boolean desired = configChanged == null || configChanged.contains(dataset);
            for (var node : nodes) {
                for (var connection : byNode.getOrDefault(node, Set.of())) {
                    connection.pendingDatasets.add(dataset);
                    connection.pendingConfig |= desired;
                    connection.pendingNodes.addAll(nodes); // their reports, as this node sees them, may change
                    connection.progressNodes.removeAll(nodes); // maybe more than progress now: push() looks again
                    pendingConnections.add(connection);
                }
            }
        });
        for (var node : changes.reports()) {
            for (var connection : byNode.getOrDefault(node, Set.of())) {
                connection.pendingNodes.add(node);
                connection.progressNodes.remove(node);
                pendingConnections.add(connection);
            }
        }
        if (changes.everyone().isEmpty() && !changes.applications() && !changes.offline()) {
            return; // the usual change concerns some nodes only: no walk over every connection (1,000 of them, per dispatch)
        }
        for (var connection : connections) {
            connection.pendingNodes.addAll(changes.everyone());
            connection.progressNodes.removeAll(changes.everyone());
            connection.pendingApplications |= changes.applications();
            connection.pendingConfig |= changes.applications();
            connection.pendingOffline |= changes.offline();
            pendingConnections.add(connection);
        }
    }

    /** The first push to a connection is its node's whole view; later ones are diffs of what may have changed for it. */
    private void push(Connection connection) {
        var node = connection.certified;
        var config = index.configuration();
        var cluster = index.state();
        String text;
        if (!connection.sentWhole) {
            var view = index.configurationFor(node);
            var viewState = index.stateFor(node);
            text = AgentMessage.write(new AgentMessage.Update(view, viewState));
            connection.sentWhole = true;
            connection.sentDatasets.clear();
            connection.sentDatasets.putAll(view.datasets());
            connection.sentLeases = List.copyOf(view.leases().values());
            connection.sentApplications = config.applications();
            connection.sentNodes.clear();
            connection.sentNodes.putAll(viewState.nodes());
            connection.sentOffline = List.copyOf(viewState.offline().values());
            connection.progressNodes.clear();
        } else {
            var ids = index.datasetsOf(node);
            var changed = new java.util.ArrayList<dev.flocker.api.model.Dataset>();
            var removed = new java.util.ArrayList<DatasetId>();
            for (var id : connection.pendingDatasets) {
                var dataset = config.datasets().get(id);
                if (dataset != null && ids.contains(id)) {
                    var sent = connection.sentDatasets.put(id, dataset);
                    if (sent != dataset && !dataset.equals(sent)) {
                        changed.add(dataset); // not one whose hosts' reports alone changed: the agent has it as it is
                    }
                } else if (connection.sentDatasets.remove(id) != null) {
                    removed.add(id);
                }
            }
            List<dev.flocker.api.model.Lease> leases = null;
            if (!connection.pendingDatasets.isEmpty()) {
                var now = index.leasesOf(node);
                if (!now.equals(connection.sentLeases)) {
                    leases = now;
                    connection.sentLeases = now;
                }
            }
            List<dev.flocker.api.model.Application> applications = null;
            if (connection.pendingApplications && !config.applications().equals(connection.sentApplications)) {
                applications = List.copyOf(config.applications().values());
                connection.sentApplications = config.applications();
            }
            // Which nodes share a dataset with this one (a walk over its datasets): only when reports are to be shown.
            var sharing = connection.pendingNodes.isEmpty() && !connection.pendingOffline ? Set.<NodeId>of() : index.sharing(node);
            var nodes = new java.util.ArrayList<NodeState>();
            var gone = new java.util.ArrayList<NodeId>();
            var heldBack = new java.util.HashMap<NodeId, NodeState>();
            boolean progressDue = connection.lastProgressPush + PROGRESS_MILLIS <= System.currentTimeMillis();
            boolean progressSent = false;
            for (var id : connection.pendingNodes) {
                var report = cluster.nodes().get(id);
                if (report == null) {
                    if (connection.sentNodes.remove(id) != null) {
                        gone.add(id);
                    }
                    continue;
                }
                var shown = index.shownTo(node, ids, sharing, report);
                var sent = connection.sentNodes.get(id);
                if (sent != shown && !shown.equals(sent)) {
                    if (sent != null && shown.withoutProgress().equals(sent.withoutProgress())) {
                        if (!progressDue) {
                            heldBack.put(id, shown); // sent with a push that goes anyway, or once due
                            continue;
                        }
                        progressSent = true;
                    }
                    nodes.add(shown);
                    connection.sentNodes.put(id, shown);
                }
            }
            List<NodeState> offline = null;
            if (connection.pendingOffline) {
                var now = cluster.offline().values().stream().map(n -> index.shownTo(node, ids, sharing, n)).toList();
                if (!now.equals(connection.sentOffline)) {
                    offline = now;
                    connection.sentOffline = now;
                }
            }
            connection.progressNodes.clear();
            if (changed.isEmpty() && removed.isEmpty() && leases == null && applications == null && nodes.isEmpty() && gone.isEmpty()
                    && offline == null) {
                connection.progressNodes.addAll(heldBack.keySet()); // still pending (clearPending keeps them)
                return; // nothing else this node is shown changed
            }
            if (!heldBack.isEmpty()) {
                nodes.addAll(heldBack.values()); // a push goes anyway: the progress rides along
                connection.sentNodes.putAll(heldBack);
                progressSent = true;
            }
            if (progressSent) {
                connection.lastProgressPush = System.currentTimeMillis();
            }
            text = AgentMessage.write(new AgentMessage.Diff(
                    new ConfigurationDiff(connection.sentVersion, config.version(), changed, removed, applications, leases),
                    new ClusterStateDiff(nodes, gone, offline)));
        }
        connection.sentVersion = config.version();
        connection.lastPush = System.currentTimeMillis();
        if (connection.pendingConfig) {
            connection.lastConfigPush = connection.lastPush;
        }
        connection.context.runOnContext(v -> connection.socket.writeTextMessage(text));
    }

    private static void clearPending(Connection connection) {
        connection.pendingDatasets.clear();
        connection.pendingNodes.clear();
        connection.pendingNodes.addAll(connection.progressNodes); // held back (push), not sent
        connection.pendingApplications = false;
        connection.pendingOffline = false;
        connection.pendingConfig = false;
    }
}
