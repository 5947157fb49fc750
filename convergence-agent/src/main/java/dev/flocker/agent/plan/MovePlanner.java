package dev.flocker.agent.plan;

import dev.flocker.agent.plan.Change.AbandonPreCopy;
import dev.flocker.agent.plan.Change.Freeze;
import dev.flocker.agent.plan.Change.Handoff;
import dev.flocker.agent.plan.Change.HoldConnections;
import dev.flocker.agent.plan.Change.PassOwnership;
import dev.flocker.agent.plan.Change.PushIncrement;
import dev.flocker.agent.plan.Change.RecordOwner;
import dev.flocker.agent.plan.Change.StopUsers;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.MovePhase;
import dev.flocker.agent.plan.LocalState.LocalDataset;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The move protocol, as the source host's decisions: from what it observes each loop (its copy's owner, generation and
 * mount in ZFS, the target's report, the containers using the dataset, and the background work's {@link MoveProgress}),
 * the next thing to do. A move is:
 * <ol>
 * <li>pre-copy: {@link PushIncrement} rounds while the applications keep running, as long as increments are large and
 *     shrinking (a budget of rounds, not a fixed count); skipped when nothing writes the copy (no application is
 *     configured with it or runs with it here: an idle dataset, e.g. one a Docker Mount waits for elsewhere);</li>
 * <li>the {@link Handoff}: hold connections, stop the users, freeze the copy (read-only where it is mounted), push the final increment, record the new
 *     owner with the next generation here (beside the final increment when the target holds a copy), then on the
 *     target's copy, which alone may then be made writable (the same remote command does that when the target prepared
 *     its mountpoint); last, this copy becomes a read-only replica and the stopped containers are removed, after the
 *     outage.</li>
 * </ol>
 * Every step between the stop and the target's start is outage, so the handoff has as few ZFS calls and round trips
 * as keep it safe. A handoff interrupted anywhere (kill -9) is planned again from what ZFS shows: a frozen (or unmounted)
 * copy still owned here resumes at the final increment; a copy that records the new owner needs the target told, after
 * the final increment if that did not land ({@link Change.ResumePass}, planned in {@link Planner}). There are never two
 * writable copies: the pass follows the record, and a target writes only once it is passed.
 */
final class MovePlanner {
    /** After a failure, the next attempt waits this long (a target that refuses at once is not hammered). */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(2);
    /** The target usually reports the generation it was given within a loop; only after this is it told again. */
    static final Duration REPORT_GRACE = Duration.ofSeconds(10);
    /**
     * The longest a pre-copied move waits for the target to report its applications' containers made
     * ({@link #containersUnmade}); then it hands off all the same, and the target makes them after the pass, as it can.
     */
    static final Duration TARGET_PATIENCE = Duration.ofSeconds(5);

    private MovePlanner() {
    }

    /** This host owns the writable copy (no newer generation elsewhere) and the configuration wants it on another. */
    static void planMoveAway(Planner.Input in, Dataset dataset, LocalDataset local, Planner.Moves moves, List<Wait> waits) {
        var id = dataset.datasetId();
        var target = dataset.primary();
        var progress = in.progress(id);
        var running = progress == null ? null : progress.running();
        if (running == MovePhase.HANDOFF) {
            // A handoff once begun finishes: its copy is read-only, and stopping half-way would only lengthen the outage.
            moves.leaving.add(id);
            moves.holding.add(id);
            return;
        }
        if (ReplicaPlanner.fenced(in, dataset)) {
            stopPreCopy(in, id, ReplicaPlanner.FENCED, moves);
            waits.add(new Wait(id, in.self(), target, ReplicaPlanner.FENCED));
            return;
        }
        var replication = in.replication().get(id);
        if (replication != null && replication.running()) {
            return; // moves once the increment to its standbys is shipped (the target may be one of them)
        }
        var blocker = Planner.blocker(in, id);
        if (blocker.isPresent()) {
            stopPreCopy(in, id, blocker.get(), moves);
            waits.add(new Wait(id, in.self(), target, blocker.get()));
            return;
        }
        var peer = Planner.peer(in, target);
        if (peer.isEmpty()) {
            var reason = "the target node " + target + " is not reporting" + (in.cluster().node(target).isPresent() ? " where it keeps datasets" : "")
                    + "; the dataset stays here until it is";
            stopPreCopy(in, id, reason, moves);
            waits.add(new Wait(id, in.self(), target, reason));
            return;
        }
        moves.leaving.add(id);
        if (running == MovePhase.PRE_COPY && !progress.to().equals(target)) {
            moves.background.add(new AbandonPreCopy(id, "the configuration now wants it on " + target));
            return; // the next loop starts towards the new target
        }
        if (running == MovePhase.PRE_COPY) {
            return; // a round runs; when it ends the loop plans again
        }
        var towards = progress != null && progress.to().equals(target) ? progress : MoveProgress.towards(target);
        if (towards.failedAt() != null && towards.failedAt().plus(RETRY_AFTER_FAILURE).isAfter(in.now())) {
            return; // reported as failed meanwhile; tried again from the last common snapshot
        }
        // An idle dataset (no application configured with it, none running with it here, no lease here) hands off at
        // once: nothing writes it, so a pre-copy round would only add a round trip before the same final increment.
        boolean writable = local.mounted() && !local.readOnly();
        boolean idle = !usedHere(in, id) && in.configuration().applications().values().stream().noneMatch(app -> app.usesDataset(id));
        boolean written = writable && !idle;
        if (written && !towards.preCopyDone(in.settings().smallEnoughBytes(), in.settings().maxRounds())) {
            moves.background.add(new PushIncrement(id, peer.get(), MovePhase.PRE_COPY, towards.rounds() + 1));
            return;
        }
        var group = group(in, id);
        if (!groupPreCopied(in, group, id, target)) {
            return; // pre-copied: hands off with the rest of its group, once they are pre-copied too
        }
        // The target makes the applications' containers while the data arrives: a handoff waits for them while the
        // applications still run here (no outage yet), for a few seconds at most.
        var precopied = lastRoundEnded(in, group, target);
        var unmade = precopied != null && precopied.plus(TARGET_PATIENCE).isAfter(in.now()) && groupServing(in, group)
                ? containersUnmade(in, group, target) : List.<String>of();
        if (!unmade.isEmpty()) {
            waits.add(new Wait(id, in.self(), target, "pre-copied; the target makes the container of " + String.join(", ", unmade)
                    + " before the handoff, which then only starts it"));
            return;
        }
        var generation = local.generation() + 1;
        var steps = new ArrayList<Change>();
        var ports = portsUsing(in, id);
        steps.add(new HoldConnections(id, target, ports));
        drain(in, id).ifPresent(steps::add);
        if (writable) {
            steps.add(new StopUsers(id));
            steps.add(new Freeze(id));
        } else if (usedHere(in, id)) {
            steps.add(new StopUsers(id)); // never expected: nothing runs on a frozen or unmounted copy; stopped all the same
        }
        // The owner is recorded beside the final increment (RecordOwner runs beside the steps after it) when the target
        // holds a copy already: a handoff stopped after the record and before the pass then resumes with the target still
        // reporting its older copy (Change.ResumePass sends the increment again if it did not land). A target with no copy
        // yet gets it whole here first, as before: a record ahead of it would leave no copy there to resume towards.
        boolean targetHasCopy = in.cluster().node(target).flatMap(n -> n.dataset(id)).isPresent();
        if (targetHasCopy) {
            steps.add(new RecordOwner(id, target, generation));
        }
        steps.add(new PushIncrement(id, peer.get(), MovePhase.HANDOFF, 0));
        if (!targetHasCopy) {
            steps.add(new RecordOwner(id, target, generation));
        }
        steps.add(new PassOwnership(id, peer.get(), generation));
        steps.add(new Change.ForwardConnections(id, target, peer.get().host(), ports));
        // Making this copy a replica (read-only, no mountpoint) and removing the stopped containers is planned by a later
        // loop, from what it finds then (Planner.planElsewhere), after the tail (Planner.HANDOFF_TAIL): never a blind last step, which
        // would undo the dataset coming back here meanwhile (a move back, a second after).
        moves.background.add(new Handoff(id, peer.get(), generation, targetHasCopy, steps));
        moves.holding.add(id);
    }

    /**
     * The applications of a consistency group ({@link #group}) configured on {@code target} that it does not report
     * ready to start yet (a container made and never started, or one it failed to make): it makes them while the data arrives (Planner.planApplication), and a handoff begun before that waits for
     * them inside the outage (a network sandbox and a container: 0.2-2 s here, while the pre-copy of a small dataset can
     * end sooner). A container that ran there before (a move back) does not count: it is removed and made again. The
     * same for every dataset of the group, whose handoffs begin in one loop.
     */
    static List<String> containersUnmade(Planner.Input in, java.util.Set<DatasetId> group, dev.flocker.api.model.NodeId target) {
        var reported = in.cluster().node(target).map(n -> n.applications().stream()
                .filter(app -> Boolean.TRUE.equals(app.made()) || app.running() || app.error() != null)
                .map(dev.flocker.api.model.NodeState.ApplicationState::name).collect(java.util.stream.Collectors.toSet())).orElse(java.util.Set.of());
        return in.configuration().applications().values().stream()
                .filter(app -> target.equals(app.node()) && app.datasets().stream().anyMatch(group::contains) && !reported.contains(app.name()))
                .map(dev.flocker.api.model.Application::name).sorted().toList();
    }

    /** When the last pre-copy round towards {@code target} of a dataset of the consistency group ended; null for none. */
    static java.time.Instant lastRoundEnded(Planner.Input in, java.util.Set<DatasetId> group, dev.flocker.api.model.NodeId target) {
        return group.stream().map(in::progress).filter(p -> p != null && target.equals(p.to()) && p.roundEndedAt() != null)
                .map(MoveProgress::roundEndedAt).max(java.util.Comparator.naturalOrder()).orElse(null);
    }

    /** Every dataset of the consistency group is writable here and none of their handoffs has begun. */
    private static boolean groupServing(Planner.Input in, java.util.Set<DatasetId> group) {
        return group.stream().allMatch(other -> {
            var local = in.local().datasets().get(other);
            var progress = in.progress(other);
            return local != null && local.mounted() && !local.readOnly() && (progress == null || progress.running() != MovePhase.HANDOFF);
        });
    }

    /** {@code id} and the other datasets of the applications that use it: its consistency group. */
    private static java.util.Set<DatasetId> group(Planner.Input in, DatasetId id) {
        var group = new java.util.TreeSet<DatasetId>();
        group.add(id);
        in.configuration().applications().values().stream().filter(app -> app.usesDataset(id)).forEach(app -> group.addAll(app.datasets()));
        return group;
    }

    /**
     * Whether every other dataset of {@code id}'s consistency {@code group} (every dataset of the applications that use it) is
     * ready to hand off to {@code target}: pre-copied, or not writable here any more. The group's handoffs begin in
     * one loop, so their applications stop once, and every final snapshot is taken after they stopped: the copies on
     * the target are consistent with each other, as one snapshot of all of them would be.
     */
    static boolean groupPreCopied(Planner.Input in, java.util.Set<DatasetId> group, DatasetId id, dev.flocker.api.model.NodeId target) {
        for (var other : group) {
            if (other.equals(id)) {
                continue;
            }
            var local = in.local().datasets().get(other);
            var wanted = in.configuration().dataset(other).map(Dataset::primary).orElse(null);
            if (local == null || !in.self().equals(local.owner()) || !target.equals(wanted) || !local.mounted() || local.readOnly()) {
                continue; // not here, already handed off, wanted elsewhere (nothing to wait for), or its handoff has begun
            }
            var progress = in.progress(other);
            boolean ready = progress != null && target.equals(progress.to()) && (progress.running() == MovePhase.HANDOFF
                    || (progress.running() == null && progress.preCopyDone(in.settings().smallEnoughBytes(), in.settings().maxRounds())));
            if (!ready) {
                return false;
            }
        }
        return true;
    }

    /** Plans the end of a pre-copy of {@code id} that runs in the background or waits for its next round. */
    static void stopPreCopy(Planner.Input in, DatasetId id, String reason, Planner.Moves moves) {
        var progress = in.progress(id);
        if (progress != null && (progress.running() == MovePhase.PRE_COPY || (progress.running() == null && progress.rounds() > 0))) {
            moves.background.add(new AbandonPreCopy(id, reason));
        } else if (progress != null && progress.running() == MovePhase.HANDOFF) {
            moves.holding.add(id); // it finishes; the configuration's new wish is planned afterwards
        }
    }

    /**
     * The target is being told by the handoff running now (its step that passes ownership), or was told of this
     * generation moments ago and is about to report it: telling it again would only repeat an SSH write.
     */
    /** A handoff from this host passed the ownership of {@code id} less than {@link Planner#HANDOFF_TAIL} ago. */
    static boolean inTail(Planner.Input in, DatasetId id) {
        var progress = in.progress(id);
        return progress != null && progress.running() == null && progress.passedWithin(Planner.HANDOFF_TAIL, in.now());
    }

    /**
     * This host passed ownership of this generation to the owner its copy records, by a handoff still finishing or ended
     * moments ago ({@link #REPORT_GRACE}).
     */
    static boolean justPassed(Planner.Input in, DatasetId id, LocalDataset local) {
        var progress = in.progress(id);
        return progress != null && local.owner() != null && local.owner().equals(progress.to()) && progress.passedGeneration() == local.generation()
                && progress.passedWithin(REPORT_GRACE, in.now());
    }

    static boolean beingOrJustPassed(Planner.Input in, DatasetId id, LocalDataset local) {
        var progress = in.progress(id);
        return (progress != null && local.owner().equals(progress.to()) && progress.running() == MovePhase.HANDOFF) || justPassed(in, id, local);
    }

    private static boolean usedHere(Planner.Input in, DatasetId id) {
        return runningHere(in, id).findAny().isPresent();
    }

    /** The containers running here with {@code id}. */
    private static java.util.stream.Stream<LocalState.LocalContainer> runningHere(Planner.Input in, DatasetId id) {
        return in.local().containers().values().stream().filter(c -> c.running() && c.uses(id));
    }

    /**
     * The wait for the requests in flight to the applications running here with {@code id}, by their internal ports,
     * before they stop; none when none of them has a port or the settings say not to wait.
     */
    static java.util.Optional<Change.DrainConnections> drain(Planner.Input in, DatasetId id) {
        var ports = new java.util.TreeMap<String, List<Integer>>();
        runningHere(in, id).forEach(c -> java.util.Optional.ofNullable(in.configuration().applications().get(c.name())).filter(app -> !app.ports().isEmpty())
                        .ifPresent(app -> ports.put(app.name(), app.ports().stream().map(p -> p.internal()).sorted().toList())));
        if (ports.isEmpty() || in.settings().drain().isZero()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Change.DrainConnections(id, ports, in.settings().drain()));
    }

    /** External ports of the applications configured with {@code id} as their volume. */
    static List<Integer> portsUsing(Planner.Input in, DatasetId id) {
        return in.configuration().applications().values().stream().filter(app -> app.usesDataset(id))
                .flatMap(app -> app.ports().stream().map(p -> p.external())).sorted().toList();
    }
}
