package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The datasets a periodic task looks at, kept from the changes between versions and walked again only when they are unknown. */
class DatasetsWhereTest {
    static final NodeId A = NodeId.of("aaaaaaaa-0000-4000-8000-000000000001");
    static final NodeId B = NodeId.of("bbbbbbbb-0000-4000-8000-000000000002");

    @Test
    void followsTheChangesAndWalksOnlyWhenTheyAreNotKnown() {
        var changes = new HashMap<Long, Set<DatasetId>>(); // version -> datasets its change touched
        var known = new boolean[] {true};
        var tombstones = new DatasetsWhere(Dataset::deleted, (from, to) -> {
            if (!known[0]) {
                return null;
            }
            var touched = new java.util.HashSet<DatasetId>();
            for (long v = from + 1; v <= to; v++) {
                touched.addAll(changes.get(v));
            }
            return touched;
        });
        var ids = List.of(DatasetId.random(), DatasetId.random(), DatasetId.random());
        var config = Configuration.EMPTY;
        for (var id : ids) {
            config = config.withDataset(new Dataset(id, A, false, Map.of(), null));
        }
        assertThat(tombstones.in(config)).isEmpty();
        assertThat(tombstones.walks()).as("the first look walks").isEqualTo(1);

        config = config.withDataset(config.datasets().get(ids.get(1)).asDeleted(Instant.now()));
        changes.put(config.version(), Set.of(ids.get(1)));
        var moved = config.withDataset(new Dataset(ids.get(2), B, false, Map.of(), null));
        changes.put(moved.version(), Set.of(ids.get(2)));
        assertThat(tombstones.in(moved)).containsExactly(ids.get(1));
        assertThat(tombstones.in(moved)).as("the same configuration again").containsExactly(ids.get(1));
        var gone = moved.withoutDataset(ids.get(1));
        changes.put(gone.version(), Set.of(ids.get(1)));
        assertThat(tombstones.in(gone)).as("the tombstone dropped").isEmpty();
        assertThat(tombstones.walks()).as("two versions apart, from their changes").isEqualTo(1);

        var rewound = moved.withDataset(config.datasets().get(ids.get(0)).asDeleted(Instant.now())); // another change at gone's version
        assertThat(rewound.version()).isEqualTo(gone.version());
        assertThat(tombstones.in(rewound)).as("another configuration at the same version: walked").containsExactlyInAnyOrder(ids.get(0), ids.get(1));
        assertThat(tombstones.walks()).isEqualTo(2);

        known[0] = false;
        var later = rewound.withoutDataset(ids.get(0));
        assertThat(tombstones.in(later)).as("changes not known (a reload): walked").containsExactly(ids.get(1));
        assertThat(tombstones.walks()).isEqualTo(3);
    }
}
