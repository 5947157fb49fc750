package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.agent.plan.MoveProgress;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState.MoveState;
import dev.flocker.volume.transfer.Transfer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the background changes of moves away from this host (a pre-copy round, a handoff), at most one per dataset, each
 * on its own virtual thread, and keeps what the planner and the reports need to know of them: {@link MoveProgress} per
 * dataset and the {@link MoveState} users see. It decides nothing: the planner chooses every next step from what it
 * observes, this progress among it. When a change ends it signals the loop.
 */
final class MoveRunner {
    private static final Logger LOG = LoggerFactory.getLogger(MoveRunner.class);
    private static final Duration KEEP_FINISHED = Duration.ofSeconds(30);
    private static final Duration KEEP_PASSED = Duration.ofMinutes(1);

    /** The reason a background change's end wakes the loop with. */
    static final String STEP_ENDED = "move-step-ended";

    private final NodeId self;
    private final ChangeExecutor executor;
    private final Wakeup wakeup;
    private final Map<DatasetId, MoveProgress> progress = new ConcurrentHashMap<>();
    private final Map<DatasetId, Active> active = new ConcurrentHashMap<>();
    private final Map<DatasetId, Finished> finished = new ConcurrentHashMap<>();
    /** How many handoffs are between their start and their pass (their outage); guarded by {@link #quietLock}. */
    private int quiet;
    private final Object quietLock = new Object();

    /** A move in flight as users see it; between two pre-copy rounds it stays, with nothing running. */
    private final class Active {
        final DatasetId dataset;
        final NodeId to;
        volatile MovePhase phase;
        volatile String detail = "starting";
        volatile Transfer transfer;
        volatile boolean running;
        volatile boolean abandoned;
        final long started = System.nanoTime();

        Active(DatasetId dataset, NodeId to, MovePhase phase) {
            this.dataset = dataset;
            this.to = to;
            this.phase = phase;
        }

        MoveState state() {
            var t = transfer;
            var p = t == null ? null : t.progress();
            return new MoveState(dataset, self, to, phase, p == null ? 0 : p.bytes(), p == null ? 0 : Math.max(0, p.expectedBytes()),
                    p == null ? 0 : p.bytesPerSecond(), p == null || p.eta() == null ? null : p.eta().toMillis() / 1000.0, detail);
        }
    }

    private record Finished(MoveState state, Instant at) {
    }

    MoveRunner(NodeId self, ChangeExecutor executor, Wakeup wakeup) {
        this(self, executor, wakeup, id -> false);
    }

    /** @param configuredHere whether the control service's configuration puts a dataset on this host now */
    MoveRunner(NodeId self, ChangeExecutor executor, Wakeup wakeup, java.util.function.Predicate<DatasetId> configuredHere) {
        this.self = self;
        this.executor = executor;
        this.wakeup = wakeup;
        this.configuredHere = configuredHere;
    }

    private final java.util.function.Predicate<DatasetId> configuredHere;

    /** What the planner reads: the moves' progress by dataset. */
    Map<DatasetId, MoveProgress> progress() {
        var now = Instant.now();
        progress.entrySet().removeIf(e -> {
            var p = e.getValue();
            return p.running() == null && p.rounds() == 0 && p.failedAt() == null
                    && (p.passedAt() == null || p.passedAt().plus(KEEP_PASSED).isBefore(now));
        });
        return Map.copyOf(progress);
    }

    /** Moves in flight, and those that ended in the last seconds (failed ones with their error). */
    List<MoveState> states() {
        var now = Instant.now();
        finished.values().removeIf(f -> f.at().plus(KEEP_FINISHED).isBefore(now));
        var states = new ArrayList<MoveState>();
        active.values().forEach(a -> states.add(a.state()));
        finished.forEach((id, f) -> {
            if (!active.containsKey(id)) {
                states.add(f.state());
            }
        });
        return states;
    }

    /** Starts (or, for {@link Change.AbandonPreCopy}, stops) one background change of the plan. */
    void run(Change change) {
        switch (change) {
            case Change.AbandonPreCopy c -> abandon(c);
            case Change.PushIncrement c -> start(c.dataset(), c.to().node(), MovePhase.PRE_COPY, a -> preCopy(a, c));
            case Change.Handoff c -> {
                // Counted in before its thread starts: the loop that planned it must not run again (a ZFS listing beside
                // the freeze and the final snapshot) until the pass; the handoff counts itself out there (see handoff).
                quiet(+1);
                if (!start(c.dataset(), c.to().node(), MovePhase.HANDOFF, a -> handoff(a, c))) {
                    quiet(-1);
                }
            }
            case Change.ResumePass c -> start(c.dataset(), c.to().node(), MovePhase.HANDOFF, a -> resumePass(a, c));
            default -> throw new IllegalArgumentException("not a background change: " + change);
        }
    }

    private interface Work {
        void run(Active move);
    }

    /** Starts {@code work} on its own thread; false when a step of this move runs already. */
    private boolean start(DatasetId id, NodeId to, MovePhase phase, Work work) {
        var current = active.get(id);
        if (current != null && current.running) {
            return false; // the planner never plans a second one; a loop racing the end of this one waits for the next
        }
        var move = current != null && current.to.equals(to) ? current : new Active(id, to, phase);
        move.phase = phase;
        move.running = true;
        active.put(id, move);
        io.micrometer.core.instrument.Counter.builder("flocker.move.steps").tag("phase", phase.json())
                .description("Background steps of moves started: pre-copy rounds and handoffs")
                .register(io.micrometer.core.instrument.Metrics.globalRegistry).increment();
        progress.compute(id, (k, p) -> (p == null || !p.to().equals(to) ? MoveProgress.towards(to) : p).running(phase));
        Thread.ofVirtual().name("move-" + id).start(() -> {
            try {
                work.run(move);
            } catch (RuntimeException e) {
                if (move.abandoned) {
                    finish(move, MovePhase.ABANDONED, "the configuration changed: " + move.detail);
                    progress.remove(id);
                } else {
                    LOG.atWarn().setCause(e).addKeyValue("dataset", id).addKeyValue("to", to)
                            .log("move failed; it is retried from the last common snapshot");
                    finish(move, MovePhase.FAILED, ChangeExecutor.rootMessage(e));
                    progress.computeIfPresent(id, (k, p) -> p.failed(Instant.now()));
                }
            } finally {
                move.running = false;
                wakeup.signal(STEP_ENDED);
            }
        });
        wakeup.signal("move-step-started");
        return true;
    }

    private void preCopy(Active move, Change.PushIncrement push) {
        var previous = progress.get(push.dataset());
        move.detail = "round " + push.round() + (previous == null || previous.rounds() == 0 ? "" : ", previous increment "
                + previous.lastBytes() + " bytes");
        // The handoff's drain reads the applications' sockets through their processes: found beside the first send (the
        // drain checks them against their start times, and asks Docker again for one that restarted since).
        if (push.round() == 1) {
            Thread.ofVirtual().name("find-processes-" + push.dataset()).start(() -> executor.findProcessesUsing(push.dataset()));
        }
        var result = push(move, push);
        progress.computeIfPresent(push.dataset(), (k, p) -> p.roundDone(result.bytes(), Instant.now()));
        move.detail = "round " + push.round() + " sent " + result.bytes() + " bytes";
    }

    private void handoff(Active move, Change.Handoff handoff) {
        var id = handoff.dataset();
        long started = System.nanoTime();
        long lastIncrement = 0;
        var targetMount = dev.flocker.volume.transfer.RemoteZfs.PeerMount.NONE;
        long passed = 0;
        var stopped = List.<String>of();
        InFlight.Drained drained = null;
        var took = new StringBuilder(); // each step's milliseconds, for the log: where an outage went
        boolean quieted = true; // counted in by run: the loops here wait until the pass (ConvergenceLoop), at most 1 s
        Recording recording = null; // the owner recorded beside the steps after it
        Map<String, InFlight.Primed> primed = Map.of(); // the drain's first reads, started beside the hold
        try {
            for (var step : handoff.steps()) {
                long stepStarted = System.nanoTime();
                switch (step) {
                    case Change.HoldConnections c -> {
                        move.detail = "holding connections";
                        primed = handoff.steps().stream().filter(Change.DrainConnections.class::isInstance).findFirst()
                                .map(d -> executor.primeDrain((Change.DrainConnections) d)).orElse(Map.of());
                        executor.apply(c);
                    }
                    case Change.DrainConnections c -> {
                        move.detail = "waiting for the requests in flight";
                        drained = executor.drain(c, primed);
                    }
                    case Change.StopUsers c -> {
                        move.detail = "stopping applications";
                        stopped = executor.stopUsers(c);
                    }
                    case Change.Freeze c -> {
                        move.detail = "making the copy read-only";
                        executor.apply(c);
                        Failpoints.pause("handoff-frozen");
                    }
                    case Change.PushIncrement c -> {
                        move.detail = "final increment" + (stopped.isEmpty() ? "" : " (stopped " + String.join(", ", stopped) + ")");
                        var record = recording;
                        var result = push(move, c, !handoff.targetHasCopy(), () -> {
                            if (record != null) {
                                record.start();
                            }
                            Failpoints.pause("handoff-final-increment"); // its snapshot taken, nothing sent, the record beside
                        });
                        lastIncrement = result.bytes();
                        targetMount = result.peerMount();
                    }
                    case Change.RecordOwner c -> {
                        // Beside the steps after it (Change.RecordOwner); the pass waits for it. Before a final increment it
                        // starts once that increment's snapshot is taken and read back: a ZFS write beside either slows both.
                        recording = new Recording(id, () -> {
                            executor.apply(c);
                            Failpoints.pause("handoff-owner-recorded");
                        });
                        if (!handoff.recordsBesideFinalIncrement()) {
                            recording.start();
                        }
                    }
                    case Change.PassOwnership c -> {
                        if (recording != null) {
                            recording.start(); // started by the final increment's snapshot already
                            took.append(" (RecordOwner beside=").append(Agent.result(recording.task, "recording the new owner")).append(')');
                            recording = null;
                        }
                        move.detail = "passing ownership (generation " + c.generation() + ")";
                        executor.passOwnership(c, targetMount);
                        passed = System.nanoTime();
                        // The planner routes the application's clients to the new owner from now on, not only once it reports.
                        progress.put(id, MoveProgress.towards(handoff.to().node()).passed(handoff.generation(), Instant.now())
                                .running(MovePhase.HANDOFF));
                        if (quieted) {
                            quiet(-1);
                            quieted = false;
                        }
                    }
                    case Change.ForwardConnections c -> {
                        move.detail = "ownership passed; sending connections to " + c.host();
                        executor.apply(c);
                    }
                    default -> executor.apply(step);
                }
                took.append(took.isEmpty() ? "" : " ").append(step.getClass().getSimpleName()).append('=')
                        .append((System.nanoTime() - stepStarted) / 1_000_000);
            }
        } finally {
            primed.values().forEach(InFlight.Primed::close);
            if (recording != null && recording.started()) {
                awaitQuietly(recording.task); // a step failed before the pass: the record ends before the move is reported failed
            }
            if (quieted) {
                quiet(-1);
            }
        }
        long ms = ((passed == 0 ? System.nanoTime() : passed) - started) / 1_000_000; // the tail after it is not outage
        progress.put(id, MoveProgress.towards(handoff.to().node()).passed(handoff.generation(), Instant.now()));
        var total = Duration.ofNanos(System.nanoTime() - move.started);
        var registry = io.micrometer.core.instrument.Metrics.globalRegistry;
        io.micrometer.core.instrument.Timer.builder("flocker.move.handoff").description("Handoffs: from holding connections to ownership passed")
                .register(registry).record(Duration.ofMillis(ms));
        io.micrometer.core.instrument.Timer.builder("flocker.move.duration").description("Moves from their first step to ownership passed")
                .register(registry).record(total);
        io.micrometer.core.instrument.Counter.builder("flocker.move.last.increment").baseUnit("bytes")
                .description("Bytes of the handoffs' final increments (sent while the applications were stopped)").register(registry)
                .increment(lastIncrement);
        move.transfer = null; // a finished move shows what it did, not a copy's progress
        finish(move, MovePhase.DONE, String.format(java.util.Locale.ROOT, "moved in %.1f s, handoff %.1f s, %s in the last increment%s",
                total.toMillis() / 1000.0, ms / 1000.0, bytes(lastIncrement), drained == null || drained.awaited() == 0 ? "" : "; " + drained));
        LOG.atInfo().addKeyValue("dataset", id).addKeyValue("to", handoff.to().host()).addKeyValue("handoff_ms", ms)
                .addKeyValue("in_flight", drained == null ? "not waited for" : drained.detail())
                .addKeyValue("last_increment_bytes", lastIncrement).addKeyValue("target_mount", targetMount)
                .addKeyValue("steps_ms", took.toString()).log("moved");
        // The loop that makes this copy a replica and removes the stopped containers runs once the tail is over; old
        // snapshots are pruned then too, not while the target starts the application (zfs destroy is slow in zfs-fuse).
        Thread.ofVirtual().name("tail-" + id).start(() -> {
            Agent.sleep(dev.flocker.agent.plan.Planner.HANDOFF_TAIL.toMillis() + 50);
            if (configuredHere.test(id)) {
                // Moving back here already: its final increment and pass may be on their way now, and a zfs destroy or a
                // loop's listing would only slow them (the pass wakes the loop). Its next move away prunes; interval
                // loops do the rest if the move back does not come.
                LOG.atDebug().addKeyValue("dataset", id).log("handoff tail over; the dataset is configured here again: no prune, no wake");
                return;
            }
            executor.pruneSnapshots(id);
            wakeup.signal("handoff-tail-over");
        });
    }

    private static void awaitQuietly(java.util.concurrent.FutureTask<Long> step) {
        try {
            step.get();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.atWarn().setCause(e.getCause()).log("recording the new owner failed too");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Counts a handoff into ({@code +1}, as it starts) or out of ({@code -1}, at its pass) its outage. */
    private void quiet(int delta) {
        synchronized (quietLock) {
            quiet += delta;
            quietLock.notifyAll();
        }
    }

    /**
     * Waits while a handoff from here runs (from its start to its pass), at most {@code maxMillis}; true if it waited.
     * The loop calls this before it looks: its ZFS listing (tens of ms) would otherwise run beside the final snapshot, the
     * receive and the pass, which are outage, and it has nothing to do for the handoff, which runs on its own.
     */
    boolean awaitQuiet(long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        boolean waited = false;
        synchronized (quietLock) {
            for (long left = maxMillis; quiet > 0 && left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
                waited = true;
                quietLock.wait(left);
            }
        }
        return waited;
    }

    /**
     * Finishes a handoff that stopped after recording the new owner here ({@link Change.ResumePass}); while it runs the
     * planner plans nothing else for the dataset, as during a handoff, and once it passed, it waits for the target's report.
     */
    /**
     * A handoff's record of the new owner, run on a thread of its own once started (at most once); its task gives the
     * milliseconds it took. Never started when the handoff fails before the final increment's snapshot: the copy is then
     * still owned here, frozen, and the next handoff resumes at the final increment.
     */
    private static final class Recording {
        final java.util.concurrent.FutureTask<Long> task;
        private final DatasetId dataset;
        private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();

        Recording(DatasetId dataset, Runnable record) {
            this.dataset = dataset;
            this.task = new java.util.concurrent.FutureTask<>(() -> {
                long t = System.nanoTime();
                record.run();
                return (System.nanoTime() - t) / 1_000_000;
            });
        }

        void start() {
            if (started.compareAndSet(false, true)) {
                Thread.ofVirtual().name("record-owner-" + dataset).start(task);
            }
        }

        boolean started() {
            return started.get();
        }
    }

    private void resumePass(Active move, Change.ResumePass resume) {
        move.detail = "resuming the handoff of generation " + resume.generation();
        executor.apply(resume);
        progress.put(resume.dataset(), MoveProgress.towards(resume.to().node()).passed(resume.generation(), Instant.now()));
        finish(move, MovePhase.DONE, "handed over (a resumed handoff, generation " + resume.generation() + ")");
    }

    private dev.flocker.volume.transfer.TransferResult push(Active move, Change.PushIncrement push) {
        return push(move, push, false, null);
    }

    /**
     * Pushes; {@code snapshotTaken}, when given, runs once the push's snapshot is taken and read back (not when it is not);
     * {@code targetHasNoCopy}: the planner found none there ({@link Transfer#peerHasNoCopy}).
     */
    private dev.flocker.volume.transfer.TransferResult push(Active move, Change.PushIncrement push, boolean targetHasNoCopy, Runnable snapshotTaken) {
        var transfer = new Transfer();
        if (targetHasNoCopy) {
            transfer.peerHasNoCopy();
        }
        if (snapshotTaken != null) {
            transfer.onSnapshotTaken(snapshotTaken);
        }
        move.transfer = transfer;
        if (push.phase() != MovePhase.HANDOFF) {
            // Report that a copy started; not a handoff's final increment, whose loop (a zfs listing) would only compete
            // with its snapshot and send in ZFS: its progress is reported by the loops that run anyway.
            wakeup.signal("copy-started");
        }
        if (move.abandoned) {
            transfer.cancel();
        }
        return executor.push(push, transfer);
    }

    private void abandon(Change.AbandonPreCopy change) {
        var move = active.get(change.dataset());
        var p = progress.get(change.dataset());
        if (p != null && p.running() == MovePhase.HANDOFF) {
            return; // a handoff once begun finishes
        }
        LOG.atInfo().addKeyValue("dataset", change.dataset()).addKeyValue("reason", change.reason()).log("abandoning the pre-copy");
        if (move != null && move.running) {
            move.abandoned = true;
            move.detail = change.reason();
            var t = move.transfer;
            if (t != null) {
                t.cancel();
            }
        } else {
            progress.remove(change.dataset());
            if (move != null) {
                finish(move, MovePhase.ABANDONED, change.reason());
            }
        }
    }

    private void finish(Active move, MovePhase phase, String detail) {
        io.micrometer.core.instrument.Counter.builder("flocker.moves").tag("outcome", phase.json())
                .description("Moves away from this host that ended, by outcome: done, failed, abandoned")
                .register(io.micrometer.core.instrument.Metrics.globalRegistry).increment();
        move.phase = phase;
        move.detail = detail;
        finished.put(move.dataset, new Finished(move.state(), Instant.now()));
        active.remove(move.dataset, move);
    }

    private static String bytes(long bytes) {
        return bytes < 1024 * 1024 ? String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
