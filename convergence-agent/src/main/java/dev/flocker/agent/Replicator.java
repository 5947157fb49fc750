package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.agent.plan.ReplicationProgress;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState.StandbyState;
import dev.flocker.volume.SnapshotName;
import dev.flocker.volume.transfer.Transfer;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the planner's {@link Change.Replicate} rounds in the background, at most one per dataset, and keeps what the
 * planner and the reports need of them: whether a round runs, when the last ended, and per standby the newest snapshot it
 * verifiably holds. After a round in which every standby got its increment, this copy's snapshots are pruned to the
 * newest few plus each standby's newest (the base of its next increment). It decides nothing.
 */
final class Replicator {
    private static final Logger LOG = LoggerFactory.getLogger(Replicator.class);

    private final ChangeExecutor executor;
    private final Wakeup wakeup;
    private final Duration interval;
    private final Map<DatasetId, Round> rounds = new ConcurrentHashMap<>();
    private final Map<DatasetId, Map<NodeId, Standby>> standbys = new ConcurrentHashMap<>();
    private final io.micrometer.core.instrument.Timer lag = io.micrometer.core.instrument.Timer.builder("flocker.replication.lag")
            .description("At the end of each push to a standby: how old the snapshot it now holds is (what it lacks is newer)")
            .publishPercentiles(0.5, 0.99).register(io.micrometer.core.instrument.Metrics.globalRegistry);

    private static final class Round {
        volatile boolean running = true;
        volatile Instant endedAt;
        volatile boolean failed;
        volatile Transfer transfer;
        volatile boolean cancelled;
    }

    /** One standby as the last push to it left it. */
    private record Standby(String snapshot, Instant snapshotTime, String error, Transfer sending) {
        static final Standby NEW = new Standby(null, null, null, null);

        Standby sending(Transfer transfer) {
            return new Standby(snapshot, snapshotTime, error, transfer);
        }

        Standby failed(String why) {
            return new Standby(snapshot, snapshotTime, why, null);
        }
    }

    Replicator(ChangeExecutor executor, Wakeup wakeup, Duration interval) {
        this.executor = executor;
        this.wakeup = wakeup;
        this.interval = interval;
    }

    Map<DatasetId, ReplicationProgress> progress() {
        var out = new java.util.HashMap<DatasetId, ReplicationProgress>();
        rounds.forEach((id, r) -> out.put(id, new ReplicationProgress(r.running, r.endedAt, r.failed)));
        return out;
    }

    /** How each standby of {@code id} stands, for this host's report (empty when this host ships it to none). */
    List<StandbyState> states(DatasetId id) {
        var known = standbys.get(id);
        if (known == null) {
            return List.of();
        }
        return known.entrySet().stream().sorted(Map.Entry.comparingByKey(java.util.Comparator.comparing(NodeId::toString))).map(e -> {
            var s = e.getValue();
            var p = s.sending() == null ? null : s.sending().progress();
            return new StandbyState(e.getKey(), s.snapshotTime(), p == null ? 0 : Math.max(p.bytes(), p.expectedBytes()), s.error());
        }).toList();
    }

    /** Forgets datasets this host no longer ships (no longer its primary, or gone). */
    void retain(java.util.Set<DatasetId> shipping) {
        standbys.keySet().retainAll(shipping);
        rounds.entrySet().removeIf(e -> !shipping.contains(e.getKey()) && !e.getValue().running);
    }

    /** Stops every round now (this node lost its lease: nothing may reach a standby that could be promoted meanwhile). */
    void cancelAll() {
        rounds.values().forEach(r -> {
            if (r.running) {
                r.cancelled = true;
                var t = r.transfer;
                if (t != null) {
                    t.cancel();
                }
            }
        });
    }

    void run(Change.Replicate change) {
        var id = change.dataset();
        var round = new Round();
        var previous = rounds.putIfAbsent(id, round);
        if (previous != null) {
            if (previous.running) {
                return;
            }
            rounds.put(id, round);
        }
        Thread.ofVirtual().name("replicate-" + id).start(() -> {
            boolean allDone = true;
            try {
                for (var peer : change.to()) {
                    if (round.cancelled) {
                        allDone = false;
                        break;
                    }
                    allDone &= push(id, peer, round);
                }
                if (allDone) {
                    var keep = new HashSet<String>();
                    standbys.getOrDefault(id, Map.of()).values().forEach(s -> {
                        if (s.snapshot() != null) {
                            keep.add(s.snapshot());
                        }
                    });
                    executor.pruneSnapshots(id, keep);
                }
            } finally {
                round.failed = !allDone;
                round.endedAt = Instant.now();
                round.running = false;
                wakeup.signal("replication-round-ended");
                long wait = (allDone ? interval : ReplicationProgress.RETRY_AFTER_FAILURE).toMillis();
                Thread.ofVirtual().start(() -> {
                    Agent.sleep(wait);
                    wakeup.signal("replication-due"); // the next round is due
                });
            }
        });
    }

    private boolean push(DatasetId id, Change.Peer peer, Round round) {
        var transfer = new Transfer().routine();
        round.transfer = transfer;
        var known = standbys.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
        var before = known.getOrDefault(peer.node(), Standby.NEW);
        known.put(peer.node(), before.sending(transfer));
        try {
            var result = executor.push(new Change.PushIncrement(id, peer, MovePhase.REPLICATE, 0), transfer);
            var time = SnapshotName.time(result.snapshot());
            known.put(peer.node(), new Standby(result.snapshot(), time, null, null));
            if (time != null) {
                lag.record(Duration.between(time, Instant.now()));
            }
            return true;
        } catch (RuntimeException e) {
            var message = ChangeExecutor.rootMessage(e);
            LOG.atWarn().addKeyValue("dataset", id).addKeyValue("standby", peer.host()).log("replication failed; retried: " + message);
            known.put(peer.node(), before.failed(round.cancelled ? "cancelled: this node's lease lapsed" : message));
            return false;
        }
    }
}
