package dev.flocker.deploy;

import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Follows the cluster until it matches a configuration: every application running on its node, every dataset mounted
 * by its primary, no move in flight. Prints a line whenever what it sees changes: each move's phase, bytes, rate and
 * ETA, and each application that is not running where it should yet.
 */
final class Convergence {
    private final FlockerClient client;
    private final PrintStream out;
    private final Duration timeout;

    Convergence(FlockerClient client, PrintStream out, Duration timeout) {
        this.client = client;
        this.out = out;
        this.timeout = timeout;
    }

    /** 0 once converged; 3 (with what is still missing) when the timeout passes first. */
    int await(Configuration wanted, Map<NodeId, String> hosts) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long start = System.nanoTime();
        List<String> last = List.of();
        while (true) {
            var pending = pending(wanted, hosts);
            if (pending.isEmpty()) {
                out.printf("converged in %.1f s%n", (System.nanoTime() - start) / 1e9);
                return 0;
            }
            if (!pending.equals(last)) {
                pending.forEach(line -> out.println("  " + line));
                last = pending;
            }
            if (System.nanoTime() > deadline) {
                throw new DeployException("not converged after " + timeout.toSeconds() + " s; still: " + String.join("; ", pending), 3);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeployException("interrupted while waiting", 3);
            }
        }
    }

    /** What does not match yet, one line each. */
    private List<String> pending(Configuration wanted, Map<NodeId, String> hosts) {
        var lines = new ArrayList<String>();
        var moves = DeployMain.call(client::moves);
        for (var move : moves) {
            if (!move.phase().ended()) {
                var name = wanted.dataset(move.datasetId()).map(d -> d.metadata().getOrDefault("name", "")).orElse("");
                lines.add("move " + (name.isEmpty() ? move.datasetId() : name) + " " + DeployPlan.host(hosts, move.from()) + " -> "
                        + (move.to() == null ? "?" : DeployPlan.host(hosts, move.to())) + ": " + describe(move));
            }
        }
        var state = DeployMain.call(client::datasetState);
        for (var dataset : wanted.datasets().values()) {
            if (dataset.deleted()) {
                continue;
            }
            boolean mounted = state.stream().anyMatch(s -> s.datasetId().equals(dataset.datasetId()) && dataset.primary().equals(s.primary())
                    && s.path() != null);
            if (!mounted) {
                lines.add("dataset " + dataset.metadata().getOrDefault("name", dataset.datasetId().toString()) + ": not yet mounted on "
                        + DeployPlan.host(hosts, dataset.primary()));
            }
        }
        var containers = DeployMain.call(client::containerState);
        for (var app : wanted.applications().values()) {
            boolean running = containers.stream().anyMatch(c -> c.name().equals(app.name()) && app.node().equals(c.node()) && c.running());
            if (!running) {
                lines.add("application " + app.name() + ": not yet running on " + DeployPlan.host(hosts, app.node()));
            }
        }
        for (var container : containers) {
            if (!wanted.applications().containsKey(container.name()) && container.running()) {
                lines.add("application " + container.name() + ": still running on " + DeployPlan.host(hosts, container.node()));
            }
        }
        return lines;
    }

    static String describe(NodeState.MoveState move) {
        var text = new StringBuilder(move.phase().json());
        if (move.bytes() > 0) {
            text.append(", ").append(DeployPlan.bytes(move.bytes()));
            if (move.expectedBytes() > 0) {
                text.append(" of ").append(DeployPlan.bytes(move.expectedBytes()));
            }
        }
        if (move.bytesPerSecond() > 0) {
            text.append(", ").append(DeployPlan.bytes((long) move.bytesPerSecond())).append("/s");
        }
        if (move.etaSeconds() != null) {
            text.append(String.format(", ETA %.0f s", move.etaSeconds()));
        }
        if (move.detail() != null && !move.detail().isEmpty()) {
            text.append(" (").append(move.detail()).append(')');
        }
        return text.toString();
    }
}
