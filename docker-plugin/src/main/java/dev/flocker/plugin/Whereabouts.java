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
    /**
     * How often a Mount asks the cluster's state once this host has reported its volume here: the control service takes
     * the report in a few ms, and the Mount returns as soon as the cluster's state agrees.
     */
    static final long AGREE_POLL_MILLIS = 5;

    private final FlockerClient api;
    private final NodeId self;
    private final AgentReports reports;

    /** @param reports what this host's agent reports (null: the cluster's state is polled only) */
    Whereabouts(FlockerClient api, NodeId self, AgentReports reports) {
        this.api = api;
        this.self = self;
        this.reports = reports;
    }

    /** Waits until this host reports the dataset writable and mounted; an error that says what blocks it otherwise. */
    String awaitHere(String name, DatasetId dataset, NodeId wasOn, long deadline, Duration timeout, Duration poll) {
        long agreeSince = 0; // when this host first reported it here, while the cluster's state did not say so yet
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
            if (reports == null) {
                PluginError.pause(poll.toMillis());
            } else if (reports.writableHere(dataset)) {
                // Reported here: the cluster's state has it within moments. Only for a second: a cluster that keeps
                // disagreeing (another host reports a newer generation) is asked at the usual pace.
                agreeSince = agreeSince == 0 ? System.nanoTime() : agreeSince;
                PluginError.pause(System.nanoTime() - agreeSince < 1_000_000_000L ? AGREE_POLL_MILLIS : poll.toMillis());
            } else {
                agreeSince = 0;
                try {
                    reports.awaitNext(poll.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PluginError("interrupted");
                }
            }
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
