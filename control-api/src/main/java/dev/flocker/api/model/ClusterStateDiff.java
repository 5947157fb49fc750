package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The change from one cluster state to a later one: the node reports that changed and the nodes that went, and the
 * whole list of offline nodes when it changed (it is short), else null.
 */
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
public record ClusterStateDiff(@JsonProperty("nodes") List<NodeState> nodes, @JsonProperty("removed_nodes") List<NodeId> removedNodes,
                               @JsonProperty("offline_nodes") List<NodeState> offline) {

    public static ClusterStateDiff between(ClusterState from, ClusterState to) {
        var changed = new ArrayList<NodeState>();
        for (var node : to.nodes().values()) {
            var before = from.nodes().get(node.uuid());
            if (before != node && !node.equals(before)) {
                changed.add(node);
            }
        }
        var removed = from.nodes().keySet().stream().filter(id -> !to.nodes().containsKey(id)).toList();
        return new ClusterStateDiff(changed, removed, from.offline().equals(to.offline()) ? null : List.copyOf(to.offline().values()));
    }

    public ClusterState applyTo(ClusterState from) {
        var nodeMap = new LinkedHashMap<>(from.nodes());
        removedNodes.forEach(nodeMap::remove);
        nodes.forEach(n -> nodeMap.put(n.uuid(), n));
        return new ClusterState(nodeMap, offline == null ? from.offline() : ClusterState.byNode(offline));
    }

    public boolean empty() {
        return nodes.isEmpty() && removedNodes.isEmpty() && offline == null;
    }
}
