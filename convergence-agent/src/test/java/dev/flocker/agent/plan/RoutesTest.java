package dev.flocker.agent.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.agent.plan.LocalState.LocalContainer;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The routing table of host A, from plain values. */
class RoutesTest {
    static final NodeId A = PlannerTest.A;
    static final NodeId B = PlannerTest.B;
    static final NodeId C = PlannerTest.C;
    static final DatasetId D = PlannerTest.D;
    static final Application DB = new Application(B, "db", "flocker/postgres:15", List.of(new Application.Port(5432, 15432)), Map.of(), null,
            List.of(), List.of(new Application.Volume(D, "/data")), null, null, List.of());
    static final Configuration CONFIG = Configuration.EMPTY.withApplication(DB);

    final Map<NodeId, NodeState> nodes = new HashMap<>(Map.of(A, node(A, "10.0.0.1", false)));
    final Map<String, LocalContainer> here = new HashMap<>();

    static NodeState node(NodeId id, String host, boolean runsDb) {
        var apps = runsDb ? List.of(new NodeState.ApplicationState("db", null, true, null)) : List.<NodeState.ApplicationState>of();
        return new NodeState(id, host, "e", List.of(), apps, List.of(), "pool");
    }

    PortRoute route(Set<DatasetId> handingOff) {
        return Routes.of(A, CONFIG, new ClusterState(nodes), new LocalState(Map.of(), here), handingOff).get(15432);
    }

    @Test
    void anApplicationRunningHereIsReachedAtItsContainersAddress() {
        here.put("db", new LocalContainer("db", "h", true, D, "172.17.0.5"));
        assertThat(route(Set.of())).isEqualTo(new PortRoute.ToContainer("172.17.0.5", 5432));
    }

    @Test
    void anApplicationRunningOnAnotherHostIsReachedThroughThatHostsProxy() {
        nodes.put(B, node(B, "10.0.0.2", true));
        assertThat(route(Set.of())).isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
    }

    @Test
    void anApplicationWhoseHealthCheckHasNotPassedYetHoldsConnectionsThenIsReached() {
        here.put("db", new LocalContainer("db", "h", true, D, "172.17.0.5", "starting"));
        assertThat(route(Set.of())).isInstanceOf(PortRoute.Hold.class);
        here.put("db", new LocalContainer("db", "h", true, D, "172.17.0.5", "healthy"));
        assertThat(route(Set.of())).isEqualTo(new PortRoute.ToContainer("172.17.0.5", 5432));
        here.put("db", new LocalContainer("db", "h", true, D, "172.17.0.5", "unhealthy")); // as Docker: it still serves
        assertThat(route(Set.of())).isEqualTo(new PortRoute.ToContainer("172.17.0.5", 5432));
    }

    @Test
    void anotherHostWhoseCopyIsStillStartingIsNotSentClients() {
        nodes.put(B, new NodeState(B, "10.0.0.2", "e", List.of(), List.of(new NodeState.ApplicationState("db", null, true, null, "starting")),
                List.of(), "pool"));
        assertThat(route(Set.of())).isInstanceOf(PortRoute.Hold.class);
    }

    @Test
    void anApplicationRunningNowhereHoldsConnections() {
        nodes.put(B, node(B, "10.0.0.2", false));
        here.put("db", new LocalContainer("db", "h", false, D, null));
        assertThat(route(Set.of())).isInstanceOf(PortRoute.Hold.class);
    }

    @Test
    void aMadeContainerConfiguredHereWhoseAddressIsKnownIsSentClientsOnceItRunsNowhereElse() {
        var moving = CONFIG.withApplication(new Application(A, "db", "flocker/postgres:15", List.of(new Application.Port(5432, 15432)), Map.of(),
                null, List.of(), List.of(new Application.Volume(D, "/data")), null, null, List.of()));
        here.put("db", new LocalContainer("db", "h", false, List.of(D), "172.17.0.7", null, true)); // made, in a running sandbox
        nodes.put(B, node(B, "10.0.0.2", true));
        assertThat(Routes.of(A, moving, new ClusterState(nodes), new LocalState(Map.of(), here), Set.of()).get(15432))
                .as("during the pre-copy it runs on B: clients go there").isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
        nodes.put(B, node(B, "10.0.0.2", false));
        assertThat(Routes.of(A, moving, new ClusterState(nodes), new LocalState(Map.of(), here), Set.of()).get(15432))
                .as("handing over to here: where it will listen").isEqualTo(new PortRoute.ToContainer("172.17.0.7", 5432));
        assertThat(route(Set.of())).as("configured on another host: not here").isInstanceOf(PortRoute.Hold.class);
        here.put("db", new LocalContainer("db", "h", false, List.of(D), null, null, true)); // no sandbox: address unknown
        assertThat(Routes.of(A, moving, new ClusterState(nodes), new LocalState(Map.of(), here), Set.of()).get(15432)).isInstanceOf(PortRoute.Hold.class);
        var checked = CONFIG.withApplication(new Application(A, "db", "flocker/postgres:15", List.of(new Application.Port(5432, 15432)), Map.of(),
                null, List.of(), List.of(new Application.Volume(D, "/data")), null, null, List.of(), null, null,
                new Application.HealthCheck(List.of("CMD", "true"), null, null, null, null), null, null, null, null));
        here.put("db", new LocalContainer("db", "h", false, List.of(D), "172.17.0.7", null, true));
        assertThat(Routes.of(A, checked, new ClusterState(nodes), new LocalState(Map.of(), here), Set.of()).get(15432))
                .as("with a health check, clients wait for it to pass").isInstanceOf(PortRoute.Hold.class);
    }

    @Test
    void aMadeContainerWhoseDataWasJustHandedHereIsSentClientsWhileTheOldHostStillReportsItRunning() {
        var moving = CONFIG.withApplication(new Application(A, "db", "flocker/postgres:15", List.of(new Application.Port(5432, 15432)), Map.of(),
                null, List.of(), List.of(new Application.Volume(D, "/data")), null, null, List.of()));
        here.put("db", new LocalContainer("db", "h", false, List.of(D), "172.17.0.7", null, true)); // made, in a running sandbox
        nodes.put(B, node(B, "10.0.0.2", true)); // B's last report: running (the handoff has stopped it since)
        java.util.function.Function<LocalState.LocalDataset, PortRoute> routeWith = copy ->
                Routes.of(A, moving, new ClusterState(nodes), new LocalState(Map.of(D, copy), here), Set.of()).get(15432);
        assertThat(routeWith.apply(new LocalState.LocalDataset(D, null, "/m", false, true, B, 3, 0)))
                .as("a replica here, owned by B: clients go to B").isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
        assertThat(routeWith.apply(new LocalState.LocalDataset(D, null, "/m", false, true, A, 4, 0)))
                .as("owned here but not yet writable").isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
        assertThat(routeWith.apply(new LocalState.LocalDataset(D, null, "/m", true, false, A, 4, 0)))
                .as("owned and writable here: where it is about to listen").isEqualTo(new PortRoute.ToContainer("172.17.0.7", 5432));
        here.put("db", new LocalContainer("db", "h", false, List.of(D), null, null, true)); // no sandbox: address unknown
        assertThat(routeWith.apply(new LocalState.LocalDataset(D, null, "/m", true, false, A, 4, 0)))
                .isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
    }

    @Test
    void aHandoffFromHereHoldsEvenWhileTheContainerStillRuns() {
        here.put("db", new LocalContainer("db", "h", true, D, "172.17.0.5"));
        assertThat(route(Set.of(D))).isInstanceOf(PortRoute.Hold.class);
    }

    @Test
    void anApplicationJustHandedFromHereGoesToItsNewHostBeforeThatHostReportsItRunning() {
        nodes.put(B, node(B, "10.0.0.2", false)); // B starts db now; the control service does not know yet
        nodes.put(C, node(C, "10.0.0.3", false));
        here.put("db", new LocalContainer("db", "h", false, D, null)); // stopped by the handoff, removed by a later loop
        var state = new LocalState(Map.of(), here);
        assertThat(Routes.of(A, CONFIG, new ClusterState(nodes), state, Set.of(), Map.of(D, B)).get(15432))
                .as("B's proxy holds them until db answers there").isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
        assertThat(Routes.of(A, CONFIG, new ClusterState(nodes), state, Set.of(D), Map.of(D, B)).get(15432))
                .as("while the handoff still holds, it holds").isInstanceOf(PortRoute.Hold.class);
        assertThat(Routes.of(A, CONFIG, new ClusterState(nodes), state, Set.of(), Map.of(D, C)).get(15432))
                .as("handed to a host the configuration no longer wants it on: held until it runs somewhere").isInstanceOf(PortRoute.Hold.class);
        nodes.remove(B);
        assertThat(Routes.of(A, CONFIG, new ClusterState(nodes), state, Set.of(), Map.of(D, B)).get(15432))
                .as("its new host stopped reporting: held here").isInstanceOf(PortRoute.Hold.class);
    }

    @Test
    void whenTwoOtherHostsReportItRunningTheConfiguredOneIsChosen() {
        nodes.put(C, node(C, "10.0.0.3", true));
        nodes.put(B, node(B, "10.0.0.2", true));
        assertThat(route(Set.of())).isEqualTo(new PortRoute.ToHost("10.0.0.2", 15432));
    }

    @Test
    void everyConfiguredPortIsRoutedAndNoOther() {
        var web = new Application(A, "web", "img", List.of(new Application.Port(80, 8080), new Application.Port(443, 8443)), Map.of(), null,
                List.of(), List.of(), null, null, List.of());
        var routes = Routes.of(A, CONFIG.withApplication(web), new ClusterState(nodes), LocalState.EMPTY, Set.of());
        assertThat(routes).containsOnlyKeys(15432, 8080, 8443);
    }
}
