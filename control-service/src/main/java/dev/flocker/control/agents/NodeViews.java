package dev.flocker.control.agents;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.pcollections.TreePMap;

/**
 * What each agent is sent of one configuration and cluster state: the part that concerns its node. A dataset concerns
 * a node when the node is its primary or a standby in the configuration, runs an application that uses it, holds a copy
 * (or held one, offline), or takes part in a move of it. A node's view has those datasets and their leases, every application (each host's proxy routes
 * to all of them), its own report whole, and the other nodes' reports with only those datasets and moves. So at
 * 100,000 datasets an agent with 100 gets 100, and a change reaches only the agents it concerns ({@link #affected}).
 * Pure: built from the two values, with indexes both ways between nodes and datasets.
 */
final class NodeViews {
    record View(Configuration configuration, ClusterState state) {
    }

    private final Configuration configuration;
    private final ClusterState state;
    private final Map<NodeId, Set<DatasetId>> datasetsOf = new HashMap<>();
    private final Map<DatasetId, Set<NodeId>> nodesOf = new HashMap<>();
    private final Function<NodeState, NodeState> stripped;

    /**
     * @param stripped a node's report without datasets and moves; the caller keeps them across versions so an
     *                 unchanged node stays the same object (diffs compare by identity first)
     */
    NodeViews(Configuration configuration, ClusterState state, Function<NodeState, NodeState> stripped) {
        this.configuration = configuration;
        this.state = state;
        this.stripped = stripped;
        for (var d : configuration.datasets().values()) {
            concern(d.primary(), d.datasetId());
            for (var standby : d.standbyNodes()) {
                concern(standby, d.datasetId());
            }
        }
        for (var application : configuration.applications().values()) {
            for (var dataset : application.datasets()) {
                concern(application.node(), dataset);
            }
        }
        for (var nodes : java.util.List.of(state.nodes(), state.offline())) {
            for (var node : nodes.values()) {
                for (var ds : node.datasets()) {
                    concern(node.uuid(), ds.datasetId());
                }
                for (var move : node.moves()) {
                    concern(move.from(), move.datasetId());
                    concern(move.to(), move.datasetId());
                    concern(node.uuid(), move.datasetId());
                }
            }
        }
    }

    private void concern(NodeId node, DatasetId dataset) {
        if (node == null) {
            return;
        }
        datasetsOf.computeIfAbsent(node, k -> new HashSet<>()).add(dataset);
        nodesOf.computeIfAbsent(dataset, k -> new HashSet<>(2)).add(node);
    }

    Configuration configuration() {
        return configuration;
    }

    ClusterState state() {
        return state;
    }

    /** The nodes {@code dataset} concerns. */
    Set<NodeId> nodesOf(DatasetId dataset) {
        return nodesOf.getOrDefault(dataset, Set.of());
    }

    /** {@code node}'s view. */
    View view(NodeId node) {
        var ids = datasetsOf.getOrDefault(node, Set.of());
        var datasets = TreePMap.<DatasetId, dev.flocker.api.model.Dataset>empty();
        var leases = TreePMap.<DatasetId, dev.flocker.api.model.Lease>empty();
        var holders = new HashSet<NodeId>();
        for (var id : ids) {
            var d = configuration.datasets().get(id);
            if (d != null) {
                datasets = datasets.plus(id, d);
            }
            var l = configuration.leases().get(id);
            if (l != null) {
                leases = leases.plus(id, l);
            }
            holders.addAll(nodesOf(id));
        }
        var config = new Configuration(configuration.version(), datasets, configuration.applications(), leases);
        return new View(config, new ClusterState(only(state.nodes(), node, ids, holders), only(state.offline(), node, ids, holders)));
    }

    private Map<NodeId, NodeState> only(Map<NodeId, NodeState> nodes, NodeId self, Set<DatasetId> ids, Set<NodeId> holders) {
        var result = new HashMap<NodeId, NodeState>(nodes.size() * 2);
        for (var n : nodes.values()) {
            NodeState shown;
            if (n.uuid().equals(self)) {
                shown = n;
            } else if (!holders.contains(n.uuid())) {
                shown = stripped.apply(n);
            } else {
                shown = new NodeState(n.uuid(), n.host(), n.era(), n.datasets().stream().filter(d -> ids.contains(d.datasetId())).toList(),
                        n.applications(), n.moves().stream().filter(m -> ids.contains(m.datasetId())).toList(), n.datasetRoot(), n.busyPorts(),
                        n.setAside(), n.fenceAfterSeconds());
            }
            result.put(n.uuid(), shown);
        }
        return result;
    }

    /** A node's report without its datasets and moves: what a node it does not share a dataset with is shown. */
    static NodeState strip(NodeState n) {
        return new NodeState(n.uuid(), n.host(), n.era(), java.util.List.of(), n.applications(), java.util.List.of(), n.datasetRoot(),
                n.busyPorts(), n.setAside(), n.fenceAfterSeconds());
    }

    /** Every node, when a change concerns all of them. */
    static final Set<NodeId> EVERY_NODE = java.util.Collections.unmodifiableSet(new HashSet<>());

    /**
     * The nodes whose views differ between {@code before} and {@code after}, or {@link #EVERY_NODE}: O(changes) plus a
     * walk of the two sorted dataset maps.
     */
    static Set<NodeId> affected(NodeViews before, NodeViews after) {
        var nodes = new HashSet<NodeId>();
        var a = before.configuration;
        var b = after.configuration;
        if (a.applications() != b.applications() && !a.applications().equals(b.applications())) {
            return EVERY_NODE;
        }
        java.util.function.Consumer<DatasetId> touched = id -> {
            nodes.addAll(before.nodesOf(id));
            nodes.addAll(after.nodesOf(id));
        };
        dev.flocker.control.store.ConfigurationChange.diff(a.datasets(), b.datasets(), (id, d) -> touched.accept(id), touched);
        dev.flocker.control.store.ConfigurationChange.diff(a.leases(), b.leases(), (id, l) -> touched.accept(id), touched);
        var s = before.state;
        var t = after.state;
        if (s.offline() != t.offline() && !s.offline().equals(t.offline())) {
            return EVERY_NODE;
        }
        if (s.nodes() != t.nodes()) {
            var ids = new HashSet<>(s.nodes().keySet());
            ids.addAll(t.nodes().keySet());
            for (var id : ids) {
                var old = s.nodes().get(id);
                var now = t.nodes().get(id);
                if (old == now) {
                    continue;
                }
                if (old == null || now == null || !strip(old).equals(strip(now))) {
                    return EVERY_NODE; // a node came, went, or changed what every view shows of it
                }
                if (old.equals(now)) {
                    continue;
                }
                nodes.add(id);
                for (var n : java.util.List.of(old, now)) {
                    n.datasets().forEach(d -> touched.accept(d.datasetId()));
                    n.moves().forEach(m -> touched.accept(m.datasetId()));
                }
            }
        }
        return nodes;
    }
}
