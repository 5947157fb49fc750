package dev.flocker.control.agents;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Lease;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.control.store.ConfigurationChange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.pcollections.TreePMap;

/**
 * Which datasets concern which node, kept up to date change by change, and each node's view built from it. A dataset
 * concerns a node when the node is its primary or a standby in the configuration, runs an application using it, holds
 * a copy (or held one, offline), or takes part in a move of it. A node's view has those datasets and their leases,
 * every application (each host's proxy routes to all of them), its own report whole, and the other nodes' reports
 * narrowed to those datasets (a node it shares none with is shown without datasets). So at 100,000 datasets an agent
 * with 100 is sent 100, and a change goes to the agents it concerns only.
 * <p>Single-threaded: owned by the push dispatcher. {@link #advance} costs a walk of the two sorted dataset maps plus
 * O(changes), not O(nodes x datasets).
 */
final class ViewIndex {
    private Configuration configuration = Configuration.EMPTY;
    private ClusterState state = ClusterState.EMPTY;
    private final Map<DatasetId, Set<NodeId>> held = new HashMap<>();
    private final Map<DatasetId, Set<NodeId>> heldOffline = new HashMap<>();
    private final Map<DatasetId, Set<NodeId>> usedBy = new HashMap<>();
    private final Map<DatasetId, Set<NodeId>> concerned = new HashMap<>();
    private final Map<NodeId, Set<DatasetId>> datasetsOf = new HashMap<>();
    /** Each node's report without datasets and moves, the same object while it does not change. */
    private final Map<NodeId, NodeState> stripped = new HashMap<>();

    /**
     * What one step changed.
     *
     * @param datasets     each dataset touched, with every node it concerned before or concerns now
     * @param reports      nodes whose reports changed in their datasets or moves only
     * @param everyone     nodes that came, went, or changed what every view shows of them
     * @param applications whether the applications changed
     * @param offline      whether the offline nodes changed
     */
    record Changes(Map<DatasetId, Set<NodeId>> datasets, Set<NodeId> reports, Set<NodeId> everyone, boolean applications, boolean offline) {
        boolean none() {
            return datasets.isEmpty() && reports.isEmpty() && everyone.isEmpty() && !applications && !offline;
        }
    }

    Configuration configuration() {
        return configuration;
    }

    ClusterState state() {
        return state;
    }

    /** Moves the index to {@code next} and {@code nextState}. */
    Changes advance(Configuration next, ClusterState nextState) {
        return advance(next, nextState, null);
    }

    /**
     * Moves the index to {@code next} and {@code nextState}; {@code changed}, when known, names every dataset whose
     * entry or lease differs between the last configuration and {@code next} (else the two are compared).
     */
    Changes advance(Configuration next, ClusterState nextState, Set<DatasetId> changed) {
        var touched = new HashSet<DatasetId>();
        var before = configuration;
        if (changed != null) {
            touched.addAll(changed);
        } else {
            ConfigurationChange.diff(before.datasets(), next.datasets(), (id, d) -> touched.add(id), touched::add);
            ConfigurationChange.diff(before.leases(), next.leases(), (id, l) -> touched.add(id), touched::add);
        }
        boolean applications = before.applications() != next.applications() && !before.applications().equals(next.applications());
        if (applications) {
            touched.addAll(usedBy.keySet());
            usedBy.clear();
            for (var application : next.applications().values()) {
                for (var dataset : application.datasets()) {
                    usedBy.computeIfAbsent(dataset, k -> new HashSet<>(2)).add(application.node());
                }
            }
            touched.addAll(usedBy.keySet());
        }
        var reports = new HashSet<NodeId>();
        var everyone = new HashSet<NodeId>();
        var old = state;
        if (old.nodes() != nextState.nodes()) {
            var ids = new HashSet<>(old.nodes().keySet());
            ids.addAll(nextState.nodes().keySet());
            for (var id : ids) {
                var was = old.nodes().get(id);
                var now = nextState.nodes().get(id);
                if (was == now) {
                    continue;
                }
                if (was != null) {
                    holdings(was, id, false, touched);
                }
                if (now != null) {
                    holdings(now, id, true, touched);
                    var strippedNow = strip(now);
                    var strippedWas = stripped.get(id);
                    if (strippedWas != null && strippedWas.equals(strippedNow)) {
                        strippedNow = strippedWas;
                    }
                    stripped.put(id, strippedNow);
                    if (was == null || strippedWas != strippedNow) {
                        everyone.add(id);
                    } else {
                        reports.add(id);
                    }
                } else {
                    stripped.remove(id);
                    everyone.add(id);
                }
            }
        }
        boolean offline = !old.offline().equals(nextState.offline());
        if (offline) {
            touched.addAll(heldOffline.keySet());
            heldOffline.clear();
            for (var node : nextState.offline().values()) {
                for (var ds : node.datasets()) {
                    heldOffline.computeIfAbsent(ds.datasetId(), k -> new HashSet<>(2)).add(node.uuid());
                }
            }
            touched.addAll(heldOffline.keySet());
        }
        configuration = next;
        state = nextState;
        var datasets = new HashMap<DatasetId, Set<NodeId>>();
        for (var id : touched) {
            var was = concerned.getOrDefault(id, Set.of());
            var now = compute(id);
            for (var node : was) {
                if (!now.contains(node)) {
                    var set = datasetsOf.get(node);
                    set.remove(id);
                    if (set.isEmpty()) {
                        datasetsOf.remove(node);
                    }
                }
            }
            for (var node : now) {
                if (!was.contains(node)) {
                    datasetsOf.computeIfAbsent(node, k -> new HashSet<>()).add(id);
                }
            }
            if (now.isEmpty()) {
                concerned.remove(id);
            } else {
                concerned.put(id, now);
            }
            var both = new HashSet<>(was);
            both.addAll(now);
            datasets.put(id, both);
        }
        return new Changes(datasets, reports, everyone, applications, offline);
    }

    /** Adds or removes {@code node}'s copies and moves from the holdings, noting each dataset as touched. */
    private void holdings(NodeState node, NodeId id, boolean add, Set<DatasetId> touched) {
        var datasets = new ArrayList<DatasetId>();
        node.datasets().forEach(d -> datasets.add(d.datasetId()));
        for (var move : node.moves()) {
            datasets.add(move.datasetId());
        }
        for (var dataset : datasets) {
            touched.add(dataset);
            if (add) {
                held.computeIfAbsent(dataset, k -> new HashSet<>(2)).add(id);
            } else {
                var set = held.get(dataset);
                if (set != null) {
                    set.remove(id);
                    if (set.isEmpty()) {
                        held.remove(dataset);
                    }
                }
            }
        }
        for (var move : node.moves()) {
            for (var party : new NodeId[] {move.from(), move.to()}) {
                if (party != null && !party.equals(id)) {
                    var parties = movers.computeIfAbsent(move.datasetId(), k -> new HashMap<>(2));
                    parties.merge(party, add ? 1 : -1, Integer::sum);
                    if (parties.get(party) <= 0) {
                        parties.remove(party);
                    }
                    if (parties.isEmpty()) {
                        movers.remove(move.datasetId());
                    }
                }
            }
        }
    }

    /** The other parties of moves reported (source or target), counted by the reports that name them. */
    private final Map<DatasetId, Map<NodeId, Integer>> movers = new HashMap<>();

    private Set<NodeId> compute(DatasetId id) {
        var nodes = new HashSet<NodeId>(4);
        var dataset = configuration.datasets().get(id);
        if (dataset != null) {
            if (dataset.primary() != null) {
                nodes.add(dataset.primary());
            }
            nodes.addAll(dataset.standbyNodes());
        }
        nodes.addAll(usedBy.getOrDefault(id, Set.of()));
        nodes.addAll(held.getOrDefault(id, Set.of()));
        nodes.addAll(heldOffline.getOrDefault(id, Set.of()));
        nodes.addAll(movers.getOrDefault(id, Map.of()).keySet());
        return nodes;
    }

    /** The datasets that concern {@code node}. */
    Set<DatasetId> datasetsOf(NodeId node) {
        return datasetsOf.getOrDefault(node, Set.of());
    }

    /** {@code node}'s leases. */
    List<Lease> leasesOf(NodeId node) {
        var leases = new ArrayList<Lease>();
        for (var id : datasetsOf(node)) {
            var lease = configuration.leases().get(id);
            if (lease != null) {
                leases.add(lease);
            }
        }
        leases.sort(java.util.Comparator.comparing(Lease::datasetId));
        return leases;
    }

    /** {@code node}'s whole view. */
    Configuration configurationFor(NodeId node) {
        var datasets = TreePMap.<DatasetId, dev.flocker.api.model.Dataset>empty();
        for (var id : datasetsOf(node)) {
            var d = configuration.datasets().get(id);
            if (d != null) {
                datasets = datasets.plus(id, d);
            }
        }
        var leases = TreePMap.<DatasetId, Lease>empty();
        for (var lease : leasesOf(node)) {
            leases = leases.plus(lease.datasetId(), lease);
        }
        return new Configuration(configuration.version(), datasets, configuration.applications(), leases);
    }

    ClusterState stateFor(NodeId node) {
        var ids = datasetsOf(node);
        var sharing = sharing(node);
        var nodes = new HashMap<NodeId, NodeState>();
        state.nodes().values().forEach(n -> nodes.put(n.uuid(), shownTo(node, ids, sharing, n)));
        var offline = new HashMap<NodeId, NodeState>();
        state.offline().values().forEach(n -> offline.put(n.uuid(), shownTo(node, ids, sharing, n)));
        return new ClusterState(nodes, offline);
    }

    /** The nodes that share a dataset with {@code node}: the only ones whose reports it is shown more of than their address. */
    Set<NodeId> sharing(NodeId node) {
        var nodes = new HashSet<NodeId>();
        for (var id : datasetsOf(node)) {
            nodes.addAll(concerned.getOrDefault(id, Set.of()));
        }
        return nodes;
    }

    /** {@code n}'s report as {@code self} is shown it, given its datasets {@code ids} and the nodes {@link #sharing} them. */
    NodeState shownTo(NodeId self, Set<DatasetId> ids, Set<NodeId> sharing, NodeState n) {
        if (n.uuid().equals(self)) {
            return n;
        }
        if (!sharing.contains(n.uuid())) {
            var cached = stripped.get(n.uuid());
            return cached != null && state.nodes().get(n.uuid()) == n ? cached : strip(n);
        }
        return new NodeState(n.uuid(), n.host(), n.era(), n.datasets().stream().filter(d -> ids.contains(d.datasetId())).toList(),
                n.applications(), n.moves().stream().filter(m -> ids.contains(m.datasetId())).toList(), n.datasetRoot(), n.busyPorts(),
                n.setAside(), n.fenceAfterSeconds());
    }

    /** A node's report without its datasets and moves: how a node sharing no dataset with the viewer is shown. */
    static NodeState strip(NodeState n) {
        return new NodeState(n.uuid(), n.host(), n.era(), List.of(), n.applications(), List.of(), n.datasetRoot(), n.busyPorts(),
                n.setAside(), n.fenceAfterSeconds());
    }
}
