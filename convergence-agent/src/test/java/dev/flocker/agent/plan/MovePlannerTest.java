package dev.flocker.agent.plan;

import static dev.flocker.agent.plan.PlannerTest.A;
import static dev.flocker.agent.plan.PlannerTest.B;
import static dev.flocker.agent.plan.PlannerTest.C;
import static dev.flocker.agent.plan.PlannerTest.D;
import static dev.flocker.agent.plan.PlannerTest.E;
import static dev.flocker.agent.plan.PlannerTest.NOW;
import static dev.flocker.agent.plan.PlannerTest.assertPlans;
import static dev.flocker.agent.plan.PlannerTest.held;
import static dev.flocker.agent.plan.PlannerTest.row;
import static dev.flocker.agent.plan.PlannerTest.world;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.agent.plan.PlannerTest.World;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.MovePhase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The move protocol as a table, seen from the source host A moving dataset D to B: what it observes (its copy in ZFS,
 * B's report, its containers, the background work's progress) and the one next thing it plans. The rows marked
 * "crash" are the states a kill -9 can leave at each point of a handoff (the agent then has no progress in memory);
 * MovesTest kills real agents at the same points on the lab.
 */
class MovePlannerTest {
    static final long MIB = 1L << 20;
    static final String FULL_HANDOFF = "Handoff dddddddd -> 10.0.0.2 gen 5: HoldConnections, StopUsers, Freeze, PushIncrement, RecordOwner, PassOwnership, ForwardConnections";
    static final String RESUMED_HANDOFF = "Handoff dddddddd -> 10.0.0.2 gen 5: HoldConnections, PushIncrement, RecordOwner, PassOwnership, ForwardConnections";

    /**
     * D is wanted on B, A owns it at generation 4 and its app "db" (port 5432) is configured on B, which made db's
     * container (not running) while the data arrives.
     */
    static World moving(boolean writable, boolean appRunsHere) {
        var w = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 4, writable, null).node(B, "10.0.0.2").made(B, "db");
        if (appRunsHere) {
            w.container("db", D, w.application("db"));
        }
        return w;
    }

    static World progress(World w, MoveProgress progress) {
        w.moves.put(D, progress);
        return w;
    }

    static MoveProgress rounds(long... bytes) {
        var p = MoveProgress.towards(B);
        for (long b : bytes) {
            p = p.running(MovePhase.PRE_COPY).roundDone(b, NOW.minusSeconds(1));
        }
        return p;
    }

    /** D and E are both volumes of "db", which is configured on B (B made its container); A owns both, writable, and db runs here on both. */
    static World group(MoveProgress d, MoveProgress e, boolean eWritable) {
        var w = world().dataset(D, B, null).dataset(E, B, null).local(D, A, 4, true, null).local(E, A, 4, eWritable, null).node(B, "10.0.0.2")
                .made(B, "db");
        w.config = w.config.withApplication(new Application(B, "db", "postgres", List.of(), Map.of(), null, List.of(), List.of(), null, null,
                List.of()).withVolumes(List.of(new Application.Volume(D, "/data"), new Application.Volume(E, "/wal"))));
        w.containers.put("db", new LocalState.LocalContainer("db", ApplicationHash.of(w.application("db")), true, List.of(D, E), "172.17.0.2",
                null));
        if (d != null) {
            w.moves.put(D, d);
        }
        if (e != null) {
            w.moves.put(E, e);
        }
        return w;
    }

    static final String HANDOFF_E = "Handoff eeeeeeee -> 10.0.0.2 gen 5: HoldConnections, StopUsers, Freeze, PushIncrement, RecordOwner, PassOwnership, ForwardConnections";

    static Stream<Arguments> decisions() {
        var rows = new ArrayList<Arguments>();
        rows.add(row("nothing sent yet, the app writes here: pre-copy round 1 (the app keeps running)",
                moving(true, true), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("a pre-copy round runs: nothing new, and the app is not stopped",
                progress(moving(true, true), MoveProgress.towards(B).running(MovePhase.PRE_COPY))));
        rows.add(row("round 1 sent 900 MiB: round 2",
                progress(moving(true, true), rounds(900 * MIB)), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 2"));
        rows.add(row("round 2 sent 100 MiB after 900: still shrinking, round 3",
                progress(moving(true, true), rounds(900 * MIB, 100 * MIB)), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 3"));
        rows.add(row("the last increment is small enough: the handoff",
                progress(moving(true, true), rounds(900 * MIB, 10 * MIB)), FULL_HANDOFF));
        rows.add(row("increments stopped shrinking (the writers are as fast as the copy): the handoff",
                progress(moving(true, true), rounds(100 * MIB, 90 * MIB)), FULL_HANDOFF));
        rows.add(row("the budget of rounds is spent: the handoff",
                progress(moving(true, true), rounds(800 * MIB, 400 * MIB, 200 * MIB, 100 * MIB, 80 * MIB, 60 * MIB, 45 * MIB, 30 * MIB)),
                FULL_HANDOFF));
        rows.add(row("progress towards another node does not count: round 1 towards B",
                progress(moving(true, true), rounds(10 * MIB).running(null).withTo(C)), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("the handoff runs: nothing new (it finishes whatever the configuration says)",
                progress(moving(false, false), MoveProgress.towards(B).running(MovePhase.HANDOFF))));
        rows.add(row("the last attempt failed a second ago: wait before trying again",
                progress(moving(true, true), rounds(900 * MIB).failed(NOW.minusSeconds(1)))));
        rows.add(row("the last attempt failed 3 s ago: tried again from the last common snapshot",
                progress(moving(true, true), rounds(900 * MIB).failed(NOW.minusSeconds(3))), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 2"));
        rows.add(row("a pre-copy runs and the configuration wants it back here: abandoned",
                progress(world().dataset(D, A, null).local(D, A, 4, true, null).node(B, "10.0.0.2"),
                        MoveProgress.towards(B).running(MovePhase.PRE_COPY)),
                "AbandonPreCopy dddddddd: the configuration wants it on this host again"));
        rows.add(row("a pre-copy waits for its next round and the configuration wants it back here: abandoned",
                progress(world().dataset(D, A, null).local(D, A, 4, true, null).node(B, "10.0.0.2"), rounds(900 * MIB)),
                "AbandonPreCopy dddddddd: the configuration wants it on this host again"));
        rows.add(row("a pre-copy runs towards B and the configuration now wants C: abandoned, the next loop starts towards C",
                progress(moving(true, true).dataset(D, C, null).node(C, "10.0.0.3"), MoveProgress.towards(B).running(MovePhase.PRE_COPY)),
                "AbandonPreCopy dddddddd: the configuration now wants it on " + C));
        rows.add(row("a pre-copy runs and the dataset is leased to this host now: abandoned, and waits",
                progress(moving(true, false).lease(D, A), MoveProgress.towards(B).running(MovePhase.PRE_COPY)),
                "AbandonPreCopy dddddddd: leased to this host", "Wait dddddddd: leased to this host"));
        rows.add(row("a pre-copy runs and the target stops reporting: abandoned, and waits",
                progress(world().dataset(D, B, null).local(D, A, 4, true, null), MoveProgress.towards(B).running(MovePhase.PRE_COPY)),
                "AbandonPreCopy dddddddd: the target node", "Wait dddddddd: the target node"));
        rows.add(row("a pre-copy runs and the dataset is deleted: abandoned, then deleted",
                progress(world().dataset(D, B, null).deleted(D).local(D, A, 4, true, null).node(B, "10.0.0.2"),
                        MoveProgress.towards(B).running(MovePhase.PRE_COPY)),
                "DeleteDataset dddddddd", "AbandonPreCopy dddddddd: the dataset was deleted"));
        rows.add(row("a pre-copy runs and the configuration forgets the dataset: abandoned",
                progress(world().local(D, A, 4, true, null).node(B, "10.0.0.2"), MoveProgress.towards(B).running(MovePhase.PRE_COPY)),
                "AbandonPreCopy dddddddd: the configuration no longer has the dataset"));
        // The target makes the applications' containers while the data arrives; a handoff begun before that would wait
        // for them inside the outage.
        var unmade = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 4, true, null).node(B, "10.0.0.2");
        unmade.container("db", D, unmade.application("db"));
        rows.add(row("pre-copied 1 s ago, B has not made db's container yet: the handoff waits (the app keeps running)",
                progress(unmade, rounds(MIB)), "Wait dddddddd: pre-copied; the target makes the container of db before the handoff"));
        var patient = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 4, true, null).node(B, "10.0.0.2");
        patient.container("db", D, patient.application("db"));
        rows.add(row("pre-copied 6 s ago and B has still not made db's container (its image still coming, say): the handoff all the same",
                progress(patient, MoveProgress.towards(B).running(MovePhase.PRE_COPY).roundDone(MIB, NOW.minusSeconds(6))), FULL_HANDOFF));
        var ran = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 4, true, null).node(B, "10.0.0.2")
                .reports(B, new dev.flocker.api.model.NodeState.ApplicationState("db", null, false, null));
        ran.container("db", D, ran.application("db"));
        rows.add(row("pre-copied, B still reports db's container of the last time it ran there (a move back; it is made again): the handoff waits",
                progress(ran, rounds(MIB)), "Wait dddddddd: pre-copied; the target makes the container of db before the handoff"));
        var failed = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 4, true, null).node(B, "10.0.0.2")
                .reports(B, new dev.flocker.api.model.NodeState.ApplicationState("db", null, false, null, null, "image postgres: not found"));
        failed.container("db", D, failed.application("db"));
        rows.add(row("pre-copied, B reports it could not make db's container: nothing to wait for, the handoff",
                progress(failed, rounds(MIB)), FULL_HANDOFF));
        // An application with two datasets (a consistency group): they hand off together, once both are pre-copied.
        rows.add(row("group: both start pre-copying at once",
                group(null, null, true), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1", "PushIncrement eeeeeeee -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("group: D is pre-copied, E's round still runs: D waits (the app keeps running), E is left to finish",
                group(rounds(MIB), MoveProgress.towards(B).running(MovePhase.PRE_COPY), true)));
        var groupUnmade = group(rounds(MIB), rounds(MIB), true);
        groupUnmade.node(B, "10.0.0.2");
        rows.add(row("group: both pre-copied, B has not made db's container yet: both wait, so they still hand off in one plan",
                groupUnmade, "Wait dddddddd: pre-copied; the target makes the container of db", "Wait eeeeeeee: pre-copied; the target makes the container of db"));
        var groupBegun = group(rounds(MIB), MoveProgress.towards(B).running(MovePhase.HANDOFF), false);
        groupBegun.node(B, "10.0.0.2");
        rows.add(row("group: E's handoff runs (it stopped db), D pre-copied, B has not made db's container: D hands off (waiting would lengthen the outage)",
                groupBegun, FULL_HANDOFF));
        rows.add(row("pre-copied and B reports its copy: the owner is recorded beside the final increment, the pass waits for both",
                progress(moving(true, true).node(B, "10.0.0.2", held(D, false, 0)).made(B, "db"), rounds(900 * MIB, MIB)),
                "Handoff dddddddd -> 10.0.0.2 gen 5: HoldConnections, StopUsers, Freeze, RecordOwner, PushIncrement, PassOwnership, ForwardConnections"));
        rows.add(row("group: D is pre-copied, E needs another round: only E's round",
                group(rounds(MIB), rounds(900 * MIB), true), "PushIncrement eeeeeeee -> 10.0.0.2 pre-copy round 2"));
        rows.add(row("group: both pre-copied: both handoffs in one plan (the app stops once, before either final snapshot)",
                group(rounds(MIB), rounds(2 * MIB), true), FULL_HANDOFF, HANDOFF_E));
        rows.add(row("group: E's handoff runs (E read-only), D pre-copied: D hands off too",
                group(rounds(MIB), MoveProgress.towards(B).running(MovePhase.HANDOFF), false), FULL_HANDOFF));
        // Crash points of a handoff (kill -9: no progress in memory), in the order the handoff passes them.
        rows.add(row("crash during the pre-copy or after holding connections: the app still runs, pre-copy again (one increment)",
                moving(true, true), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("crash after the apps stopped, copy still writable: pre-copy again, the app stays stopped (configured on B)",
                moving(true, false), "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("crash after the copy was frozen (handoff-frozen: mounted, read-only): the handoff resumes at the final increment",
                moving(false, false).copyAs(D, A, 4, "/flocker/" + D, true, true), RESUMED_HANDOFF));
        rows.add(row("crash after an older agent's handoff unmounted the copy: the same",
                moving(false, false), RESUMED_HANDOFF));
        rows.add(row("crash after the final increment, before recording the owner: the same, with the owner recorded beside the "
                        + "increment (empty now) as B holds a copy", moving(false, false).node(B, "10.0.0.2", held(D, false, 0)),
                "Handoff dddddddd -> 10.0.0.2 gen 5: HoldConnections, RecordOwner, PushIncrement, PassOwnership, ForwardConnections"));
        rows.add(row("crash after recording the owner here (handoff-owner-recorded), the final increment sent beside it or not "
                        + "(handoff-final-increment): B is told, after the increment if its copy does not record the generation",
                world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, false, 0)),
                "ResumePass dddddddd -> 10.0.0.2 gen 5"));
        rows.add(row("the running handoff has recorded B as owner here and is about to tell B: not told twice",
                progress(world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, false, 4)),
                        MoveProgress.towards(B).running(MovePhase.HANDOFF))));
        rows.add(row("crash after telling B, before B reports it: B is told once more (idempotent)",
                world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, false, 4)),
                "ResumePass dddddddd -> 10.0.0.2 gen 5"));
        rows.add(row("no crash: B was told moments ago and has not reported yet: wait for its report, no second write",
                progress(world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, false, 4)),
                        MoveProgress.towards(B).passed(5, NOW.minusSeconds(2)))));
        rows.add(row("B was told long ago and still reports the old generation: told again",
                progress(world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, false, 4)),
                        MoveProgress.towards(B).passed(5, NOW.minusSeconds(60))),
                "ResumePass dddddddd -> 10.0.0.2 gen 5"));
        rows.add(row("B was told and went down before reporting: nothing until it is back",
                world().dataset(D, B, null).local(D, B, 5, false, null).offlineNode(B, "10.0.0.2", held(D, false, 4))));
        rows.add(row("B reports the new generation: done, this copy stays a replica",
                world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, true, 5))));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decisions")
    void plansTheNextStep(String situation, World world, List<String> expected) {
        assertPlans(situation, Planner.plan(world.input()), expected);
    }

    @Test
    void aHandoffWhoseRecordIsNotWhereItsTargetsCopySaysIsRefused() {
        var peer = new Change.Peer(B, "10.0.0.2", "pool");
        var push = new Change.PushIncrement(D, peer, MovePhase.HANDOFF, 0);
        var record = new Change.RecordOwner(D, B, 5);
        var pass = new Change.PassOwnership(D, peer, 5);
        assertThat(new Change.Handoff(D, peer, 5, true, List.of(record, push, pass)).recordsBesideFinalIncrement()).isTrue();
        assertThat(new Change.Handoff(D, peer, 5, false, List.of(push, record, pass)).recordsBesideFinalIncrement()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Change.Handoff(D, peer, 5, true, List.of(push, record, pass)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("just before (beside) the final increment");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Change.Handoff(D, peer, 5, false, List.of(record, push, pass)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after the final increment");
    }

    @Test
    void theHandoffHoldsTheAppsPortsFirstAndKeepsHoldingWhileItRuns() {
        var w = moving(true, true);
        w.config = w.config.withApplication(new Application(B, "db", "postgres", List.of(new Application.Port(5432, 15432)), Map.of(),
                null, List.of(), List.of(new Application.Volume(D, "/data")), null, null, List.of()));
        var handoff = Planner.plan(progress(w, rounds(MIB)).input()).changes(Change.Handoff.class).get(0);
        assertThat(handoff.steps().get(0)).isEqualTo(new Change.HoldConnections(D, B, List.of(15432)));
        assertThat(handoff.steps().get(1)).as("then the requests in flight to the running app, on its own port, are answered")
                .isEqualTo(new Change.DrainConnections(D, Map.of("db", List.of(5432)), Planner.MoveSettings.DRAIN));
        assertThat(handoff.steps().get(2)).isEqualTo(new Change.StopUsers(D));
        assertThat(handoff.steps().get(4)).isEqualTo(new Change.PushIncrement(D, handoff.to(), MovePhase.HANDOFF, 0));
        assertThat(handoff.generation()).isEqualTo(5);
        assertThat(handoff.targetHasCopy()).as("B reports no copy: the final increment sends it whole").isFalse();
        assertThat(handoff.steps().get(5)).as("and the owner is recorded after it").isEqualTo(new Change.RecordOwner(D, B, 5));
        var withCopy = Planner.plan(progress(moving(true, true).node(B, "10.0.0.2", held(D, false, 0)).made(B, "db"), rounds(900 * MIB, MIB))
                .input()).changes(Change.Handoff.class).get(0);
        assertThat(withCopy.targetHasCopy()).as("B reports its copy: the increment goes onto it").isTrue();
        assertThat(withCopy.recordsBesideFinalIncrement()).as("its record runs beside it").isTrue();
        assertThat(Planner.plan(w.input()).holding()).containsExactly(D);

        var running = progress(moving(false, false), MoveProgress.towards(B).running(MovePhase.HANDOFF));
        assertThat(Planner.plan(running.input()).holding()).containsExactly(D);
        assertThat(Planner.plan(moving(true, true).input()).holding()).as("pre-copy: connections flow").isEmpty();
        assertThat(handoff.steps()).as("right after ownership passes, connections go to the new owner")
                .containsSubsequence(new Change.PassOwnership(D, handoff.to(), 5), new Change.ForwardConnections(D, B, "10.0.0.2", List.of(15432)));

        var noWait = progress(moving(true, true), rounds(MIB));
        noWait.config = w.config;
        noWait.settings = new Planner.MoveSettings(16L << 20, 8, java.time.Duration.ZERO);
        assertThat(Planner.plan(noWait.input()).changes(Change.Handoff.class).get(0).steps()).as("moves.drain_ms: 0")
                .extracting(step -> step.getClass().getSimpleName()).startsWith("HoldConnections", "StopUsers");
        var noPorts = progress(moving(true, true), rounds(MIB));
        assertThat(Planner.plan(noPorts.input()).changes(Change.Handoff.class).get(0).steps()).as("an application without ports")
                .extracting(step -> step.getClass().getSimpleName()).startsWith("HoldConnections", "StopUsers");
    }

    @Test
    void aDatasetJustHandedToItsConfiguredHostIsNamedForRoutingThereUntilTheGraceEnds() {
        var passedHere = world().dataset(D, B, null).local(D, B, 5, false, null).node(B, "10.0.0.2", held(D, false, 4));
        var tail = progress(passedHere, MoveProgress.towards(B).passed(5, NOW).running(MovePhase.HANDOFF));
        assertThat(Planner.plan(tail.input()).handedTo()).as("the handoff still runs (its forward)").containsExactly(Map.entry(D, B));
        assertThat(Planner.plan(tail.input()).holding()).isEmpty();
        var recent = progress(passedHere, MoveProgress.towards(B).passed(5, NOW.minusSeconds(2)));
        assertThat(Planner.plan(recent.input()).handedTo()).containsExactly(Map.entry(D, B));
        var old = progress(passedHere, MoveProgress.towards(B).passed(5, NOW.minusSeconds(60)));
        assertThat(Planner.plan(old.input()).handedTo()).as("by then B reports it, or it is held until it runs somewhere").isEmpty();
        var recorded = progress(passedHere, MoveProgress.towards(B).running(MovePhase.HANDOFF));
        assertThat(Planner.plan(recorded.input()).handedTo()).as("owner recorded here, B not told yet").isEmpty();
        var earlier = progress(passedHere, MoveProgress.towards(B).passed(4, NOW));
        assertThat(Planner.plan(earlier.input()).handedTo()).as("a pass of another generation").isEmpty();
    }

    @Test
    void oldSnapshotsOfTheCopyHandedAwayArePrunedAfterTheTailNotWhileTheTargetStarts() {
        var handed = world().dataset(D, B, null).copy(D, B, 5, false, 12, java.time.Duration.ofSeconds(1)).node(B, "10.0.0.2", held(D, true, 5));
        var running = progress(handed, MoveProgress.towards(B).passed(5, NOW).running(MovePhase.HANDOFF));
        assertThat(Planner.plan(running.input()).changes(Change.PruneSnapshots.class)).as("the handoff still runs").isEmpty();
        var justEnded = progress(handed, MoveProgress.towards(B).passed(5, NOW));
        assertThat(Planner.plan(justEnded.input()).changes(Change.PruneSnapshots.class)).as("within the tail").isEmpty();
        var later = progress(handed, MoveProgress.towards(B).passed(5, NOW.minus(Planner.HANDOFF_TAIL)));
        assertThat(Planner.plan(later.input()).changes(Change.PruneSnapshots.class)).hasSize(1);
    }

    @Test
    void theCopyAndTheStoppedContainersAreLeftForATailAfterThePassThenPlannedFromWhatIsFoundThen() {
        // A handoff to B ended here: the copy records B, frozen (mounted read-only); the app's container stopped.
        var handed = world().dataset(D, B, null).app("db", B, D, "postgres").copyAs(D, B, 5, "/flocker/" + D, true, true)
                .node(B, "10.0.0.2", held(D, true, 5));
        handed.containers.put("db", new LocalState.LocalContainer("db", "h", false, List.of(D), null, null, false));
        var justEnded = progress(handed, MoveProgress.towards(B).passed(5, NOW));
        assertThat(Planner.plan(justEnded.input()).steps()).as("within the tail: nothing").isEmpty();
        var later = progress(handed, MoveProgress.towards(B).passed(5, NOW.minus(Planner.HANDOFF_TAIL)));
        assertPlans("after the tail", Planner.plan(later.input()), List.of("StopApplication db", "MakeReplica dddddddd"));

        // Moved back here within the tail (B passed generation 6 to this host): the copy is this host's again, and made
        // writable, never a replica.
        var back = world().dataset(D, A, null).app("db", A, D, "postgres").copyAs(D, A, 6, "/flocker/" + D, true, true)
                .node(B, "10.0.0.2", held(D, false, 5));
        back.containers.put("db", new LocalState.LocalContainer("db", "h", false, List.of(D), null, null, false));
        var plan = Planner.plan(progress(back, MoveProgress.towards(B).passed(5, NOW)).input());
        assertThat(plan.changes(Change.MakeReplica.class)).isEmpty();
        assertThat(plan.changes(Change.MakeWritable.class)).hasSize(1);
    }
}
