package dev.flocker.agent.plan;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Which datasets a change of the control service's view concerns: what a loop woken by a push alone reads from ZFS
 * (ConvergenceLoop's scoped look). Pure: two views in, the datasets whose desired or reported state differs out, or
 * empty when some difference belongs to no dataset (an application without volumes, a node's address, a link's
 * ports), and only a look at the whole host is safe.
 */
public final class ViewChanges {
    private ViewChanges() {
    }

    /**
     * The datasets {@code after} wants on {@code self} that {@code before} wanted on another node, whose writable copy
     * another node reports, and which no node reports moving (a pre-copy or a handoff) yet: moves just asked for here
     * that their old owner has not begun.
     */
    public static Set<DatasetId> movesAskedHere(NodeId self, Configuration before, Configuration after, ClusterState state) {
        var moving = state.moves().stream().filter(m -> m.phase() == dev.flocker.api.model.MovePhase.PRE_COPY
                || m.phase() == dev.flocker.api.model.MovePhase.HANDOFF).map(NodeState.MoveState::datasetId).collect(Collectors.toSet());
        var asked = new HashSet<DatasetId>();
        for (var dataset : after.datasets().values()) {
            var id = dataset.datasetId();
            if (dataset.deleted() || !self.equals(dataset.primary()) || moving.contains(id)) {
                continue;
            }
            var wanted = before.dataset(id).filter(d -> !d.deleted()).map(dev.flocker.api.model.Dataset::primary);
            var owner = state.primaryOf(id).map(NodeState::uuid);
            if (wanted.isPresent() && !self.equals(wanted.get()) && owner.isPresent() && !self.equals(owner.get())) {
                asked.add(id);
            }
        }
        return asked;
    }

    /**
     * Whether two views differ in nothing but {@code self}'s own report. The control service sends a node its own report
     * back with every change of it (a node's view has its own report whole), and that tells the node's loop nothing its
     * own look did not: woken by it, the loop listed ZFS again, reported again (a receive's growing size, say), and was
     * woken by that report's echo in turn, every half second while a copy arrived, beside the stream.
     */
    public static boolean onlyOwnReport(NodeId self, Configuration beforeConfig, ClusterState beforeState, Configuration afterConfig,
                                        ClusterState afterState) {
        if (!beforeConfig.equals(afterConfig) || !beforeState.offline().equals(afterState.offline())
                || !beforeState.nodes().keySet().equals(afterState.nodes().keySet())) {
            return false;
        }
        for (var node : afterState.nodes().entrySet()) {
            if (!node.getKey().equals(self) && !node.getValue().equals(beforeState.nodes().get(node.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * @return the datasets whose configuration (dataset, lease, the applications using it) or cluster state (any node's
     *         copy of it, its moves, the applications using it) differ between the two views; empty when a difference
     *         cannot be put on datasets alone
     */
    public static Optional<Set<DatasetId>> datasets(Configuration beforeConfig, ClusterState beforeState,
                                                    Configuration afterConfig, ClusterState afterState) {
        var changed = new HashSet<DatasetId>();
        changed.addAll(differing(beforeConfig.datasets(), afterConfig.datasets()));
        changed.addAll(differing(beforeConfig.leases(), afterConfig.leases()));
        var applications = differing(beforeConfig.applications(), afterConfig.applications());
        if (!nodes(beforeState.nodes(), afterState.nodes(), changed, applications)
                || !nodes(beforeState.offline(), afterState.offline(), changed, applications)) {
            return Optional.empty();
        }
        // A link reaches whichever application exposes its port: one application's change may change another's.
        boolean linked = beforeConfig.applications().values().stream().anyMatch(ViewChanges::links)
                || afterConfig.applications().values().stream().anyMatch(ViewChanges::links);
        if (!applications.isEmpty() && linked) {
            return Optional.empty();
        }
        for (var name : applications) {
            var volumes = new HashSet<DatasetId>();
            for (var config : List.of(beforeConfig, afterConfig)) {
                var application = config.applications().get(name);
                if (application != null) {
                    application.datasets().forEach(volumes::add);
                }
            }
            if (volumes.isEmpty()) {
                return Optional.empty(); // an application with no dataset (or one no longer configured): its ports, its host
            }
            changed.addAll(volumes);
        }
        return Optional.of(Set.copyOf(changed));
    }

    /**
     * Adds to {@code changed} the datasets, and to {@code applications} the applications, whose reports differ between
     * the two nodes' maps; false when a difference belongs to neither (a node joined or left, its address, its ports).
     */
    private static boolean nodes(Map<NodeId, NodeState> before, Map<NodeId, NodeState> after, Set<DatasetId> changed, Set<String> applications) {
        if (!before.keySet().equals(after.keySet())) {
            return false;
        }
        for (var entry : before.entrySet()) {
            var was = entry.getValue();
            var is = after.get(entry.getKey());
            if (Objects.equals(was, is)) {
                continue;
            }
            if (!rest(was).equals(rest(is))) {
                return false;
            }
            var datasets = differing(was.datasets(), is.datasets(), NodeState.DatasetState::datasetId);
            var moves = differing(was.moves(), is.moves(), NodeState.MoveState::datasetId);
            var running = differing(was.applications(), is.applications(), NodeState.ApplicationState::name);
            if (datasets == null || moves == null || running == null) {
                return false;
            }
            changed.addAll(datasets);
            changed.addAll(moves);
            applications.addAll(running);
        }
        return true;
    }

    private static boolean links(Application application) {
        return application.links() != null && !application.links().isEmpty();
    }

    /** A node's report without what {@link #datasets} puts on datasets. */
    private static NodeState rest(NodeState node) {
        return new NodeState(node.uuid(), node.host(), node.era(), List.of(), List.of(), List.of(), node.datasetRoot(), node.busyPorts(),
                node.setAside(), node.fenceAfterSeconds());
    }

    /** As {@link #differing(Map, Map)}, for a node's lists keyed by {@code key}; null when a list names a key twice. */
    private static <K, V> Set<K> differing(List<V> before, List<V> after, Function<V, K> key) {
        var was = byKey(before, key);
        var is = byKey(after, key);
        return was == null || is == null ? null : differing(was, is);
    }

    private static <K, V> Map<K, V> byKey(List<V> values, Function<V, K> key) {
        if (values == null) {
            return Map.of();
        }
        var map = values.stream().collect(Collectors.toMap(key, v -> v, (a, b) -> a));
        return map.size() == values.size() ? map : null;
    }

    /** The keys whose values differ, or that only one side has. */
    private static <K, V> Set<K> differing(Map<K, V> before, Map<K, V> after) {
        var keys = new HashSet<K>();
        for (var entry : before.entrySet()) {
            if (!Objects.equals(entry.getValue(), after.get(entry.getKey()))) {
                keys.add(entry.getKey());
            }
        }
        for (var key : after.keySet()) {
            if (!before.containsKey(key)) {
                keys.add(key);
            }
        }
        return keys;
    }
}
