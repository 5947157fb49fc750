package dev.flocker.control.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.Lease;
import dev.flocker.api.model.NodeId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A writer's change found from the edits its configuration tracked (O(changes)) is exactly the change a comparison of the
 * whole maps finds, for every kind of edit and chains of them.
 */
class ConfigurationChangeTest {
    private static final NodeId N1 = NodeId.of("00000001-0000-4000-8000-000000000001");
    private static final NodeId N2 = NodeId.of("00000002-0000-4000-8000-000000000002");
    private static final Instant NOW = Instant.parse("2026-12-04T12:00:00Z");

    @Test
    void trackedEditsGiveTheSameChangeAsComparingTheWholeConfiguration() {
        var random = new Random(20261204);
        var ids = new ArrayList<DatasetId>();
        for (int i = 0; i < 40; i++) {
            ids.add(DatasetId.random());
        }
        var configuration = Configuration.EMPTY;
        for (int round = 0; round < 500; round++) {
            var before = configuration;
            var after = before.tracked();
            int edits = 1 + random.nextInt(4);
            for (int e = 0; e < edits; e++) {
                after = edit(after, random, ids);
            }
            var fast = ConfigurationChange.between(before, after, before.version() + 1);
            var whole = ConfigurationChange.between(before, after.untracked(), before.version() + 1);
            assertThat(fast).as("round %d", round).isEqualTo(whole);
            assertThat(fast.applyTo(before)).isEqualTo(after.untracked().atVersion(before.version() + 1));
            configuration = after.untracked().atVersion(before.version() + 1);
        }
        assertThat(configuration.datasets()).isNotEmpty();
        assertThat(configuration.leases()).isNotEmpty();
    }

    @Test
    void onlyTheTrackedEntriesAreLookedAtAndTheEditsAreNotPartOfTheValue() {
        var id = DatasetId.random();
        var before = Configuration.EMPTY.withDataset(new Dataset(id, N1, false, Map.of(), null));
        var after = before.tracked().withDataset(new Dataset(id, N2, false, Map.of(), null));
        // The same maps, but edits that name nothing: the change is looked for among the tracked keys alone.
        var noEdits = new Configuration(after.version(), after.datasets(), after.applications(), after.leases(), before.tracked().edits());
        assertThat(ConfigurationChange.between(before, noEdits, 2).puts()).isEmpty();
        assertThat(ConfigurationChange.between(before, after, 2).puts()).containsOnlyKeys("dataset/" + id.value());
        // A base other than the one compared against: the whole maps are compared.
        var other = Configuration.EMPTY.withDataset(new Dataset(id, N1, false, Map.of("x", "y"), null));
        assertThat(ConfigurationChange.between(other, noEdits, 2).puts()).containsOnlyKeys("dataset/" + id.value());

        assertThat(after).isEqualTo(after.untracked()).hasSameHashCodeAs(after.untracked());
        assertThat(Json.write(after)).isEqualTo(Json.write(after.untracked())).doesNotContain("edits");
    }

    private static Configuration edit(Configuration c, Random random, List<DatasetId> ids) {
        var id = ids.get(random.nextInt(ids.size()));
        var node = random.nextBoolean() ? N1 : N2;
        var app = "app-" + random.nextInt(6);
        return switch (random.nextInt(10)) {
            case 0, 1 -> c.withDataset(new Dataset(id, node, false, Map.of("n", Integer.toString(random.nextInt(3))), null));
            case 2 -> c.withoutDataset(id);
            case 3 -> c.withApplication(application(app, node, id));
            case 4 -> c.withoutApplication(app);
            case 5 -> c.withLease(new Lease(id, node, random.nextBoolean() ? NOW.minusSeconds(5) : NOW.plusSeconds(60)));
            case 6 -> c.withoutLease(id);
            case 7 -> c.withoutExpiredLeases(NOW);
            case 8 -> c.withDeployment(List.of(new Dataset(id, node, false, Map.of("deployed", "yes"), null)),
                    List.of(application(app, node, id), application("app-" + random.nextInt(6), N1, id)));
            default -> c.with(c.version() + 1, List.of(new Dataset(id, node, random.nextBoolean(), Map.of(), null)),
                    List.of(ids.get(random.nextInt(ids.size()))), List.of(application(app, node, id)), List.of("app-" + random.nextInt(6)),
                    List.of(new Lease(ids.get(random.nextInt(ids.size())), node, null)), List.of(ids.get(random.nextInt(ids.size()))));
        };
    }

    private static Application application(String name, NodeId node, DatasetId id) {
        return new Application(node, name, "flocker/busybox:local", List.of(), Map.of(), null, List.of("sleep", "1"),
                List.of(new Application.Volume(id, "/data")), null, null, List.of());
    }
}
