package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What every live agent last reported: the observed state of the cluster, keyed by node.
 *
 * @param nodes   the live nodes' reports
 * @param offline the last reports of nodes that held datasets and stopped reporting: their copies may still exist, so
 *                no agent may treat those datasets as absent (Flocker's FLOC-2060 created them empty elsewhere)
 */
public record ClusterState(Map<NodeId, NodeState> nodes, Map<NodeId, NodeState> offline) {
    public static final ClusterState EMPTY = new ClusterState(Map.of());

    public ClusterState {
        nodes = java.util.Collections.unmodifiableMap(new TreeMap<>(nodes));
        offline = offline == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(offline));
    }

    public ClusterState(Map<NodeId, NodeState> nodes) {
        this(nodes, Map.of());
    }

    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
    record Form(@JsonProperty("nodes") List<NodeState> nodes, @JsonProperty("offline_nodes") List<NodeState> offline) {
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static ClusterState fromJson(Form form) {
        return new ClusterState(byNode(form.nodes()), byNode(form.offline()));
    }

    static Map<NodeId, NodeState> byNode(List<NodeState> nodes) {
        var map = new TreeMap<NodeId, NodeState>();
        if (nodes != null) {
            nodes.forEach(n -> map.put(n.uuid(), n));
        }
        return map;
    }

    @JsonValue
    Form toJson() {
        return new Form(List.copyOf(nodes.values()), List.copyOf(offline.values()));
    }

    /** Offline nodes whose last report held {@code dataset}. */
    public List<NodeState> offlineHolders(DatasetId dataset) {
        return offline.values().stream().filter(n -> n.dataset(dataset).isPresent()).toList();
    }

    public Optional<NodeState> node(NodeId id) {
        return Optional.ofNullable(nodes.get(id));
    }

    public Optional<NodeState> nodeByHost(String host) {
        return nodes.values().stream().filter(n -> n.host().equals(host)).findFirst();
    }

    /** The node whose writable copy of {@code dataset} is reported, if any. */
    public Optional<NodeState> primaryOf(DatasetId dataset) {
        return nodes.values().stream().filter(n -> n.dataset(dataset).filter(NodeState.DatasetState::primary).isPresent()).findFirst();
    }

    /** Every node that reports holding {@code dataset}, primary or replica. */
    public List<NodeState> holders(DatasetId dataset) {
        return nodes.values().stream().filter(n -> n.dataset(dataset).isPresent()).toList();
    }

    public List<NodeState.MoveState> moves() {
        return nodes.values().stream().flatMap(n -> n.moves().stream()).toList();
    }
}
