package dev.flocker.api.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a dataset's standby copies go, as a pure function of the configuration and the cluster state: the nodes named
 * (pinned) first, then the standbys it has (a choice once made is kept), then reporting nodes that keep datasets, fewest
 * copies (primaries and standbys in the configuration) first, ties by node id, so the choice is stable and spread. Never
 * the primary.
 */
public final class Standbys {
    private Standbys() {
    }

    /** Up to {@code count} standby nodes for {@code dataset}; fewer when the cluster has too few other nodes. */
    public static List<NodeId> choose(Dataset dataset, int count, List<NodeId> pinned, Configuration config, ClusterState cluster) {
        var chosen = new ArrayList<NodeId>();
        for (var node : pinned) {
            if (chosen.size() < count && !node.equals(dataset.primary()) && !chosen.contains(node)) {
                chosen.add(node);
            }
        }
        for (var node : dataset.standbyNodes()) {
            if (chosen.size() < count && !node.equals(dataset.primary()) && !chosen.contains(node)) {
                chosen.add(node);
            }
        }
        if (chosen.size() >= count) {
            return chosen;
        }
        var load = copiesByNode(config);
        var candidates = cluster.nodes().values().stream().filter(n -> n.datasetRoot() != null).map(n -> n.uuid())
                .filter(n -> !n.equals(dataset.primary()) && !chosen.contains(n))
                .sorted(Comparator.<NodeId>comparingInt(n -> load.getOrDefault(n, 0)).thenComparing(NodeId::toString)).toList();
        for (var node : candidates) {
            if (chosen.size() >= count) {
                break;
            }
            chosen.add(node);
        }
        return chosen;
    }

    private static Map<NodeId, Integer> copiesByNode(Configuration config) {
        var load = new HashMap<NodeId, Integer>();
        for (var d : config.datasets().values()) {
            if (!d.deleted()) {
                load.merge(d.primary(), 1, Integer::sum);
                d.standbyNodes().forEach(n -> load.merge(n, 1, Integer::sum));
            }
        }
        return load;
    }
}
