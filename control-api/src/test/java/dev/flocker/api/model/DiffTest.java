package dev.flocker.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DiffTest {
    private static final NodeId A = NodeId.random();
    private static final NodeId B = NodeId.random();

    @Test
    void applyingTheDiffOfTwoConfigurationsGivesTheLaterOneAfterAnySequenceOfChanges() {
        var random = new SplittableRandom(7);
        var ids = new java.util.ArrayList<DatasetId>();
        var config = Configuration.EMPTY;
        for (int step = 0; step < 300; step++) {
            var before = config;
            int changes = 1 + random.nextInt(4);
            for (int c = 0; c < changes; c++) {
                switch (random.nextInt(5)) {
                    case 0, 1 -> {
                        var id = DatasetId.random();
                        ids.add(id);
                        config = config.withDataset(new Dataset(id, A, false, Map.of("name", "d" + step), null));
                    }
                    case 2 -> {
                        if (!ids.isEmpty()) {
                            var id = ids.get(random.nextInt(ids.size()));
                            config = config.withDataset(config.dataset(id).orElseThrow().withPrimary(B));
                        }
                    }
                    case 3 -> {
                        if (!ids.isEmpty()) {
                            config = config.withoutDataset(ids.remove(random.nextInt(ids.size())));
                        }
                    }
                    default -> config = config.withLease(new Lease(DatasetId.random(), A, null));
                }
            }
            var diff = ConfigurationDiff.between(before, config);
            var rebuilt = Json.read(Json.write(diff), ConfigurationDiff.class).applyTo(before);
            assertThat(rebuilt).isEqualTo(config);
        }
    }

    @Test
    void aDiffRefusesTheWrongBase() {
        var one = Configuration.EMPTY.withDataset(new Dataset(DatasetId.random(), A, false, Map.of(), null));
        var two = one.withDataset(new Dataset(DatasetId.random(), A, false, Map.of(), null));
        assertThatThrownBy(() -> ConfigurationDiff.between(one, two).applyTo(Configuration.EMPTY)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void clusterStateDiffsCarryOnlyChangedAndRemovedNodes() {
        var a = new NodeState(A, "10.0.0.1", "e", List.of(), List.of(), List.of());
        var b = new NodeState(B, "10.0.0.2", "e", List.of(), List.of(), List.of());
        var from = new ClusterState(Map.of(A, a, B, b));
        var a2 = new NodeState(A, "10.0.0.1", "e2", List.of(), List.of(), List.of());
        var to = new ClusterState(Map.of(A, a2));
        var diff = ClusterStateDiff.between(from, to);
        assertThat(diff.nodes()).containsExactly(a2);
        assertThat(diff.removedNodes()).containsExactly(B);
        assertThat(Json.read(Json.write(diff), ClusterStateDiff.class).applyTo(from)).isEqualTo(to);
    }
}
