package dev.flocker.deploy;

import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Follows the cluster until it matches a configuration: every application running on its node, every dataset mounted
 * by its primary, no move in flight. On a terminal it keeps one line per move and per pending item, rewritten in place
 * (a move's line: bar, bytes, rate, ETA, phase), as {@code docker pull} does; elsewhere (a log, a pipe) it prints a line
 * only when an item appears, changes phase or is done.
 */
final class Convergence {
    private static final long POLL_MILLIS = 500;

    private final FlockerClient client;
    private final PrintStream out;
    private final Duration timeout;
    private final boolean terminal;
    private final int columns;

    /** One thing the cluster does not match yet; {@code state} is what a plain log reports a change of. */
    record Item(String key, String text, String state, NodeState.MoveState move) {
    }

    Convergence(FlockerClient client, PrintStream out, Duration timeout, boolean terminal, int columns) {
        this.client = client;
        this.out = out;
        this.timeout = timeout;
        this.terminal = terminal;
        this.columns = Math.max(40, columns);
    }

    /** 0 once converged; 3 (with what is still missing) when the timeout passes first. */
    int await(Configuration wanted, Map<NodeId, String> hosts) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long start = System.nanoTime();
        var shown = new LinkedHashMap<String, Item>();
        int drawn = 0;
        while (true) {
            var pending = pending(wanted, hosts);
            if (terminal) {
                drawn = redraw(pending, drawn);
            } else {
                logChanges(shown, pending);
            }
            if (pending.isEmpty()) {
                out.printf("converged in %.1f s%n", (System.nanoTime() - start) / 1e9);
                return 0;
            }
            if (System.nanoTime() > deadline) {
                throw new DeployException("not converged after " + timeout.toSeconds() + " s; still: "
                        + String.join("; ", pending.stream().map(Item::text).toList()), 3);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeployException("interrupted while waiting", 3);
            }
        }
    }

    /** Rewrites the block of lines drawn last time in place; returns how many lines it now takes. */
    private int redraw(List<Item> pending, int drawn) {
        var text = new StringBuilder();
        if (drawn > 0) {
            text.append("\033[").append(drawn).append('F'); // to the start of the block's first line
        }
        for (var item : pending) {
            text.append("\033[2K").append(fit(item.move() == null ? item.text() : bar(item))).append('\n');
        }
        for (int i = pending.size(); i < drawn; i++) {
            text.append("\033[2K\n"); // lines of items that are done: blank them, then go back up
        }
        if (drawn > pending.size()) {
            text.append("\033[").append(drawn - pending.size()).append('F');
        }
        out.print(text);
        out.flush();
        return pending.size();
    }

    /** A plain log: a line when an item appears or its state changes, and when it is done. */
    private void logChanges(Map<String, Item> shown, List<Item> pending) {
        var now = new LinkedHashMap<String, Item>();
        pending.forEach(item -> now.put(item.key(), item));
        for (var item : pending) {
            var before = shown.get(item.key());
            if (before == null || !before.state().equals(item.state())) {
                out.println("  " + item.text());
            }
        }
        for (var gone : shown.values()) {
            if (!now.containsKey(gone.key())) {
                out.println("  " + gone.key().replaceFirst("^[a-z-]+:", "") + ": done");
            }
        }
        shown.clear();
        shown.putAll(now);
    }

    private String fit(String line) {
        return line.length() <= columns - 1 ? line : line.substring(0, columns - 2) + "…";
    }

    /** {@code move db n1 -> n2 [#######-------------]  35%  94.0 MiB of 268.0 MiB  31.0 MiB/s  ETA 6 s  pre-copy (round 1)}. */
    static String bar(Item item) {
        var move = item.move();
        var text = new StringBuilder(item.key().substring("move:".length())).append(' ');
        if (move.expectedBytes() > 0) {
            int percent = (int) Math.min(100, move.bytes() * 100 / move.expectedBytes());
            int filled = percent / 5;
            text.append('[').append("#".repeat(filled)).append("-".repeat(20 - filled)).append("] ").append(String.format("%3d%%", percent))
                    .append("  ").append(DeployPlan.bytes(move.bytes())).append(" of ").append(DeployPlan.bytes(move.expectedBytes()));
        } else if (move.bytes() > 0) {
            text.append(DeployPlan.bytes(move.bytes()));
        }
        if (move.bytesPerSecond() > 0) {
            text.append("  ").append(DeployPlan.bytes((long) move.bytesPerSecond())).append("/s");
        }
        if (move.etaSeconds() != null) {
            text.append(String.format("  ETA %.0f s", move.etaSeconds()));
        }
        text.append("  ").append(move.phase().json());
        if (move.detail() != null && !move.detail().isEmpty()) {
            text.append(" (").append(move.detail()).append(')');
        }
        return text.toString();
    }

    /** Why the agent of the application's node could not start it, when it said. */
    static java.util.Optional<String> startError(List<FlockerClient.ContainerStateView> containers, Application app) {
        return containers.stream().filter(c -> c.name().equals(app.name()) && app.node().equals(c.node()) && c.error() != null)
                .map(FlockerClient.ContainerStateView::error).findFirst();
    }

    /** What does not match yet, one item each. */
    private List<Item> pending(Configuration wanted, Map<NodeId, String> hosts) {
        var items = new ArrayList<Item>();
        var moves = DeployMain.call(client::moves);
        for (var move : moves) {
            if (!move.phase().ended()) {
                var name = wanted.dataset(move.datasetId()).map(d -> d.metadata().getOrDefault("name", "")).orElse("");
                var label = "move " + (name.isEmpty() ? move.datasetId() : name) + " " + DeployPlan.host(hosts, move.from()) + " -> "
                        + DeployPlan.host(hosts, move.to());
                var detail = move.detail() == null ? "" : move.detail().replaceAll("[0-9.]+ (bytes|ms|s|MiB|KiB)", "").strip();
                items.add(new Item("move:" + label.substring("move ".length()), label + ": " + describe(move),
                        move.phase().json() + " " + detail, move));
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
                var name = dataset.metadata().getOrDefault("name", dataset.datasetId().toString());
                var text = "dataset " + name + ": not yet mounted on " + DeployPlan.host(hosts, dataset.primary());
                items.add(new Item("dataset:" + name, text, text, null));
            }
        }
        var containers = DeployMain.call(client::containerState);
        for (var app : wanted.applications().values()) {
            boolean running = containers.stream().anyMatch(c -> c.name().equals(app.name()) && app.node().equals(c.node()) && c.running());
            if (!running) {
                var error = startError(containers, app).map(e -> " (" + e + ")").orElse("");
                var text = "application " + app.name() + ": not yet running on " + DeployPlan.host(hosts, app.node()) + error;
                items.add(new Item("application:" + app.name(), text, text, null));
            }
        }
        for (var container : containers) {
            if (!wanted.applications().containsKey(container.name()) && container.running()) {
                var text = "application " + container.name() + ": still running on " + DeployPlan.host(hosts, container.node());
                items.add(new Item("stopping:" + container.name(), text, text, null));
            }
        }
        return items;
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

    /** Standard output is a terminal (not a file or a pipe), and not a dumb one. */
    static boolean onTerminal() {
        try {
            var target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/1")).toString();
            return (target.startsWith("/dev/pts/") || target.startsWith("/dev/tty")) && !"dumb".equals(System.getenv("TERM"));
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The terminal's width: COLUMNS, else {@code stty size}, else 120. */
    static int terminalColumns() {
        try {
            return Integer.parseInt(System.getenv().getOrDefault("COLUMNS", ""));
        } catch (NumberFormatException e) {
            try {
                var process = new ProcessBuilder("stty", "size").redirectInput(ProcessBuilder.Redirect.INHERIT).start();
                var size = new String(process.getInputStream().readAllBytes()).strip().split(" ");
                return size.length == 2 ? Integer.parseInt(size[1]) : 120;
            } catch (java.io.IOException | NumberFormatException e2) {
                return 120;
            }
        }
    }
}
