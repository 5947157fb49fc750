package dev.flocker.agent.plan;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * This host's routing table, as a pure function of what the agent knows: every configured application's external port
 * goes to the application's container here when it runs here, else to the host that reports running it (its proxy
 * delivers locally), else it holds connections until the application runs somewhere. An application with a health
 * check counts as running once its check has passed (or failed for good), not while Docker says "starting": after a
 * move, clients reach the new container when it answers, not when its process exists. An application whose dataset is
 * being handed off from this host holds from the moment the handoff begins, before its container stops. One configured
 * here whose container is made but not started, running nowhere (a handoff to here), goes to where that container will
 * listen when that is known already (a network sandbox's address) and it has no health check to wait for; so does one whose
 * data was just handed to this host (owned and writable here), even while the old host's report still shows it running. One whose
 * dataset this host has just handed to the host it is configured on goes to that host at once: its proxy holds the
 * connections until the application answers there.
 */
public final class Routes {
    private Routes() {
    }

    public static Map<Integer, PortRoute> of(NodeId self, Configuration configuration, ClusterState cluster, LocalState local,
                                         Set<DatasetId> handingOff) {
        return of(self, configuration, cluster, local, handingOff, Map.of());
    }

    /** @param handedTo datasets this host has just handed over, by their new owner ({@link Plan#handedTo()}) */
    public static Map<Integer, PortRoute> of(NodeId self, Configuration configuration, ClusterState cluster, LocalState local,
                                         Set<DatasetId> handingOff, Map<DatasetId, NodeId> handedTo) {
        var routes = new TreeMap<Integer, PortRoute>();
        for (var app : configuration.applications().values()) {
            for (var port : app.ports()) {
                routes.put(port.external(), route(self, app, port, cluster, local, handingOff, handedTo));
            }
        }
        return routes;
    }

    private static PortRoute route(NodeId self, Application app, Application.Port port, ClusterState cluster, LocalState local,
                               Set<DatasetId> handingOff, Map<DatasetId, NodeId> handedTo) {
        if (app.datasets().stream().anyMatch(handingOff::contains)) {
            return new PortRoute.Hold("handoff of " + app.name());
        }
        var here = local.containers().get(app.name());
        if (here != null && here.ready() && here.address() != null) {
            return new PortRoute.ToContainer(here.address(), port.internal());
        }
        if (startsHere(self, app, here, local)) {
            // Its data was just handed to this host (owned and writable here) and its made container is about to start:
            // a report of it running elsewhere is from before the handoff, which stopped it there. The proxy connects
            // as soon as it listens (a local target that refuses is retried, as a hold would keep the connection).
            return new PortRoute.ToContainer(here.address(), port.internal());
        }
        // Another host that reports it running; the configured host first when several do (a move just ended there).
        var elsewhere = cluster.nodes().values().stream()
                .filter(n -> !n.uuid().equals(self) && runs(n, app.name()))
                .min(Comparator.comparing((NodeState n) -> !n.uuid().equals(app.node())).thenComparing(n -> n.uuid().toString()));
        if (elsewhere.isPresent()) {
            return new PortRoute.ToHost(elsewhere.get().host(), port.external());
        }
        if (!self.equals(app.node()) && app.datasets().stream().anyMatch(d -> app.node().equals(handedTo.get(d)))) {
            // Handed from here to the host it is configured on, which starts it now: that host's proxy holds or delivers
            // the connections, so they wait there for the start rather than here for the control service to report it.
            var host = cluster.node(app.node()).map(NodeState::host);
            if (host.isPresent()) {
                return new PortRoute.ToHost(host.get(), port.external());
            }
        }
        if (madeHere(self, app, here)) {
            // Configured here and made, its address known (its sandbox runs), running nowhere: a move's handoff to here.
            // The proxy connects as soon as it listens (a local target that refuses is retried until the connection's
            // deadline, as a hold would keep it), without waiting for a loop to see it running.
            return new PortRoute.ToContainer(here.address(), port.internal());
        }
        return new PortRoute.Hold(app.name() + " is not running on any host yet");
    }

    /**
     * Configured here, made in a running network sandbox (its address known), no health check to wait for, and every
     * dataset it uses owned by this host and writable here: nothing else can run it against that data.
     */
    private static boolean startsHere(NodeId self, Application app, LocalState.LocalContainer here, LocalState local) {
        return madeHere(self, app, here) && !app.datasets().isEmpty() && app.datasets().stream().allMatch(d -> {
                    var copy = local.datasets().get(d);
                    return copy != null && self.equals(copy.owner()) && copy.writable();
                });
    }

    /** Configured here, made in a running network sandbox (its address known), no health check to wait for. */
    private static boolean madeHere(NodeId self, Application app, LocalState.LocalContainer here) {
        return here != null && here.created() && here.address() != null && self.equals(app.node()) && app.healthcheck() == null;
    }

    private static boolean runs(NodeState node, String application) {
        return node.applications().stream().anyMatch(a -> a.name().equals(application) && a.ready());
    }
}
