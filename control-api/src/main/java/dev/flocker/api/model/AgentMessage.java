package dev.flocker.api.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Every message of the agent channel ({@code wss://control:4524/v1/agent}), with its one JSON mapping: an object whose
 * {@code type} names the kind. The service pushes {@link Update} (the whole configuration and cluster state) first,
 * then {@link Diff}s from what that connection was sent last, and {@link Error} before it closes a channel; an agent
 * sends {@link State} when its state changed and {@link Ping} now and then.
 */
public sealed interface AgentMessage {

    /** The whole configuration and cluster state: {@code {"type":"update","configuration":..,"cluster_state":..}}. */
    record Update(Configuration configuration, ClusterState clusterState) implements AgentMessage {
    }

    /** What changed since the connection's last push: {@code {"type":"diff","configuration":..,"cluster_state":..}}. */
    record Diff(ConfigurationDiff configuration, ClusterStateDiff clusterState) implements AgentMessage {
    }

    /** Why the service closes the channel: {@code {"type":"error","description":".."}}. */
    record Error(String description) implements AgentMessage {
    }

    /** The node's whole state: {@code {"type":"state","state":{..}}}. */
    record State(NodeState state) implements AgentMessage {
    }

    /** The node is alive and its state unchanged: {@code {"type":"ping"}}. */
    record Ping() implements AgentMessage {
    }

    /**
     * The service stored a state or ping of this agent: {@code {"type":"ack"}}, one per message, in order. The agent holds
     * its right to write replicated datasets from the sending of the message acknowledged (its lease).
     */
    record Ack() implements AgentMessage {
    }

    /** The JSON text of {@code message}. */
    static String write(AgentMessage message) {
        var node = Json.MAPPER.createObjectNode();
        switch (message) {
            case Update m -> node.put("type", "update").<ObjectNode>set("configuration", tree(m.configuration()))
                    .set("cluster_state", tree(m.clusterState()));
            case Diff m -> node.put("type", "diff").<ObjectNode>set("configuration", tree(m.configuration()))
                    .set("cluster_state", tree(m.clusterState()));
            case Error m -> node.put("type", "error").put("description", m.description());
            case State m -> node.put("type", "state").set("state", tree(m.state()));
            case Ping m -> node.put("type", "ping");
            case Ack m -> node.put("type", "ack");
        }
        return Json.write(node);
    }

    /** Reads a message; a malformed one or an unknown type is an {@link IllegalArgumentException} saying what is wrong. */
    static AgentMessage read(String text) {
        JsonNode node;
        try {
            node = Json.read(text, JsonNode.class);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        if (!(node instanceof ObjectNode)) {
            throw new IllegalArgumentException("a message is a JSON object with a 'type'");
        }
        var type = node.path("type").asText();
        try {
            return switch (type) {
                case "update" -> new Update(field(node, "configuration", Configuration.class), field(node, "cluster_state", ClusterState.class));
                case "diff" -> new Diff(field(node, "configuration", ConfigurationDiff.class), field(node, "cluster_state", ClusterStateDiff.class));
                case "error" -> new Error(node.path("description").asText());
                case "state" -> new State(field(node, "state", NodeState.class));
                case "ping" -> new Ping();
                case "ack" -> new Ack();
                default -> throw new IllegalArgumentException("unknown message type '" + type + "' (expected update, diff, error, state, ping or ack)");
            };
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad '" + type + "' message: " + e.getMessage(), e);
        }
    }

    private static JsonNode tree(Object value) {
        return Json.MAPPER.valueToTree(value);
    }

    private static <T> T field(JsonNode node, String name, Class<T> type) {
        var value = node.get(name);
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("'" + node.path("type").asText() + "' message without '" + name + "'");
        }
        try {
            return Json.MAPPER.convertValue(value, type);
        } catch (IllegalArgumentException e) {
            var cause = e.getCause() == null ? e : e.getCause();
            var message = cause instanceof com.fasterxml.jackson.core.JsonProcessingException json ? json.getOriginalMessage() : cause.getMessage();
            throw new IllegalArgumentException("bad '" + node.path("type").asText() + "' message: " + message, e);
        }
    }
}
