package dev.flocker.agent.plan;

import static dev.flocker.agent.plan.PlannerTest.A;
import static dev.flocker.agent.plan.PlannerTest.B;
import static dev.flocker.agent.plan.PlannerTest.C;
import static dev.flocker.agent.plan.PlannerTest.D;
import static dev.flocker.agent.plan.PlannerTest.held;
import static dev.flocker.agent.plan.PlannerTest.row;
import static dev.flocker.agent.plan.PlannerTest.world;

import dev.flocker.api.model.NodeState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Replication, fencing, promotion and demotion, as the planner's table (seen from node A). */
class ReplicaPlannerTest {
    static final Duration SECOND = Duration.ofSeconds(1);

    static NodeState.DatasetState standbyCopy(long generation) {
        return new NodeState.DatasetState(D, false, null, null, generation, null, PlannerTest.NOW.minusSeconds(1), null);
    }

    static Stream<Arguments> situations() {
        var rows = new ArrayList<Arguments>();
        rows.add(row("primary here with a standby reporting: an increment is shipped to it",
                world().dataset(D, A, null).standbys(D, B).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2"),
                "Replicate dddddddd -> 10.0.0.2"));
        rows.add(row("two standbys, one not reporting: shipped to the other, the first waited for",
                world().dataset(D, A, null).standbys(D, B, C).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2"),
                "Replicate dddddddd -> 10.0.0.2", "Wait dddddddd: standby " + C + " is not reporting"));
        rows.add(row("a round runs: nothing more",
                world().dataset(D, A, null).standbys(D, B).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2").replication(D, true, null, false)));
        rows.add(row("the last round ended less than the interval ago: nothing yet",
                world().dataset(D, A, null).standbys(D, B).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2")
                        .replication(D, false, Duration.ofMillis(400), false)));
        rows.add(row("the last round ended more than the interval ago: the next one",
                world().dataset(D, A, null).standbys(D, B).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2")
                        .replication(D, false, Duration.ofMillis(1500), false), "Replicate dddddddd -> 10.0.0.2"));
        rows.add(row("a failed round is retried after a longer pause",
                world().dataset(D, A, null).standbys(D, B).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2")
                        .replication(D, false, Duration.ofMillis(1500), true)));
        rows.add(row("a dataset without standbys is never replicated",
                world().dataset(D, A, null).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2")));
        var fenced = world().dataset(D, A, null).standbys(D, B).app("db", A, D, "postgres").copy(D, A, 1, true, 3, SECOND)
                .node(B, "10.0.0.2").lease(false);
        fenced.container("db", D, fenced.application("db"));
        rows.add(row("lease lapsed: the copy is fenced (its users stop, read-only), nothing shipped, the application not started again",
                fenced, "Fence dddddddd", "Wait dddddddd: fenced"));
        rows.add(row("lease lapsed, already fenced: only the wait; its container is made, never started",
                world().dataset(D, A, null).standbys(D, B).app("db", A, D, "postgres").copy(D, A, 1, false, 3, SECOND).node(B, "10.0.0.2")
                        .lease(false), "CreateApplication db", "Wait dddddddd: fenced"));
        rows.add(row("a lapsed lease does not touch datasets without standbys",
                world().dataset(D, A, null).app("db", A, D, "postgres").copy(D, A, 1, true, 3, SECOND).lease(false), "StartApplication db"));
        rows.add(row("lease renewed, no failover happened: writable again, the application starts",
                world().dataset(D, A, null).standbys(D, B).app("db", A, D, "postgres").copy(D, A, 1, false, 3, SECOND).node(B, "10.0.0.2"),
                "MakeWritable dddddddd", "StartApplication db"));
        rows.add(row("promoted: the standby copy here takes over at the failover's generation",
                world().failover(D, B, A, 3).copy(D, B, 2, false, 4, SECOND), "TakeOver dddddddd gen 3"));
        rows.add(row("promoted but without a lease: waits (a cut-off node never starts writing)",
                world().failover(D, B, A, 3).copy(D, B, 2, false, 4, SECOND).lease(false),
                "Wait dddddddd: the owner " + B + " is not reporting"));
        rows.add(row("promoted, but the copy here never got a snapshot: never made writable",
                world().failover(D, B, A, 3).copy(D, null, 0, false, 0, SECOND).node(B, "10.0.0.2"),
                "Wait dddddddd: this host has a replica but no host reports the writable copy"));
        rows.add(row("after taking over: made writable as any owner's copy, and shipped to the new standby (the old primary)",
                world().failover(D, B, A, 3).copy(D, A, 3, false, 4, SECOND).node(B, "10.0.0.2"), "MakeWritable dddddddd"));
        rows.add(row("the old primary back with its own line at an older generation: set aside, never overwritten",
                world().failover(D, A, B, 3).copy(D, A, 2, false, 4, SECOND).node(B, "10.0.0.2", held(D, true, 3)), "SetAside dddddddd gen 2"));
        rows.add(row("the new primary waits while the old one still reports its own line",
                world().failover(D, B, A, 3).copy(D, A, 3, true, 4, SECOND).node(B, "10.0.0.2", held(D, true, 2)),
                "Wait dddddddd: standby " + B + " still holds its own writable line"));
        rows.add(row("a standby copy with many snapshots is pruned to the newest few",
                world().dataset(D, B, null).standbys(D, A).copy(D, null, 0, false, 12, SECOND).node(B, "10.0.0.2", held(D, true, 1)),
                "PruneSnapshots dddddddd"));
        rows.add(row("a move to a standby waits for the running replication round",
                world().dataset(D, B, null).standbys(D, A).copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2", standbyCopy(0))
                        .replication(D, true, null, false)));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("situations")
    void plans(String situation, PlannerTest.World world, List<String> expected) {
        PlannerTest.assertPlans(situation, Planner.plan(world.input()), expected);
    }

    @Test
    void cutOffFromTheControlServiceOnlyFences() {
        var world = world().dataset(D, A, null).standbys(D, B).app("db", A, D, "postgres").copy(D, A, 1, true, 3, SECOND).node(B, "10.0.0.2");
        world.container("db", D, world.application("db"));
        PlannerTest.assertPlans("fence only", Planner.fenceOnly(world.input()), List.of("Fence dddddddd", "Wait dddddddd: fenced"));
    }
}
