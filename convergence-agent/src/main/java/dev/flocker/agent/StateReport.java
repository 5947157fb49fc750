package dev.flocker.agent;

import dev.flocker.agent.plan.LocalState;
import dev.flocker.agent.plan.Wait;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.model.NodeState.MoveState;
import dev.flocker.proxy.RoutingProxy;
import java.io.IOException;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this agent tells the control service about its host: the datasets and containers discovery found, the moves
 * away from it (running, just ended, waiting and why, or failed), and the ports other programs hold here.
 */
record StateReport(NodeIdentity identity, String host, String datasetRoot, RoutingProxy proxy, BusyPorts busy) {
    private static final Logger LOG = LoggerFactory.getLogger(StateReport.class);

    StateReport(NodeIdentity identity, String host, Inet4Address address, String datasetRoot, RoutingProxy proxy) {
        this(identity, host, datasetRoot, proxy, new BusyPorts(address, proxy::listening, BusyPorts.EVERY));
    }

    /**
     * @param applicationErrors why applications configured here could not start (or their images load), by name; those
     *                          with no container here are reported as not running, with their error
     */
    NodeState of(LocalState local, List<MoveState> running, List<Wait> waits, Map<DatasetId, String> errors,
                 Map<String, String> applicationErrors, Configuration configuration, Replication replication) {
        NodeId self = identity.node();
        var datasets = local.datasets().values().stream()
                .map(d -> new NodeState.DatasetState(d.id(), self.equals(d.owner()), d.writable() ? d.mountpoint() : null, d.maximumSize(),
                        d.generation(), roundedToMiB(d.usedBytes()), d.snapshotTime(), replication.standbys().apply(d.id())))
                .sorted(Comparator.comparing(d -> d.datasetId().toString())).toList();
        var apps = new ArrayList<NodeState.ApplicationState>();
        for (var c : local.containers().values()) {
            apps.add(new NodeState.ApplicationState(c.name(), null, c.running(), null, c.health(), applicationErrors.get(c.name()),
                    c.created() ? Boolean.TRUE : null));
        }
        applicationErrors.forEach((name, error) -> {
            boolean configuredHere = configuration != null && configuration.applications().containsKey(name)
                    && self.equals(configuration.applications().get(name).node());
            if (configuredHere && !local.containers().containsKey(name)) {
                apps.add(new NodeState.ApplicationState(name, null, false, null, null, error));
            }
        });
        apps.sort(Comparator.comparing(NodeState.ApplicationState::name));
        var moves = new ArrayList<MoveState>();
        for (var move : running) {
            moves.add(move.phase() == MovePhase.DONE ? withHoldTime(move, configuration) : move);
        }
        for (var wait : waits) {
            if (moves.stream().noneMatch(m -> m.datasetId().equals(wait.dataset()))) {
                moves.add(new MoveState(wait.dataset(), wait.from(), wait.to(), MovePhase.WAITING, 0, 0, 0, null, wait.reason()));
            }
        }
        errors.forEach((dataset, error) -> {
            if (moves.stream().noneMatch(m -> m.datasetId().equals(dataset))) {
                moves.add(new MoveState(dataset, self, null, MovePhase.ERROR, 0, 0, 0, null, error));
            }
        });
        return new NodeState(self, host, identity.era(), datasets, apps, moves, datasetRoot, busy.latest(), replication.setAside(),
                replication.fenceAfter() == null ? null : replication.fenceAfter().toMillis() / 1000.0);
    }

    /**
     * What the report says of replication: each standby's state for the datasets this host ships, and the copies set aside.
     */
    record Replication(java.util.function.Function<DatasetId, List<NodeState.StandbyState>> standbys, List<String> setAside,
                       java.time.Duration fenceAfter) {
        static final Replication NONE = new Replication(id -> List.of(), List.of(), null);
    }

    /** Used bytes change with every write: reported to the MiB, so a busy dataset does not make every report new. */
    static long roundedToMiB(long bytes) {
        return (bytes + (1 << 19)) >> 20 << 20;
    }

    /**
     * Ports other programs listen on at this host's address (not this agent's proxy): no application may take them. Read
     * from the kernel's socket tables, which list every connection too: with a busy host's thousands of connections that
     * took 20-50 ms, on every loop, a handoff's target's included. So they are read in the background at most every
     * {@link #EVERY}, and a report carries the last reading (the first is read at once).
     */
    static final class BusyPorts {
        static final java.time.Duration EVERY = java.time.Duration.ofSeconds(2);
        private final Inet4Address address;
        private final java.util.function.Supplier<? extends java.util.Collection<Integer>> ours;
        private final long everyNanos;
        private volatile List<Integer> latest;
        private volatile long readAt;
        private final java.util.concurrent.atomic.AtomicBoolean reading = new java.util.concurrent.atomic.AtomicBoolean();

        /** @param ours the ports this agent's proxy listens on (not reported) */
        BusyPorts(Inet4Address address, java.util.function.Supplier<? extends java.util.Collection<Integer>> ours, java.time.Duration every) {
            this.address = address;
            this.ours = ours;
            this.everyNanos = every.toNanos();
        }

        List<Integer> latest() {
            if (latest == null) {
                read();
            } else if (System.nanoTime() - readAt >= everyNanos && reading.compareAndSet(false, true)) {
                Thread.ofVirtual().name("busy-ports").start(() -> {
                    try {
                        read();
                    } finally {
                        reading.set(false);
                    }
                });
            }
            return latest;
        }

        private void read() {
            List<Integer> now;
            try {
                var busy = new TreeSet<>(ListeningPorts.at(address));
                busy.removeAll(ours.get());
                now = List.copyOf(busy);
            } catch (IOException | RuntimeException e) {
                LOG.atWarn().log("cannot read this host's listening ports: " + e.getMessage());
                now = List.of();
            }
            readAt = System.nanoTime();
            latest = now;
        }
    }

    /** Adds how long this host's proxy held the moved application's connections to a finished move's detail. */
    private MoveState withHoldTime(MoveState move, Configuration configuration) {
        if (configuration == null) {
            return move;
        }
        var held = configuration.applications().values().stream().filter(app -> app.usesDataset(move.datasetId()))
                .flatMap(app -> app.ports().stream()).map(p -> proxy.stats(p.external())).flatMap(Optional::stream)
                .filter(stats -> stats.lastHoldMillis() >= 0).findFirst();
        if (held.isEmpty()) {
            return move;
        }
        var stats = held.get();
        return new MoveState(move.datasetId(), move.from(), move.to(), move.phase(), move.bytes(), move.expectedBytes(), move.bytesPerSecond(),
                move.etaSeconds(), move.detail() + "; connections held " + stats.lastHoldMillis() + " ms here (" + stats.lastReleased()
                + " released)");
    }
}
