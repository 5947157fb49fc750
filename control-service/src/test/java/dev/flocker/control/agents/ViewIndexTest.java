package dev.flocker.control.agents;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The index kept change by change agrees with one computed from scratch, after every step of a random history of
 * configurations and reports (datasets created, moved, given standbys, deleted; copies held and dropped; moves;
 * applications; nodes coming, going and going offline).
 */
class ViewIndexTest {
    private static Set<DatasetId> fromScratch(NodeId node, Configuration c, ClusterState s) {
        var ids = new HashSet<DatasetId>();
        for (var d : c.datasets().values()) {
            if (node.equals(d.primary()) || d.standbyNodes().contains(node)) {
                ids.add(d.datasetId());
            }
        }
        for (var a : c.applications().values()) {
            if (node.equals(a.node())) {
                ids.addAll(a.datasets());
            }
        }
        for (var nodes : List.of(s.nodes(), s.offline())) {
            for (var n : nodes.values()) {
                for (var d : n.datasets()) {
                    if (n.uuid().equals(node)) {
                        ids.add(d.datasetId());
                    }
                }
                for (var m : n.moves()) {
                    if (n.uuid().equals(node) || node.equals(m.from()) || node.equals(m.to())) {
                        ids.add(m.datasetId());
                    }
                }
            }
        }
        return ids;
    }

    @Test
    void theIndexKeptStepByStepIsTheIndexComputedFromScratch() {
        var random = new Random(20261127);
        var nodes = new ArrayList<NodeId>();
        for (int i = 0; i < 6; i++) {
            nodes.add(NodeId.random());
        }
        var datasets = new ArrayList<DatasetId>();
        for (int i = 0; i < 40; i++) {
            datasets.add(DatasetId.random());
        }
        var index = new ViewIndex();
        var config = Configuration.EMPTY;
        var reports = new HashMap<NodeId, NodeState>();
        var offline = new HashMap<NodeId, NodeState>();
        for (int step = 0; step < 400; step++) {
            var node = nodes.get(random.nextInt(nodes.size()));
            var id = datasets.get(random.nextInt(datasets.size()));
            var existing = config.dataset(id);
            switch (random.nextInt(8)) {
                case 0, 1 -> config = config.withDataset(new Dataset(id, node, false, Map.of(), null));
                case 2 -> {
                    if (existing.isPresent() && !existing.get().primary().equals(node)) {
                        config = config.withDataset(existing.get().withReplicas(1, List.of(node)));
                    }
                }
                case 3 -> config = config.withoutDataset(id);
                case 4 -> {
                    var held = new ArrayList<NodeState.DatasetState>();
                    var seen = new HashSet<DatasetId>();
                    for (int k = random.nextInt(4); k > 0; k--) {
                        var d = datasets.get(random.nextInt(datasets.size()));
                        if (seen.add(d)) {
                            held.add(new NodeState.DatasetState(d, false, null, null, 1));
                        }
                    }
                    var moves = new ArrayList<NodeState.MoveState>();
                    if (random.nextBoolean()) {
                        moves.add(new NodeState.MoveState(id, node, nodes.get(random.nextInt(nodes.size())), MovePhase.PRE_COPY, 1, 2, 1.0, 1.0, null));
                    }
                    reports.put(node, new NodeState(node, "10.1.1." + (nodes.indexOf(node) + 1), "era-" + random.nextInt(2), held, List.of(), moves));
                    offline.remove(node);
                }
                case 5 -> {
                    var gone = reports.remove(node);
                    if (gone != null && random.nextBoolean()) {
                        offline.put(node, gone.holdings());
                    }
                }
                case 6 -> config = config.withApplication(new Application(node, "app" + random.nextInt(3), "busybox", List.of(), Map.of(), null,
                        List.of(), List.of(new Application.Volume(id, "/data")), null, null, List.of()));
                default -> config = config.withoutApplication("app" + random.nextInt(3));
            }
            var state = new ClusterState(reports, offline);
            index.advance(config, state);
            for (var n : nodes) {
                var expected = fromScratch(n, config, state);
                assertThat(index.datasetsOf(n)).as("step %d, node %s", step, n).isEqualTo(expected);
                assertThat(index.configurationFor(n).datasets().keySet()).isSubsetOf(expected);
                for (var shown : index.stateFor(n).nodes().values()) {
                    if (!shown.uuid().equals(n)) {
                        assertThat(shown.datasets()).allMatch(d -> expected.contains(d.datasetId()));
                    }
                }
            }
        }
    }
}
