package dev.flocker.plugin;

import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.client.FlockerClient.DatasetStateView;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState.MoveState;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a volume is, as the cluster reports it, in words an operator acts on: this host's mountpoint, the nodes
 * involved ("node &lt;uuid&gt; (&lt;address&gt;)"), a move's progress, and what keeps a volume from arriving.
 */
final class Whereabouts {
    private final FlockerClient api;
    private final NodeId self;

    Whereabouts(FlockerClient api, NodeId self) {
        this.api = api;
        this.self = self;
    }

    /** Waits until this host reports the dataset writable and mounted; an error that says what blocks it otherwise. */
    String awaitHere(String name, DatasetId dataset, NodeId wasOn, long deadline, Duration timeout, Duration poll) {
        while (true) {
            var states = api.datasetState();
            var path = localPath(dataset, states);
            if (path.isPresent()) {
                return path.get();
            }
            if (System.nanoTime() > deadline) {
                throw new PluginError("volume " + name + " did not reach this host within " + timeout.toSeconds() + " s: "
                        + blocking(dataset, wasOn, states) + "; the move goes on, so mounting again later may succeed");
            }
            PluginError.pause(poll.toMillis());
        }
    }

    private String blocking(DatasetId dataset, NodeId wasOn, List<DatasetStateView> states) {
        var state = states.stream().filter(s -> s.datasetId().equals(dataset)).findFirst();
        var move = state.map(DatasetStateView::move);
        var nodes = nodes();
        if (move.isPresent()) {
            return progress(move.get(), nodes);
        }
        var holder = state.map(DatasetStateView::primary).orElse(wasOn);
        if (nodes != null && nodes.stream().noneMatch(n -> n.uuid().equals(holder))) {
            return "the host that has it, node " + holder + ", is not reporting (down, unreachable, or its agent stopped)";
        }
        if (holder.equals(self)) {
            return "this host's agent has not mounted it yet (see its log)";
        }
        return "no move has started yet (is the agent of " + describe(holder, nodes) + " running?)";
    }

    String progress(MoveState move, List<FlockerClient.NodeView> nodes) {
        var text = new StringBuilder(move.phase().json()).append(" from ").append(describe(move.from(), nodes));
        if (move.expectedBytes() > 0) {
            text.append(String.format(Locale.ROOT, ": %.1f MiB of %.1f MiB copied (%d%%)", move.bytes() / 1048576.0, move.expectedBytes() / 1048576.0,
                    Math.min(100, move.bytes() * 100 / move.expectedBytes())));
        }
        if (move.etaSeconds() != null) {
            text.append(String.format(Locale.ROOT, ", about %.0f s left", move.etaSeconds()));
        }
        if (move.detail() != null && !move.detail().isEmpty()) {
            text.append(" (").append(move.detail()).append(')');
        }
        return text.toString();
    }

    Optional<String> localPath(DatasetId dataset) {
        return localPath(dataset, api.datasetState());
    }

    Optional<String> localPath(DatasetId dataset, List<DatasetStateView> states) {
        return states.stream().filter(s -> s.datasetId().equals(dataset) && self.equals(s.primary()) && s.path() != null)
                .map(DatasetStateView::path).findFirst();
    }

    /** A node as "node <uuid> (<address>)", for messages an operator acts on. */
    String describe(NodeId node) {
        return describe(node, nodes());
    }

    /** As {@link #describe(NodeId)}, with the reporting nodes already read (null: unknown). */
    String describe(NodeId node, List<FlockerClient.NodeView> nodes) {
        if (node == null) {
            return "no node";
        }
        if (node.equals(self)) {
            return "this host (node " + node + ")";
        }
        if (nodes == null) {
            return "node " + node;
        }
        var host = nodes.stream().filter(n -> n.uuid().equals(node)).map(FlockerClient.NodeView::host).findFirst();
        return "node " + node + host.map(h -> " (" + h + ")").orElse(" (not reporting)");
    }

    /** The nodes that report, or null when the control service cannot say (messages then omit addresses). */
    List<FlockerClient.NodeView> nodes() {
        try {
            return api.nodes();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
