package dev.flocker.control.agents;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
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
 * pushes {@code {"type":"update","configuration":..,"cluster_state":..}} to every agent when either
 * changes, at most once per push interval per agent (changes in between are coalesced into the next push).
 * A connection speaks for one node only.
 */
public final class AgentChannelServer {
    private static final Logger LOG = LoggerFactory.getLogger(AgentChannelServer.class);
    public static final String PATH = "/v1/agent";

    private final Vertx vertx;
    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final long minIntervalMillis;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private volatile Payload payload;

    private record Payload(Configuration configuration, ClusterState state, String text) {
    }

    private final class Connection {
        final ServerWebSocket socket;
        volatile NodeId node;
        long lastPush;
        boolean scheduled;
        Payload lastSent;

        Connection(ServerWebSocket socket) {
            this.socket = socket;
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

    public Future<HttpServer> listen(String host, int port) {
        return vertx.createHttpServer().webSocketHandler(this::accept).listen(port, host);
    }

    public int connectionCount() {
        return connections.size();
    }

    private void accept(ServerWebSocket socket) {
        if (!PATH.equals(socket.path())) {
            socket.close((short) 1008, "unknown path " + socket.path() + "; agents connect to " + PATH);
            return;
        }
        var connection = new Connection(socket);
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
        JsonNode message;
        NodeState reported = null;
        try {
            message = Json.MAPPER.readTree(text);
            var type = message.path("type").asText();
            switch (type) {
                case "state" -> reported = Json.MAPPER.treeToValue(message.get("state"), NodeState.class);
                case "ping" -> {
                    if (connection.node == null) {
                        throw new IllegalArgumentException("ping before the first state message");
                    }
                }
                default -> throw new IllegalArgumentException("unknown message type '" + type + "' (expected state or ping)");
            }
        } catch (Exception e) {
            reject(connection, "bad message: " + e.getMessage());
            return;
        }
        if (reported != null) {
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
        }, true).onFailure(e -> LOG.atWarn().addKeyValue("node", node).setCause(e).log("cannot record agent state"));
    }

    private void reject(Connection connection, String reason) {
        LOG.atWarn().addKeyValue("node", connection.node).log("closing agent channel: " + reason);
        connection.socket.writeTextMessage(Json.write(Map.of("type", "error", "description", reason)));
        connection.socket.close((short) 1008, reason.length() > 120 ? reason.substring(0, 120) : reason);
    }

    private void changed() {
        vertx.runOnContext(v -> connections.forEach(this::schedule));
    }

    /** Pushes now if the interval allows, else once it has passed; repeated changes meanwhile become one push. */
    private void schedule(Connection connection) {
        vertx.runOnContext(v -> {
            if (connection.scheduled) {
                return;
            }
            connection.scheduled = true;
            long wait = Math.max(1, connection.lastPush + minIntervalMillis - System.currentTimeMillis());
            vertx.setTimer(wait, id -> push(connection));
        });
    }

    private void push(Connection connection) {
        connection.scheduled = false;
        if (!connections.contains(connection)) {
            return;
        }
        var current = payload();
        if (current == connection.lastSent) {
            return;
        }
        connection.lastPush = System.currentTimeMillis();
        connection.lastSent = current;
        connection.socket.writeTextMessage(current.text());
    }

    /** One rendering per (configuration, state) pair, shared by every connection. */
    private Payload payload() {
        var config = configuration.current();
        var cluster = state.current();
        var cached = payload;
        if (cached != null && cached.configuration() == config && cached.state() == cluster) {
            return cached;
        }
        var text = Json.write(Map.of("type", "update", "configuration", config, "cluster_state", cluster));
        cached = new Payload(config, cluster, text);
        payload = cached;
        return cached;
    }
}
