package dev.flocker.agent.plan;

import static dev.flocker.agent.plan.PlannerTest.A;
import static dev.flocker.agent.plan.PlannerTest.B;
import static dev.flocker.agent.plan.PlannerTest.D;
import static dev.flocker.agent.plan.PlannerTest.E;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Lease;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which datasets a change of the view concerns: what a push-woken loop reads (ConvergenceLoop's scoped look). */
class ViewChangesTest {
    static final DatasetId F = DatasetId.of("ffffffff-0000-4000-8000-000000000006");

    static final Configuration CONFIG = Configuration.EMPTY.withDataset(new Dataset(D, A, false, Map.of(), null))
            .withDataset(new Dataset(E, A, false, Map.of(), null)).withDataset(new Dataset(F, B, false, Map.of(), null))
            .withApplication(app("db", A, List.of(new Application.Volume(D, "/data")), List.of()));
    static final ClusterState STATE = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(running("db")), List.of()),
            node(B, "10.0.0.2", List.of(copy(F, true, 1)), List.of(), List.of()));

    static Application app(String name, dev.flocker.api.model.NodeId node, List<Application.Volume> volumes, List<Application.Link> links) {
        return new Application(node, name, "postgres", List.of(new Application.Port(5432, 5432)), Map.of(), null, List.of(), volumes, null, null, links);
    }

    static NodeState.DatasetState copy(DatasetId id, boolean primary, long generation) {
        return new NodeState.DatasetState(id, primary, null, null, generation);
    }

    static NodeState.ApplicationState running(String name) {
        return new NodeState.ApplicationState(name, null, true, null, null);
    }

    static NodeState node(dev.flocker.api.model.NodeId id, String host, List<NodeState.DatasetState> datasets, List<NodeState.ApplicationState> apps,
                          List<NodeState.MoveState> moves) {
        return new NodeState(id, host, "e", datasets, apps, moves, "pool-" + host);
    }

    static ClusterState state(NodeState... nodes) {
        var map = new java.util.TreeMap<dev.flocker.api.model.NodeId, NodeState>();
        for (var n : nodes) {
            map.put(n.uuid(), n);
        }
        return new ClusterState(map);
    }

    static Optional<Set<DatasetId>> changed(Configuration config, ClusterState state) {
        return ViewChanges.datasets(CONFIG, STATE, config, state);
    }

    @Test
    void theSameViewChangesNothingEvenWithANewVersion() {
        assertThat(changed(CONFIG, STATE)).contains(Set.of());
        assertThat(changed(CONFIG.withDataset(CONFIG.dataset(E).orElseThrow()), STATE)).contains(Set.of());
    }

    @Test
    void aDatasetsConfigurationOrLeaseConcernsItAlone() {
        var moved = CONFIG.withDataset(new Dataset(E, B, false, Map.of(), null));
        assertThat(changed(moved, STATE)).contains(Set.of(E));
        assertThat(changed(CONFIG.withoutDataset(F), STATE)).contains(Set.of(F));
        assertThat(changed(CONFIG.withLease(new Lease(E, A, null)), STATE)).contains(Set.of(E));
    }

    @Test
    void anyNodesReportOfACopyOrAMoveConcernsThatDataset() {
        var moving = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(running("db")),
                        List.of(new NodeState.MoveState(E, A, B, MovePhase.HANDOFF, 0, 0, 0, null, "freezing"))),
                node(B, "10.0.0.2", List.of(copy(F, true, 2), copy(E, false, 1)), List.of(), List.of()));
        assertThat(changed(CONFIG, moving)).contains(Set.of(E, F));
    }

    @Test
    void anApplicationsChangeConcernsItsVolumes() {
        var moved = CONFIG.withApplication(app("db", B, List.of(new Application.Volume(D, "/data")), List.of()));
        assertThat(changed(moved, STATE)).contains(Set.of(D));
        var stopped = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(), List.of()),
                node(B, "10.0.0.2", List.of(copy(F, true, 1)), List.of(), List.of()));
        assertThat(changed(CONFIG, stopped)).as("its container reported stopped").contains(Set.of(D));
        var remounted = CONFIG.withApplication(app("db", A, List.of(new Application.Volume(E, "/data")), List.of()));
        assertThat(changed(remounted, STATE)).as("both the volume it had and the one it has").contains(Set.of(D, E));
    }

    @Test
    void whatBelongsToNoDatasetAsksForAFullLook() {
        assertThat(changed(CONFIG.withApplication(app("web", A, List.of(), List.of())), STATE)).as("an application without volumes").isEmpty();
        var linked = CONFIG.withApplication(app("web", A, List.of(new Application.Volume(E, "/www")), List.of(new Application.Link("db", 5432, 5432))));
        assertThat(ViewChanges.datasets(linked, STATE, linked.withApplication(app("db", B, List.of(new Application.Volume(D, "/data")), List.of())), STATE))
                .as("an application another one links to").isEmpty();
        var stopped = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(), List.of()), STATE.nodes().get(B));
        assertThat(ViewChanges.datasets(CONFIG, STATE, CONFIG, stopped)).as("the same without links").contains(Set.of(D));
        assertThat(ViewChanges.datasets(linked, STATE, linked, stopped)).as("a linked-to application's container stopped").isEmpty();
        var readdressed = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(running("db")), List.of()),
                node(B, "10.0.0.9", List.of(copy(F, true, 1)), List.of(), List.of()));
        assertThat(changed(CONFIG, readdressed)).as("a node's address").isEmpty();
        assertThat(changed(CONFIG, state(STATE.nodes().get(A)))).as("a node gone").isEmpty();
        var twice = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(D, false, 1), copy(E, true, 1)), List.of(running("db")), List.of()),
                STATE.nodes().get(B));
        assertThat(changed(CONFIG, twice)).as("a report naming a dataset twice").isEmpty();
    }

    @Test
    void aMoveAskedHereCountsUntilItsOldOwnerReportsItBegunAndNeverWhenNoOtherNodeHoldsItWritable() {
        // D and E are A's (writable there), F is B's. The push moves D to B.
        var moved = CONFIG.withDataset(new Dataset(D, B, false, Map.of(), null));
        assertThat(ViewChanges.movesAskedHere(B, CONFIG, moved, STATE)).as("asked, A reports no move yet").containsExactly(D);
        assertThat(ViewChanges.movesAskedHere(A, CONFIG, moved, STATE)).as("on the old owner").isEmpty();
        assertThat(ViewChanges.movesAskedHere(B, moved, moved, STATE)).as("the loop planned from that view already").isEmpty();
        for (var phase : List.of(MovePhase.PRE_COPY, MovePhase.HANDOFF)) {
            var begun = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(running("db")),
                    List.of(new NodeState.MoveState(D, A, B, phase, 0, 0, 0, null, "begun"))), STATE.nodes().get(B));
            assertThat(ViewChanges.movesAskedHere(B, CONFIG, moved, begun)).as("A reports a %s", phase).isEmpty();
        }
        // A finished move reported still (the last one, back the other way) is not this one.
        var finished = state(node(A, "10.0.0.1", List.of(copy(D, true, 2), copy(E, true, 1)), List.of(running("db")),
                List.of(new NodeState.MoveState(D, B, A, MovePhase.DONE, 0, 0, 0, null, "moved"))), STATE.nodes().get(B));
        assertThat(ViewChanges.movesAskedHere(B, CONFIG, moved, finished)).containsExactly(D);
        // Nobody reports it writable (its host is down, or it is passed and not reported yet): nothing to wait for.
        var unreported = state(node(A, "10.0.0.1", List.of(copy(D, false, 2), copy(E, true, 1)), List.of(), List.of()), STATE.nodes().get(B));
        assertThat(ViewChanges.movesAskedHere(B, CONFIG, moved, unreported)).isEmpty();
        // A new dataset here, a deleted one, one wanted here before: none was asked to move here.
        var created = CONFIG.withDataset(new Dataset(DatasetId.of("99999999-0000-4000-8000-000000000009"), B, false, Map.of(), null));
        assertThat(ViewChanges.movesAskedHere(B, CONFIG, created, STATE)).isEmpty();
        assertThat(ViewChanges.movesAskedHere(B, CONFIG, CONFIG.withDataset(new Dataset(D, B, true, Map.of(), null)), STATE)).isEmpty();
        assertThat(ViewChanges.movesAskedHere(B, CONFIG, CONFIG, STATE)).as("F is wanted on B before and after").isEmpty();
    }

    @Test
    void aPushThatChangesOnlyThisNodesOwnReportIsTold() {
        var grown = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 2)), List.of(running("db")), List.of()),
                node(B, "10.0.0.2", List.of(copy(F, true, 1)), List.of(), List.of()));
        assertThat(ViewChanges.onlyOwnReport(A, CONFIG, STATE, CONFIG, grown)).as("A's own report changed").isTrue();
        assertThat(ViewChanges.onlyOwnReport(A, CONFIG, STATE, CONFIG, STATE)).as("nothing changed").isTrue();
        assertThat(ViewChanges.onlyOwnReport(B, CONFIG, STATE, CONFIG, grown)).as("for B, another node's report changed").isFalse();
        var otherConfig = CONFIG.withDataset(new Dataset(F, A, false, Map.of(), null));
        assertThat(ViewChanges.onlyOwnReport(A, CONFIG, STATE, otherConfig, grown)).as("the configuration changed too").isFalse();
        var joined = state(node(A, "10.0.0.1", List.of(copy(D, true, 1), copy(E, true, 1)), List.of(running("db")), List.of()),
                node(B, "10.0.0.2", List.of(copy(F, true, 1)), List.of(), List.of()), node(E_NODE, "10.0.0.3", List.of(), List.of(), List.of()));
        assertThat(ViewChanges.onlyOwnReport(A, CONFIG, STATE, CONFIG, joined)).as("a node joined").isFalse();
        var gone = new ClusterState(STATE.nodes(), java.util.Map.of(B, STATE.nodes().get(B)));
        assertThat(ViewChanges.onlyOwnReport(A, CONFIG, STATE, CONFIG, gone)).as("the offline nodes changed").isFalse();
    }

    static final dev.flocker.api.model.NodeId E_NODE = dev.flocker.api.model.NodeId.of("eeeeeeee-0000-4000-8000-00000000000e");
}
