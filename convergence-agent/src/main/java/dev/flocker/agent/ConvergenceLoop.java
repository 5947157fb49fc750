package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.agent.plan.Planner;
import dev.flocker.agent.plan.PortRoute;
import dev.flocker.agent.plan.Routes;
import dev.flocker.agent.plan.Wait;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.proxy.Route;
import dev.flocker.proxy.RoutingProxy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's loop: discover (ZFS, Docker) -> plan (pure, {@link Planner}) -> execute (steps here, moves' background
 * changes in the {@link MoveRunner}) -> route -> report. It runs when signalled (a push, a background change that
 * ended) and otherwise every {@code interval}; it remembers nothing between loops that the planner reads, but the
 * background work's progress and, for a loop that reads only some datasets from ZFS, the last loop's state of the
 * others ({@link #scope}).
 */
final class ConvergenceLoop {
    private static final Logger LOG = LoggerFactory.getLogger(ConvergenceLoop.class);
    private static final int MAX_EAGER_LOOPS = 5;
    private static final long HANDOFF_POLL_MILLIS = 50;
    /**
     * The same look when the old owner's touch of the wake file starts a loop at once ({@link HandoffWake}): only a
     * fallback then. Looking every 50 ms kept a loop's zfs listing running most of the handoff, in the one zfs-fuse
     * daemon that also takes the final increment and the pass's mount and ownership.
     */
    static final long HANDOFF_POLL_WATCHED_MILLIS = 500;

    /** The other hosts of the cluster, by address: the proxy forwards only their connections onward. */
    static final class PeerHosts {
        private volatile Set<InetAddress> addresses = Set.of();

        boolean contains(InetAddress address) {
            return addresses.contains(address);
        }
    }

    /** What the loop drives. */
    record Parts(Discovery discovery, ControlLink link, ChangeExecutor executor, MoveRunner runner, Replicator replicator, Images images,
                 RoutingProxy proxy, StateReport report, PeerHosts peers, Wakeup wakeup, AgentMetrics metrics) {
    }

    private final NodeId self;
    private final long intervalMillis;
    private final Planner.MoveSettings settings;
    private final java.time.Duration replicateEvery;
    private final Parts parts;
    /** SSH sessions to peers are opened ahead of use ({@link ChangeExecutor#warmPeers}) at most this often. */
    private static final long WARM_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    private long lastWarm = System.nanoTime() - WARM_EVERY_NANOS;
    private java.util.Set<NodeId> warmed = java.util.Set.of();
    private volatile boolean handoffComing;
    /** What the last loop planned from, and when this whole host was last looked at ({@link #scope}); loop thread only. */
    private dev.flocker.agent.plan.LocalState lastLocal;
    private dev.flocker.api.client.AgentChannel.View plannedView;
    /** The datasets the last loop read, when it did not look at the whole host. */
    private Set<dev.flocker.api.model.DatasetId> lastScope;
    private boolean lastWithImages;
    private long lastFullLook;
    private volatile long handoffPollMillis = HANDOFF_POLL_MILLIS;
    private volatile boolean stopping;
    private Thread thread;

    ConvergenceLoop(NodeId self, AgentConfig config, Parts parts) {
        this.self = self;
        this.intervalMillis = config.interval().toMillis();
        this.settings = new Planner.MoveSettings(config.precopyBytes(), config.precopyRounds(), config.drain());
        this.replicateEvery = config.replication().interval();
        this.parts = parts;
    }

    void start() {
        thread = Thread.ofPlatform().name("agent-loop").start(this::run);
    }

    /** The wake file is watched: while a handoff comes, the loop looks at ZFS itself only every {@link #HANDOFF_POLL_WATCHED_MILLIS}. */
    void wakeWatched() {
        handoffPollMillis = HANDOFF_POLL_WATCHED_MILLIS;
    }

    private void run() {
        int streak = 0;
        while (!stopping) {
            try {
                java.util.Set<String> woken;
                if (streak == 0) {
                    // While a move to this host is handing over, look at ZFS often: ownership lands in this host's copy
                    // (over SSH from the old owner) before the control service can say so, and the wait is outage.
                    woken = parts.wakeup().await(handoffComing ? Math.min(handoffPollMillis, intervalMillis) : intervalMillis);
                } else {
                    woken = parts.wakeup().drain();
                    woken.add(CHANGES_APPLIED);
                }
                woken = quietDuringHandoffs(woken);
                if (woken.contains(ChangeExecutor.LINGERING_ENDED)) {
                    // Rare (a ZFS or SSH call that outlasted the patience) and worth seeing: its dataset's changes waited for it.
                    LOG.atInfo().log("a change that outlasted the loop's patience has ended: looping now for its dataset's waiting changes");
                }
                if (!stopping) {
                    // Changes that worked often enable the next ones (a copy made writable lets its application start,
                    // which is the outage of a move): plan again at once rather than wait, a few loops in a row at most.
                    // The pass's wake looks at the arrival first, whatever else woke the loop with it (the changes the loop
                    // before applied, most often): the rest gets a full look right after (scopedPlan). A loop after one
                    // that read only some datasets and changed only them reads those again (scope).
                    boolean followUp = woken.contains(CHANGES_APPLIED) && lastScope != null;
                    var own = new java.util.HashSet<>(woken);
                    if (followUp) {
                        own.remove(CHANGES_APPLIED);
                    }
                    boolean arrival = woken.isEmpty() ? handoffComing : own.contains(HandoffWake.REASON);
                    boolean more = !ARRIVAL_REASONS.containsAll(own);
                    boolean pushed = !arrival && !more && (own.contains(ControlLink.PUSHED) || followUp);
                    streak = converge(woken.isEmpty() ? (handoffComing ? "handoff-poll" : "interval") : String.join(",", woken),
                            new Wake(arrival, pushed, followUp, more))
                            && streak < MAX_EAGER_LOOPS ? streak + 1 : 0;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                streak = 0;
                LOG.atWarn().setCause(e).log("convergence loop failed; trying again");
                Agent.sleep(500);
            }
        }
    }

    /**
     * Keeps this host's loops out of the ZFS part of a move's outage, where their listings (15-55 ms each in the lab,
     * several per handoff, most started by the control service's pushes of the move's progress) would slow the final
     * snapshot, the receive, the mount and the pass; level-triggered, a loop a moment later misses nothing:
     * <ul>
     * <li>while a handoff from here runs, from its start (the loop that planned it would otherwise run again at once,
     *     reporting it, beside its freeze and final snapshot) to its pass, every loop waits for the pass, at most
     *     {@link #HANDOFF_QUIET_MAX_MILLIS};</li>
     * <li>after that pass, until the target reports it (its applications started), at most {@link #QUIET_MAX_MILLIS}
     *     after the pass ({@link #quietUntilTargetsStart});</li>
     * <li>while one to here is reported, a loop started by pushes alone waits for another reason to run (the old owner's
     *     wake at the pass, most often), at most {@link #QUIET_MAX_MILLIS}; and so does one started by the push that asks
     *     for a move to here, until the old owner reports what it began ({@link #justRequestedHere}).</li>
     * </ul>
     * All bounded, so a handoff stuck in a step (or paused by a test) slows loops, never stops them.
     */
    private java.util.Set<String> quietDuringHandoffs(java.util.Set<String> woken) throws InterruptedException {
        if (parts.runner().awaitQuiet(HANDOFF_QUIET_MAX_MILLIS)) {
            var all = parts.wakeup().drain();
            all.addAll(woken);
            all.add("after-handoff-zfs");
            quietUntilTargetsStart(all);
            return all;
        }
        var all = new java.util.TreeSet<>(woken);
        if (quietUntilTargetsStart(all)) {
            return all;
        }
        if (woken.isEmpty() || !woken.stream().allMatch(ControlLink.PUSHED::equals)) {
            return woken;
        }
        var view = parts.link().view(); // the view now, not the last loop's: the push that brings the handoff's news waits already
        boolean coming = handoffComing(view);
        if (!coming && !justRequestedHere(view)) {
            return woken;
        }
        var deadline = Instant.now().plusMillis(QUIET_MAX_MILLIS);
        var handing = new boolean[] {coming};
        awaitOnly(Set.of(ControlLink.PUSHED), () -> {
            var now = parts.link().view();
            handing[0] |= handoffComing(now);
            return handing[0] || justRequestedHere(now) ? deadline : null;
        }, all);
        all.add(DEFERRED_FOR_HANDOFF);
        return all;
    }

    /**
     * A push just asked for a dataset here that its writable copy's host, another node, has not reported moving yet
     * ({@link dev.flocker.agent.plan.ViewChanges#movesAskedHere}): that node is looking at it and planning the move now,
     * and an idle dataset's handoff begins at once, its freeze and final snapshot in the same zfs-fuse a listing here
     * would go through (both hosts' listings side by side took 22-30 ms instead of 12-16). Until its report says what it
     * began (a pre-copy: this host's loop runs; a handoff: it waits for the pass's wake as above), at most
     * {@link #QUIET_MAX_MILLIS}, pushes alone do not start a loop here. Nothing here acts on such a dataset before its
     * old owner does: the old owner sends it and passes it here.
     */
    private boolean justRequestedHere(dev.flocker.api.client.AgentChannel.View view) {
        return view != null && plannedView != null
                && !dev.flocker.agent.plan.ViewChanges.movesAskedHere(self, plannedView.configuration(), view.configuration(), view.clusterState()).isEmpty();
    }

    /**
     * Waits for more signals, adding their reasons to {@code all}, while each one's reasons are all of {@code keep} and
     * {@code until} (read again after each) is still ahead; null from it ends the wait.
     */
    private void awaitOnly(Set<String> keep, java.util.function.Supplier<Instant> until, java.util.Set<String> all) throws InterruptedException {
        for (var end = until.get(); end != null && !stopping; end = until.get()) {
            long left = java.time.Duration.between(Instant.now(), end).toMillis();
            if (left <= 0) {
                return;
            }
            var more = parts.wakeup().await(left);
            all.addAll(more);
            if (!keep.containsAll(more)) {
                return;
            }
        }
    }

    /**
     * After a pass from here, the loop waits until the target reports the generation passed, at most
     * {@link #QUIET_MAX_MILLIS} after the pass: the target's loop that starts the applications reports after their start,
     * and that start is outage. A loop here then (a full look: its zfs listing, 50-180 ms on a busy lab host, went
     * through the one zfs-fuse daemon the starting container's volume goes through, and its report through the control
     * service) ran beside every application start of a quiet {@code bench-move} run, one or two of them. Only the
     * control service's pushes and the handoff's own end keep it waiting; any other reason (the old owner's wake of a
     * move to here, above all) ends the wait. True when it waited.
     */
    private boolean quietUntilTargetsStart(java.util.Set<String> all) throws InterruptedException {
        if (targetsStarting(parts.link().view()) == null) {
            return false;
        }
        awaitOnly(QUIET_AFTER_PASS, () -> targetsStarting(parts.link().view()), all);
        all.add(AFTER_PASS);
        return true;
    }

    /**
     * Until when a pass from here waits for its target's report of the generation passed (the latest of them), or null
     * when none does: passed less than {@link #QUIET_MAX_MILLIS} ago, and the view does not show the target's copy at
     * that generation yet.
     */
    private java.time.Instant targetsStarting(dev.flocker.api.client.AgentChannel.View view) {
        var now = java.time.Instant.now();
        var bound = java.time.Duration.ofMillis(QUIET_MAX_MILLIS);
        java.time.Instant until = null;
        for (var entry : parts.runner().progress().entrySet()) {
            var passed = entry.getValue();
            if (!passed.passedWithin(bound, now) || reports(view, passed.to(), entry.getKey(), passed.passedGeneration())) {
                continue;
            }
            var end = passed.passedAt().plus(bound);
            until = until == null || end.isAfter(until) ? end : until;
        }
        return until;
    }

    /** The view shows {@code node}'s copy of the dataset at {@code generation} or later. */
    private static boolean reports(dev.flocker.api.client.AgentChannel.View view, NodeId node, dev.flocker.api.model.DatasetId dataset,
                                   long generation) {
        return view != null && view.clusterState().node(node).flatMap(n -> n.dataset(dataset)).filter(d -> d.generation() >= generation).isPresent();
    }

    /** The reason a loop held back after a pass from here ({@link #quietUntilTargetsStart}) runs with. */
    private static final String AFTER_PASS = "after-pass";
    /** What does not end that wait: the control service's pushes, and the end of the handoff's steps after its pass. */
    private static final Set<String> QUIET_AFTER_PASS = Set.of(ControlLink.PUSHED, MoveRunner.STEP_ENDED);

    /** The cluster reports a move to this host handing over. */
    private boolean handoffComing(dev.flocker.api.client.AgentChannel.View view) {
        return view != null && movesHere(view, MovePhase.HANDOFF).findAny().isPresent();
    }

    /** The datasets the cluster reports moving to this host in this phase. */
    private java.util.stream.Stream<dev.flocker.api.model.DatasetId> movesHere(dev.flocker.api.client.AgentChannel.View view, MovePhase phase) {
        return view.clusterState().moves().stream().filter(m -> self.equals(m.to()) && m.phase() == phase)
                .map(NodeState.MoveState::datasetId);
    }

    /**
     * The datasets an arrival look reads: those whose moves to this host the view, or the one the loop before planned
     * from, reports copying or handing over, and those the view reports handed over here (a finished move is reported
     * for 30 s). The wake is the old owner's own word, and the control service's news of the handoff, or of its end,
     * comes before or after it: a loop busy when the wake came (making the copy's container ready, say) plans next from a
     * view where the move is already done, and the loop before may have planned from one where it had not started. The
     * copying ones only while they leave the look at most {@link #SCOPE_MAX} datasets (many copies coming here at once).
     */
    private Set<dev.flocker.api.model.DatasetId> arrivals(dev.flocker.api.client.AgentChannel.View view) {
        var handing = new java.util.HashSet<dev.flocker.api.model.DatasetId>();
        var copying = new java.util.HashSet<dev.flocker.api.model.DatasetId>();
        for (var seen : java.util.Arrays.asList(view, plannedView)) {
            if (seen != null) {
                movesHere(seen, MovePhase.HANDOFF).forEach(handing::add);
                movesHere(seen, MovePhase.PRE_COPY).forEach(copying::add);
            }
        }
        movesHere(view, MovePhase.DONE).forEach(handing::add);
        if (handing.size() + copying.size() <= SCOPE_MAX) {
            handing.addAll(copying);
        }
        return handing;
    }

    /** The longest a loop waits for a handoff's ZFS steps ({@link #quietDuringHandoffs}). */
    static final long QUIET_MAX_MILLIS = 400;
    /**
     * The longest a loop waits for a handoff from here to pass: handoffs took 400-650 ms on a quiet lab host and up to
     * 1 s under load, and a loop let go at 400 ms listed ZFS beside the final increment.
     */
    static final long HANDOFF_QUIET_MAX_MILLIS = 1000;
    /** The reason {@link #quietDuringHandoffs} adds to the pushes it held back. */
    private static final String DEFERRED_FOR_HANDOFF = "deferred-for-handoff";

    /**
     * What a loop that looks only at a handoff's arrival here answers in full: the old owner's wake, with the pushes it
     * waited with. Any other reason beside the wake (the changes the loop before applied, a replication round's end) gets
     * a full look right after it ({@link #scopedPlan}).
     */
    private static final Set<String> ARRIVAL_REASONS = Set.of(HandoffWake.REASON, DEFERRED_FOR_HANDOFF, ControlLink.PUSHED);

    /** The reason a loop right after one that applied changes runs with. */
    private static final String CHANGES_APPLIED = "changes-applied";

    /**
     * What started a loop, for {@link #scope}.
     *
     * @param arrival  a handoff's arrival here, or the look for it
     * @param pushed   the control service's pushes alone (or nothing but a follow-up)
     * @param followUp the loop before read only some datasets and applied changes to them: this one reads them again
     * @param more     something besides these: a full look follows a scoped one ({@link #scopedPlan})
     */
    private record Wake(boolean arrival, boolean pushed, boolean followUp, boolean more) {
    }

    /** The most datasets a push-woken loop reads one by one ({@link #scope}); more changed at once, and it lists them all. */
    static final int SCOPE_MAX = 8;

    /** The kinds of look ({@link #scope}), each with its loops' timer: the {@code look} tag is its name in lower case. */
    private enum Kind {
        ALL, ARRIVAL, CHANGED;

        final String tag = name().toLowerCase(java.util.Locale.ROOT);
        final io.micrometer.core.instrument.Timer loops = loopTimer(tag);
    }

    /**
     * What a loop reads from ZFS: every dataset of the host, or only some ({@link #scope}).
     *
     * @param why for a full look, why it was not a scoped one (its debug line)
     */
    private record Look(Kind kind, Set<dev.flocker.api.model.DatasetId> datasets, String why) {
        static Look all(String why) {
            return new Look(Kind.ALL, null, why);
        }

        static Look of(Kind kind, Set<dev.flocker.api.model.DatasetId> datasets) {
            return new Look(kind, Set.copyOf(datasets), null);
        }

        boolean all() {
            return datasets == null;
        }

        @Override
        public String toString() {
            return all() ? "all(" + why + ")" : kind.tag + datasets;
        }
    }

    /**
     * What this loop reads from ZFS. A full look lists every dataset of the host (~0.9 ms each in zfs-fuse: a second at
     * 1,000). Two kinds of loop read less, taking the other datasets from the loop before and changing nothing but what
     * they read ({@link #scopedPlan}):
     * <ul>
     * <li>{@code arrival}: one that looks for a handoff's arrival here (the old owner's wake, or the look every
     *     {@link #HANDOFF_POLL_MILLIS} while one is coming) reads the datasets handing over to here: the new owner's look
     *     stands between its copy's ownership and its application's start, the outage;</li>
     * <li>{@code changed}: one woken by the control service's pushes alone reads the datasets whose configuration or
     *     cluster state the pushes changed ({@link dev.flocker.agent.plan.ViewChanges}), at most {@link #SCOPE_MAX}: on
     *     the old owner, the look between a move's request and its handoff's start.</li>
     * </ul>
     * The loop right after one of these that applied changes reads their datasets again with its own (a copy prepared
     * for a handoff to here: a full listing beside the old owner's final increment otherwise). A full look instead when
     * the host was last looked at whole more than an interval and a quiet wait ago (for a loop not looking for an
     * arrival: half an interval), or that look lacks the images this loop needs, or a push changed what belongs to no
     * dataset.
     */
    private Look scope(Wake wake, dev.flocker.api.client.AgentChannel.View view, boolean withImages) {
        if (!wake.arrival() && !wake.pushed()) {
            return Look.all("other-reason");
        }
        if (view == null || lastLocal == null) {
            return Look.all("no-last-loop");
        }
        if (withImages && !lastWithImages) {
            return Look.all("images");
        }
        if (System.nanoTime() - lastFullLook > (intervalMillis + QUIET_MAX_MILLIS) * 1_000_000) {
            return Look.all("bound");
        }
        var again = wake.followUp() ? lastScope : Set.<dev.flocker.api.model.DatasetId>of();
        if (!wake.arrival() && System.nanoTime() - lastFullLook > intervalMillis / 2 * 1_000_000) {
            // Pushes come often during moves, and scoped looks in a row would leave the next arrival look past its bound:
            // a loop off the outage's path looks at the whole host once half an interval has passed.
            return Look.all("half-bound");
        }
        if (wake.arrival()) {
            var arriving = arrivals(view);
            if (arriving.isEmpty()) {
                return Look.all("no-move-here-in-view");
            }
            arriving.addAll(again);
            return Look.of(Kind.ARRIVAL, arriving);
        }
        if (plannedView == null) {
            return Look.all("no-last-loop");
        }
        var changed = dev.flocker.agent.plan.ViewChanges.datasets(plannedView.configuration(), plannedView.clusterState(),
                view.configuration(), view.clusterState());
        if (changed.isEmpty()) {
            return Look.all("not-datasets");
        }
        if (changed.get().size() + again.size() > SCOPE_MAX) {
            return Look.all("too-many");
        }
        var read = new java.util.HashSet<>(changed.get());
        read.addAll(again);
        return Look.of(Kind.CHANGED, read);
    }

    /**
     * The plan of a loop that read only some datasets ({@link #scope}): the steps and background changes that need
     * nothing but those datasets. The rest of the plan, and what else woke the loop ({@code more}), wait for the full
     * look that follows at once (woken when anything was left).
     */
    private dev.flocker.agent.plan.Plan scopedPlan(dev.flocker.agent.plan.Plan plan, Look look, boolean more) {
        if (look.all()) {
            return plan;
        }
        java.util.function.Predicate<Change> read = c -> !c.datasets().isEmpty() && look.datasets().containsAll(c.datasets());
        var steps = plan.steps().stream().map(phase -> phase.stream().filter(read).toList()).filter(phase -> !phase.isEmpty()).toList();
        var background = plan.background().stream().filter(read).toList();
        boolean left = more || background.size() < plan.background().size()
                || steps.stream().mapToInt(List::size).sum() < plan.steps().stream().mapToInt(List::size).sum();
        if (left) {
            parts.wakeup().signal("after-" + look.kind().tag + "-look");
        }
        return new dev.flocker.agent.plan.Plan(steps, background, plan.waits(), plan.holding(), plan.handedTo());
    }

    /** The whole host, as discovery reads it (the state a scoped look starts from). */
    private dev.flocker.agent.plan.LocalState look(boolean withImages) {
        var local = parts.discovery().now(withImages);
        lastFullLook = System.nanoTime();
        lastWithImages = withImages;
        return local;
    }

    /**
     * One loop: discover, plan, execute, report. True when it applied changes and none failed.
     *
     * @param woken what started this loop, for its debug line
     * @param wake  what started it, for what it reads ({@link #scope})
     */
    private boolean converge(String woken, Wake wake) {
        long started = System.nanoTime();
        var view = parts.link().view();
        // Docker's image list is read only while an application configured here runs a built image (the planner's only use).
        boolean builtImages = view != null && view.configuration().applications().values().stream()
                .anyMatch(a -> self.equals(a.node()) && a.docker() != null && a.docker().imageId() != null);
        var scope = scope(wake, view, builtImages);
        var local = scope.all() ? look(builtImages) : parts.discovery().refreshed(lastLocal, scope.datasets());
        long discovered = System.nanoTime();
        long executed = discovered;
        long routed = discovered;
        Failpoints.pause("loop"); // a slow loop (a busy pool or dockerd), for tests
        List<Wait> waits = List.of();
        var applicationErrors = new java.util.HashMap<>(parts.executor().applicationErrors());
        boolean progressed = false;
        boolean leaseHeld = parts.link().leaseHeld(); // its lapse cancelled pushes in flight already (Agent's onLeaseLapse)
        var lastView = view == null ? parts.link().lastView() : null;
        if (lastView != null && !leaseHeld) {
            // Cut off from the control service: nothing is planned from a view that may be stale, but fencing.
            var fences = Planner.fenceOnly(new Planner.Input(self, lastView.configuration(), lastView.clusterState(), local,
                    parts.runner().progress(), settings, Instant.now(), parts.replicator().progress(), false, replicateEvery));
            if (!fences.steps().isEmpty()) {
                progressed = parts.executor().execute(fences.steps());
                local = look(builtImages);
            }
            waits = fences.waits();
        }
        if (view != null) {
            var cluster = view.clusterState();
            handoffComing = handoffComing(view);
            long planned = System.nanoTime(); // the moves' progress is read now: a handoff's own route switches after this win
            var plan = scopedPlan(Planner.plan(new Planner.Input(self, view.configuration(), cluster, local, parts.runner().progress(), settings,
                    Instant.now(), parts.replicator().progress(), leaseHeld, replicateEvery)), scope, wake.more());
            parts.replicator().retain(view.configuration().datasets().values().stream().filter(d -> self.equals(d.primary()))
                    .map(dev.flocker.api.model.Dataset::datasetId).collect(Collectors.toSet()));
            var steps = plan.steps();
            for (var change : plan.background()) {
                if (change instanceof Change.Replicate replicate) {
                    parts.replicator().run(replicate);
                } else if (change instanceof Change.FetchImage fetch) {
                    parts.images().fetch(fetch);
                    var error = parts.images().error(fetch.imageId()); // planned only while the image is still missing
                    if (error != null) {
                        applicationErrors.put(fetch.application(), error);
                    }
                } else {
                    parts.runner().run(change);
                }
            }
            java.util.concurrent.CompletableFuture<Void> routedEarly = null;
            if (steps.stream().flatMap(List::stream).anyMatch(c -> c instanceof Change.StartApplication)) {
                // An application starts here now (a handoff to here, most often): its ports go to where it will listen
                // while it starts (Routes.startsHere), so its first clients get in as it listens, not after this loop has
                // looked again and routed (~45 ms of a move's outage). Beside the start, not before it: the kernel's rule
                // change takes ~20 ms, the start ~100. Awaited before the loop routes again, so the later table wins.
                var early = proxyRoutes(Routes.of(self, view.configuration(), cluster, local, plan.holding(), plan.handedTo()));
                routedEarly = java.util.concurrent.CompletableFuture.runAsync(() -> parts.proxy().update(early, planned),
                        command -> Thread.ofVirtual().name("route-before-start").start(command));
            }
            if (!steps.isEmpty()) {
                progressed = parts.executor().execute(steps);
                local = scope.all() ? look(builtImages) : parts.discovery().refreshed(local, scope.datasets()); // what the steps changed
            }
            executed = System.nanoTime();
            waits = plan.waits();
            parts.peers().addresses = peerAddresses(cluster);
            var peerNodes = cluster.nodes().values().stream().filter(n -> !n.uuid().equals(self) && n.host() != null).toList();
            // Every few seconds (a session that broke), and at once for a host not warmed yet: a host that just joined is
            // the target of the next move as often as not (a Docker volume's first mount there).
            if (System.nanoTime() - lastWarm > WARM_EVERY_NANOS || !peerNodes.stream().allMatch(n -> warmed.contains(n.uuid()))) {
                lastWarm = System.nanoTime();
                warmed = peerNodes.stream().map(dev.flocker.api.model.NodeState::uuid).collect(Collectors.toSet());
                parts.executor().warmPeers(peerNodes.stream().flatMap(n -> Planner.peer(n).stream()).toList());
            }
            parts.proxy().peers(parts.peers().addresses);
            if (routedEarly != null) {
                try {
                    routedEarly.join();
                } catch (java.util.concurrent.CompletionException e) {
                    LOG.atWarn().setCause(e.getCause()).log("routing ahead of an application's start failed; routing now");
                }
            }
            parts.proxy().update(proxyRoutes(Routes.of(self, view.configuration(), cluster, local, plan.holding(), plan.handedTo())), planned);
            routed = System.nanoTime();
        }
        var state = parts.report().of(local, parts.runner().states(), waits, parts.executor().errors(), applicationErrors,
                view == null ? null : view.configuration(), new StateReport.Replication(parts.replicator()::states, parts.executor().setAside(),
                parts.link().fenceAfter()));
        parts.link().report(state);
        parts.metrics().datasets(local);
        lastLocal = local;
        plannedView = view;
        lastScope = scope.all() ? null : scope.datasets();
        long took = System.nanoTime() - started;
        scope.kind().loops.record(took, java.util.concurrent.TimeUnit.NANOSECONDS);
        // Read by the move benchmark (MoveOutageBenchmark) to time the steady-state loop.
        LOG.atDebug().addKeyValue("ms", took / 1_000_000).addKeyValue("datasets", local.datasets().size())
                .addKeyValue("discovery_ms", (discovered - started) / 1_000_000).addKeyValue("plan_execute_ms", (executed - discovered) / 1_000_000)
                .addKeyValue("routes_ms", (routed - executed) / 1_000_000).addKeyValue("report_ms", (System.nanoTime() - routed) / 1_000_000).addKeyValue("woken_by", woken)
                .addKeyValue("looked_at", scope)
                .log("loop done");
        return progressed;
    }

    /**
     * @param look what the loops looked at: {@code all} of the host, a handoff's {@code arrival}, or the datasets pushes
     *             {@code changed} ({@link #scope})
     */
    private static io.micrometer.core.instrument.Timer loopTimer(String look) {
        return io.micrometer.core.instrument.Timer.builder("flocker.agent.loop").tag("look", look)
                .description("Convergence loops: discover, plan, execute, report").register(io.micrometer.core.instrument.Metrics.globalRegistry);
    }

    private static Map<Integer, Route> proxyRoutes(Map<Integer, PortRoute> planned) {
        var routes = new TreeMap<Integer, Route>();
        planned.forEach((port, route) -> routes.put(port, switch (route) {
            case PortRoute.ToContainer r -> Route.local(r.address(), r.port());
            case PortRoute.ToHost r -> Route.remote(r.host(), r.port());
            case PortRoute.Hold r -> Route.hold(r.reason());
        }));
        return routes;
    }

    private Set<InetAddress> peerAddresses(ClusterState cluster) {
        return cluster.nodes().values().stream().filter(n -> !n.uuid().equals(self)).map(n -> address(n.host()))
                .filter(Objects::nonNull).collect(Collectors.toUnmodifiableSet());
    }

    private static InetAddress address(String host) {
        try {
            return host == null ? null : InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Stops looping after the current loop (waits for it at most 30 s). */
    void stop() {
        stopping = true;
        parts.wakeup().signal("stopping");
        if (thread != null) {
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
