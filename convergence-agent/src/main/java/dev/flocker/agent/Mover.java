package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState.MoveState;
import dev.flocker.volume.transfer.DatasetShipper;
import dev.flocker.volume.transfer.Peer;
import dev.flocker.volume.transfer.SshConnections;
import dev.flocker.volume.transfer.Transfer;
import dev.flocker.volume.transfer.TransferResult;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out moves of writable copies away from this host, each on its own virtual thread:
 * <ol>
 * <li>pre-copy while the applications keep running: a full send, then increments while each is still large and
 *     shrinking (a budget of rounds, not a fixed count);</li>
 * <li>handoff: routes hold (hook), the applications using the dataset stop, the copy here becomes read-only, the last
 *     increment goes, and ownership passes with the next generation: first recorded here, then on the new owner's
 *     copy, which alone may then be made writable.</li>
 * </ol>
 * Every step re-derives from ZFS what is done: a move interrupted anywhere (even by kill -9) is planned again from what
 * ZFS shows and picks up where it stopped, and there are never two writable copies.
 */
public final class Mover {
    private static final Logger LOG = LoggerFactory.getLogger(Mover.class);
    private static final Duration KEEP_FINISHED = Duration.ofSeconds(30);

    /** Called at the start and end of each handoff, so routes can hold connections meanwhile. */
    public interface HandoffHook {
        void handoffStarting(DatasetId dataset, NodeId to);

        void handoffEnded(DatasetId dataset, NodeId to, boolean succeeded);

        HandoffHook NONE = new HandoffHook() {
            @Override
            public void handoffStarting(DatasetId dataset, NodeId to) {
            }

            @Override
            public void handoffEnded(DatasetId dataset, NodeId to, boolean succeeded) {
            }
        };
    }

    private final NodeId self;
    private final ZfsVolumeDriver driver;
    private final DatasetShipper shipper;
    private final SshConnections ssh;
    private final Containers containers;
    private final Function<Change.Peer, Peer> peers;
    private final AgentConfig config;
    private final Runnable onChange;
    private volatile HandoffHook hook = HandoffHook.NONE;
    private final Map<DatasetId, Running> running = new ConcurrentHashMap<>();
    private final Map<DatasetId, Finished> finished = new ConcurrentHashMap<>();

    private final class Running {
        final Change.MoveDataset move;
        volatile String phase = "pre-copy";
        volatile String detail = "starting";
        volatile Transfer transfer;
        volatile boolean abandon;

        Running(Change.MoveDataset move) {
            this.move = move;
        }

        MoveState state() {
            var t = transfer;
            var progress = t == null ? null : t.progress();
            return new MoveState(move.dataset(), self, move.to().node(), phase, progress == null ? 0 : progress.bytes(),
                    progress == null ? 0 : Math.max(0, progress.expectedBytes()), progress == null ? 0 : progress.bytesPerSecond(),
                    progress == null || progress.eta() == null ? null : progress.eta().toMillis() / 1000.0, detail);
        }
    }

    private record Finished(MoveState state, Instant at, boolean failed) {
    }

    public Mover(NodeId self, ZfsVolumeDriver driver, DatasetShipper shipper, SshConnections ssh, Containers containers,
                 Function<Change.Peer, Peer> peers, AgentConfig config, Runnable onChange) {
        this.self = self;
        this.driver = driver;
        this.shipper = shipper;
        this.ssh = ssh;
        this.containers = containers;
        this.peers = peers;
        this.config = config;
        this.onChange = onChange;
    }

    public void setHook(HandoffHook hook) {
        this.hook = hook;
    }

    /** Datasets being moved away now. */
    public Set<DatasetId> active() {
        return Set.copyOf(running.keySet());
    }

    /** Moves in flight, and those that ended in the last seconds (failed ones with their error). */
    public List<MoveState> states() {
        var now = Instant.now();
        finished.values().removeIf(f -> f.at().plus(KEEP_FINISHED).isBefore(now));
        var states = new ArrayList<MoveState>();
        running.values().forEach(r -> states.add(r.state()));
        finished.forEach((id, f) -> {
            if (!running.containsKey(id)) {
                states.add(f.state());
            }
        });
        return states;
    }

    /**
     * Makes sure exactly the planned moves run: starts those not running, and abandons running ones the plan no longer
     * wants (the configuration changed its mind) while they are still pre-copying. A handoff, once begun, finishes.
     */
    public void retain(List<Change.MoveDataset> planned) {
        for (var move : planned) {
            var current = running.get(move.dataset());
            if (current != null && !current.move.to().node().equals(move.to().node()) && current.phase.equals("pre-copy")) {
                abandon(current);
            } else if (current == null && !backingOff(move.dataset())) {
                start(move);
            }
        }
        for (var current : running.values()) {
            if (planned.stream().noneMatch(m -> m.dataset().equals(current.move.dataset())) && current.phase.equals("pre-copy")) {
                abandon(current);
            }
        }
    }

    private boolean backingOff(DatasetId dataset) {
        var last = finished.get(dataset);
        return last != null && last.failed() && last.at().plusSeconds(2).isAfter(Instant.now());
    }

    private void abandon(Running move) {
        LOG.atInfo().addKeyValue("dataset", move.move.dataset()).log("abandoning the pre-copy: the configuration changed");
        move.abandon = true;
        var t = move.transfer;
        if (t != null) {
            t.cancel();
        }
    }

    private void start(Change.MoveDataset move) {
        var state = new Running(move);
        if (running.putIfAbsent(move.dataset(), state) != null) {
            return;
        }
        Thread.ofVirtual().name("move-" + move.dataset()).start(() -> {
            boolean failed = false;
            try {
                run(state);
            } catch (RuntimeException e) {
                failed = !state.abandon;
                state.phase = state.abandon ? "abandoned" : "failed";
                state.detail = e.getMessage();
                if (failed) {
                    LOG.atWarn().setCause(e).addKeyValue("dataset", move.dataset()).addKeyValue("to", move.to().host())
                            .log("move failed; it is retried from the last common snapshot");
                }
            } finally {
                finished.put(move.dataset(), new Finished(state.state(), Instant.now(), failed));
                running.remove(move.dataset());
                onChange.run();
            }
        });
        onChange.run();
    }

    private void run(Running state) {
        var move = state.move;
        var id = move.dataset();
        var peer = peers.apply(move.to());
        var current = driver.get(id).orElseThrow(() -> new IllegalStateException("dataset " + id + " is gone from this host"));
        if (!self.equals(current.owner())) {
            throw new IllegalStateException("this host no longer owns dataset " + id + " (owner " + current.owner() + ")");
        }
        // 1. Pre-copy, while applications run (skipped when an interrupted handoff already made the copy read-only, and
        // when the target waits to mount it and nothing runs on it here: see MoveDataset#precopy).
        boolean precopy = move.precopy() || !containers.runningWith(id).isEmpty();
        if (!precopy) {
            LOG.atInfo().addKeyValue("dataset", id).log("the target waits to mount it and nothing runs on it here: handing off at once");
        }
        if (current.mounted() && !current.readOnly() && precopy) {
            long previous = Long.MAX_VALUE;
            for (int round = 1; round <= config.precopyRounds(); round++) {
                state.detail = "round " + round + (round == 1 ? "" : ", previous increment " + previous + " bytes");
                var result = push(state, id, peer);
                if (state.abandon) {
                    return;
                }
                long bytes = result.bytes();
                if (bytes <= config.precopyBytes() || (round > 1 && bytes > previous * 3 / 4)) {
                    break; // small enough, or no longer shrinking: the writers are as fast as the copy
                }
                previous = bytes;
            }
        }
        // 2. Handoff.
        state.phase = "handoff";
        state.detail = "stopping applications";
        onChange.run();
        long handoffStart = System.nanoTime();
        boolean done = false;
        hook.handoffStarting(id, move.to().node());
        try {
            var stopped = containers.stopUsing(id);
            driver.makeReplica(id);
            Failpoints.pause("handoff-read-only");
            state.detail = "final increment" + (stopped.isEmpty() ? "" : " (stopped " + String.join(", ", stopped) + ")");
            var last = push(state, id, peer);
            state.detail = "passing ownership (generation " + move.generation() + ")";
            driver.setOwner(id, move.to().node(), move.generation());
            Failpoints.pause("handoff-owner-recorded");
            passOwnership(id, peer, move.to().node(), move.generation());
            done = true;
            long ms = (System.nanoTime() - handoffStart) / 1_000_000;
            state.phase = "done";
            state.detail = "handed over in " + ms + " ms (last increment " + last.bytes() + " bytes)";
            LOG.atInfo().addKeyValue("dataset", id).addKeyValue("to", peer.host()).addKeyValue("handoff_ms", ms)
                    .addKeyValue("last_increment_bytes", last.bytes()).log("moved");
        } finally {
            hook.handoffEnded(id, move.to().node(), done);
        }
        try {
            driver.pruneSnapshots(id, Set.of(), 3);
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("dataset", id).log("pruning old snapshots failed: " + e.getMessage());
        }
    }

    private TransferResult push(Running state, DatasetId id, Peer peer) {
        var transfer = new Transfer();
        state.transfer = transfer;
        onChange.run();
        if (state.abandon) {
            transfer.cancel();
        }
        return shipper.push(id, peer, transfer);
    }

    /** Records the new owner on its own copy; idempotent. */
    public void completeHandoff(Change.CompleteHandoff change) {
        var peer = peers.apply(change.to());
        passOwnership(change.dataset(), peer, change.to().node(), change.generation());
    }

    private void passOwnership(DatasetId id, Peer peer, NodeId owner, long generation) {
        var name = peer.root() + "/" + id;
        ssh.run(peer, "zfs set " + ZfsVolumeDriver.OWNER + "=" + owner + " " + name + " && zfs set " + ZfsVolumeDriver.GENERATION + "="
                + generation + " " + name);
    }
}
