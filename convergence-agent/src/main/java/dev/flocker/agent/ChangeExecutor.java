package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.proxy.Route;
import dev.flocker.proxy.RoutingProxy;
import dev.flocker.volume.VolumeDriver;
import dev.flocker.volume.transfer.Transfer;
import dev.flocker.volume.transfer.TransferResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out changes on this host: ZFS (through the {@link VolumeDriver}), Docker, the routing proxy, and
 * {@link Shipping} to peers. It keeps the last error of each dataset's changes, which the reports show until a change of that
 * dataset succeeds.
 */
final class ChangeExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeExecutor.class);
    private static final int KEEP_SNAPSHOTS = 3;
    /** The longest a container's creation or start may take before the change is given up. */
    static final java.time.Duration START_LIMIT = java.time.Duration.ofSeconds(100);
    /**
     * How long a loop waits for one dataset change (ZFS, SSH) before it goes on without it. Such a change takes well under
     * a second, up to ~18 s when a dataset stays busy; zfs-fuse has been seen to hang one for good (an unmount, 90 s a try,
     * in CI), which held every other dataset's changes, the host's reports and its routes meanwhile. A change still running
     * then goes on by itself ({@link #lingering}); its dataset's changes wait for it, the others do not.
     */
    static final java.time.Duration PATIENCE = java.time.Duration.ofSeconds(10);
    /** The loop's wake reason when such a change ends. */
    static final String LINGERING_ENDED = "lingering-change-ended";
    /** Changes that outlasted {@link #PATIENCE} and still run, by dataset: later loops skip those datasets' changes. */
    private final Map<DatasetId, Change> lingering = new ConcurrentHashMap<>();
    /** What an application gets to stop when its node is fenced, before it is killed. */
    static final java.time.Duration FENCE_GRACE = java.time.Duration.ofSeconds(1);

    private final NodeId self;
    private final VolumeDriver driver;
    private final Containers containers;
    private final RoutingProxy proxy;
    private final Shipping shipping;
    /** Told when a change that outlasted {@link #PATIENCE} ends: its dataset's waiting changes can go at once. */
    private final Wakeup wakeup;
    private final Map<DatasetId, String> errors = new ConcurrentHashMap<>();
    private final Map<String, String> applicationErrors = new ConcurrentHashMap<>();
    private volatile List<String> setAside;

    /** Opens SSH sessions to the cluster's other hosts ahead of use (small clusters: {@link Shipping#warm}). */
    void warmPeers(java.util.Collection<Change.Peer> peers) {
        shipping.warm(peers);
    }

    ChangeExecutor(NodeId self, VolumeDriver driver, Containers containers, RoutingProxy proxy, Shipping shipping, Wakeup wakeup) {
        this.wakeup = wakeup;
        this.self = self;
        this.driver = driver;
        this.containers = containers;
        this.proxy = proxy;
        this.shipping = shipping;
    }

    /** The last failure of each dataset's changes, as users read it. */
    Map<DatasetId, String> errors() {
        return Map.copyOf(errors);
    }

    /** The last failure to start or replace each application, by name, until it starts. */
    Map<String, String> applicationErrors() {
        return Map.copyOf(applicationErrors);
    }

    /** Applies the steps in order, each step's changes in parallel; true when every change succeeded. */
    boolean execute(List<List<Change>> steps) {
        boolean allApplied = true;
        var failed = new HashSet<DatasetId>();
        // Not closed (closing waits for every task): a change given up at its limit must not hold the loop after all.
        var executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (var step : steps) {
                var running = new ArrayList<Map.Entry<Change, Future<?>>>();
                for (var change : step) {
                    var waitingFor = change.datasets().stream().map(lingering::get).filter(java.util.Objects::nonNull).findFirst();
                    if (waitingFor.isPresent()) {
                        LOG.atDebug().addKeyValue("change", change).log("skipped: " + waitingFor.get() + " still runs");
                        change.datasets().forEach(failed::add); // nor its later steps
                        allApplied = false;
                        continue;
                    }
                    if (change.datasets().stream().anyMatch(failed::contains)) {
                        // e.g. never start an application on a copy that could not be made writable
                        LOG.atWarn().addKeyValue("change", change).log("skipped: an earlier change of its dataset failed");
                        allApplied = false;
                        continue;
                    }
                    // A dataset change is awaited patiently, with a callback for its end (awaitPatiently); others as a task
                    // whose thread awaitStart can interrupt when it gives up.
                    running.add(Map.entry(change, patient(change) ? java.util.concurrent.CompletableFuture.runAsync(() -> apply(change), executor)
                            : executor.submit(() -> apply(change))));
                }
                for (var entry : running) {
                    if (!await(entry.getKey(), entry.getValue(), failed)) {
                        allApplied = false;
                    }
                }
            }
        } finally {
            executor.shutdown();
        }
        return allApplied;
    }

    private boolean await(Change change, Future<?> result, Set<DatasetId> failed) {
        try {
            if (change instanceof Change.StartApplication || change instanceof Change.CreateApplication) {
                awaitStart(change, result);
            } else if (!patient(change)) {
                result.get(); // stops are bounded by their grace period, the proxy's routes do not wait
            } else if (!awaitPatiently(change, (java.util.concurrent.CompletableFuture<?>) result)) {
                change.datasets().forEach(failed::add);
                return false;
            }
            succeeded(change);
            return true;
        } catch (ExecutionException e) {
            if (change.dataset() != null) {
                failed.add(change.dataset());
            }
            failedWith(change, e.getCause());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A dataset change (ZFS, SSH), awaited at most {@link #PATIENCE}; applications' have limits of their own. */
    private static boolean patient(Change change) {
        return !(change instanceof Change.ApplicationChange) && !change.datasets().isEmpty();
    }

    /**
     * Waits for a dataset change at most {@link #PATIENCE}; false when it still runs then: it is left to end by itself
     * ({@link #lingering} until then), and its dataset's error says so meanwhile. Its outcome, when it comes, is kept as
     * any change's is. Throws as {@link Future#get} does.
     */
    private boolean awaitPatiently(Change change, java.util.concurrent.CompletableFuture<?> result) throws InterruptedException, ExecutionException {
        try {
            result.get(PATIENCE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            change.datasets().forEach(d -> lingering.put(d, change));
            LOG.atWarn().addKeyValue("change", change).log("still running after " + PATIENCE.toSeconds()
                    + " s; the loop goes on without it, and its dataset's other changes wait for it");
            if (change.dataset() != null) {
                errors.put(change.dataset(), change.getClass().getSimpleName() + " still running after " + PATIENCE.toSeconds() + " s");
            }
            result.whenComplete((ok, failure) -> {
                change.datasets().forEach(d -> lingering.remove(d, change));
                if (failure == null) {
                    LOG.atInfo().addKeyValue("change", change).log("done at last");
                    succeeded(change);
                } else {
                    failedWith(change, failure); // rootMessage looks through the CompletionException
                }
                wakeup.signal(LINGERING_ENDED);
            });
            return false;
        }
    }

    /** A change applied: its dataset's and application's last errors go. */
    private void succeeded(Change change) {
        if (change.dataset() != null) {
            errors.remove(change.dataset());
        }
        if (change instanceof Change.ApplicationChange app) {
            applicationErrors.remove(app.application().name());
        }
    }

    /** A change failed with {@code cause}: logged, and kept as its dataset's and application's last error. */
    private void failedWith(Change change, Throwable cause) {
        var message = rootMessage(cause);
        LOG.atWarn().addKeyValue("change", change).log("change failed: " + message);
        if (change.dataset() != null) {
            errors.put(change.dataset(), change.getClass().getSimpleName() + " failed: " + message);
        }
        if (change instanceof Change.ApplicationChange app) {
            applicationErrors.put(app.application().name(), change.getClass().getSimpleName() + " failed: " + message);
        }
    }

    /**
     * Waits for a container to be made or started, at most {@link #START_LIMIT}: Docker has been seen not to answer a start
     * at all (its client's time-out did not apply), which held the loop, its reports and every other change of the host.
     * The call is left to finish or hang on its own thread; the change fails, with where the threads were logged.
     */
    private static void awaitStart(Change change, Future<?> result) throws InterruptedException, ExecutionException {
        try {
            result.get(START_LIMIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            ThreadDump.log(LOG, change.getClass().getSimpleName() + " got no answer from Docker within " + START_LIMIT.toSeconds() + " s");
            result.cancel(true);
            throw new ExecutionException(new IllegalStateException("Docker did not answer within " + START_LIMIT.toSeconds()
                    + " s; given up (the call may still finish), tried again in a later loop"));
        }
    }

    /** Applies one change that is not a background one (those run in {@link MoveRunner}). */
    void apply(Change change) {
        counted(change, () -> {
            carryOut(change);
            return null;
        });
    }

    /** Runs {@code work} for {@code change}, logged and counted by kind and outcome. */
    private static <T> T counted(Change change, java.util.function.Supplier<T> work) {
        // Continuous replication pushes every second: its routine steps are not news.
        boolean routine = change instanceof Change.PushIncrement p && p.phase() == dev.flocker.api.model.MovePhase.REPLICATE;
        LOG.atLevel(routine ? org.slf4j.event.Level.DEBUG : org.slf4j.event.Level.INFO).addKeyValue("change", change).log("applying");
        boolean done = false;
        try {
            var result = work.get();
            done = true;
            return result;
        } finally {
            io.micrometer.core.instrument.Counter.builder("flocker.agent.changes").tag("kind", change.getClass().getSimpleName())
                    .tag("outcome", done ? "ok" : "failed").description("Changes the agent applied, by kind and outcome")
                    .register(io.micrometer.core.instrument.Metrics.globalRegistry).increment();
        }
    }

    private void carryOut(Change change) {
        switch (change) {
            case Change.CreateDataset c -> driver.create(c.dataset(), c.maximumSize(), self);
            case Change.ResizeDataset c -> driver.resize(c.dataset(), c.maximumSize());
            case Change.MakeWritable c -> driver.makeWritable(c.dataset());
            case Change.MakeReplica c -> {
                containers.stopUsing(c.dataset());
                driver.makeReplica(c.dataset());
            }
            case Change.DeleteDataset c -> {
                Failpoints.pause("delete-dataset"); // a destroy that hangs, for tests
                driver.destroy(c.dataset());
            }
            case Change.StartApplication c -> containers.start(c.application(), mounted(c.application()), c.made());
            case Change.CreateApplication c -> containers.create(c.application(), volumePaths(c.application()));
            case Change.RestartApplication c -> {
                var paths = mounted(c.application());
                containers.stop(c.application().name());
                containers.start(c.application(), paths);
            }
            case Change.StopApplication c -> containers.stop(c.name());
            case Change.HoldConnections c -> c.ports().forEach(port -> proxy.route(port, Route.hold("handoff to " + c.to())));
            case Change.ForwardConnections c -> c.ports().forEach(port -> proxy.route(port, Route.remote(c.host(), port)));
            case Change.DrainConnections c -> drain(c);
            case Change.StopUsers c -> containers.stopUsing(c.dataset());
            case Change.Freeze c -> driver.freeze(c.dataset());
            case Change.PrepareMount c -> driver.prepareMount(c.dataset());
            case Change.RecordOwner c -> driver.setOwner(c.dataset(), c.to(), c.generation());
            case Change.PassOwnership c -> shipping.passOwnership(c, dev.flocker.volume.transfer.RemoteZfs.PeerMount.NONE);
            case Change.ResumePass c -> shipping.resumePass(c);
            case Change.PushIncrement c -> shipping.push(c, new Transfer());
            case Change.Handoff c -> throw new IllegalArgumentException("a handoff runs in the background: " + c);
            case Change.AbandonPreCopy c -> throw new IllegalArgumentException("a pre-copy is stopped by the mover: " + c);
            case Change.FetchImage c -> throw new IllegalArgumentException("an image is loaded in the background: " + c);
            case Change.Replicate c -> throw new IllegalArgumentException("replication runs in the background: " + c);
            case Change.TakeOver c -> {
                driver.setOwner(c.dataset(), self, c.generation());
                driver.makeWritable(c.dataset());
                LOG.atWarn().addKeyValue("dataset", c.dataset()).addKeyValue("generation", c.generation())
                        .log("took over as primary: the control service promoted this standby");
            }
            case Change.SetAside c -> {
                containers.stopUsing(c.dataset());
                var name = driver.setAside(c.dataset(), "diverged-g" + c.generation());
                setAside = null;
                LOG.atWarn().addKeyValue("dataset", c.dataset()).addKeyValue("kept_as", name).log("this copy's line was ended by a failover"
                        + " elsewhere; kept aside, read-only, with what it holds beyond the new primary (see docs/OPERATIONS.md, 'Failover')");
            }
            case Change.Fence c -> {
                containers.stopUsing(c.dataset(), FENCE_GRACE);
                driver.makeReplica(c.dataset());
            }
            case Change.PruneSnapshots c -> driver.pruneSnapshots(c.dataset(), Set.of(), c.keepNewest());
        }
    }

    /** Waits for the requests in flight to the dataset's applications ({@link Change.DrainConnections}); what it found. */
    InFlight.Drained drain(Change.DrainConnections change) {
        return drain(change, Map.of());
    }

    /** The same, with the first reads started ahead ({@link #primeDrain}). */
    InFlight.Drained drain(Change.DrainConnections change, Map<String, InFlight.Primed> primed) {
        return counted(change, () -> {
            long started = System.nanoTime();
            var pids = new java.util.TreeMap<String, Long>();
            for (var app : change.ports().keySet()) {
                try {
                    containers.process(app).ifPresent(pid -> pids.put(app, pid));
                } catch (RuntimeException e) {
                    LOG.atWarn().setCause(e).addKeyValue("application", app)
                            .log("cannot find the application's process; it stops without waiting for its requests in flight");
                }
            }
            long lookup = (System.nanoTime() - started) / 1_000_000;
            return InFlight.drain(pids, change.ports(), change.within(), primed).afterLookup(lookup);
        });
    }

    /**
     * Starts the drain's first read of each application's sockets ahead ({@link InFlight.Primed}), for the handoff to
     * start beside its hold. An application whose process is not known already (looked up during the pre-copy) or whose
     * read cannot start is read the usual way by the drain.
     */
    Map<String, InFlight.Primed> primeDrain(Change.DrainConnections change) {
        var primed = new java.util.TreeMap<String, InFlight.Primed>();
        change.ports().forEach((app, ports) -> {
            if (ports.isEmpty()) {
                return;
            }
            try {
                var pid = containers.knownProcess(app);
                if (pid.isPresent()) {
                    primed.put(app, InFlight.Primed.start(pid.get()));
                }
            } catch (java.io.IOException | RuntimeException e) {
                LOG.atDebug().setCause(e).addKeyValue("application", app).log("cannot read the application's sockets ahead of the drain");
            }
        });
        return primed;
    }

    /** Looks up the processes of the applications using {@code dataset} ahead of its handoff's drain (Docker calls: not on the outage's path). */
    void findProcessesUsing(DatasetId dataset) {
        try {
            containers.findProcessesUsing(dataset);
        } catch (RuntimeException e) {
            LOG.atDebug().setCause(e).addKeyValue("dataset", dataset).log("cannot look up the applications' processes ahead of the handoff");
        }
    }

    /** Stops the dataset's users, leaving their containers for the end of the handoff to remove; returns their names. */
    List<String> stopUsers(Change.StopUsers change) {
        return counted(change, () -> containers.stopUsing(change.dataset(), null, false));
    }

    /** Passes ownership to the peer; with {@code mount} other than none, its copy is made writable and mounted in the same remote command. */
    void passOwnership(Change.PassOwnership change, dev.flocker.volume.transfer.RemoteZfs.PeerMount mount) {
        counted(change, () -> {
            shipping.passOwnership(change, mount);
            return null;
        });
    }

    /** Sends the increment; {@code transfer} receives its progress and may cancel it. */
    TransferResult push(Change.PushIncrement change, Transfer transfer) {
        return counted(change, () -> shipping.push(change, transfer));
    }

    /**
     * The copies set aside on this host (what a failover ended), for the report: listed once, then after each set-aside
     * (only this agent sets copies aside; an operator who destroys one is seen at the agent's restart).
     */
    List<String> setAside() {
        var known = setAside;
        if (known == null) {
            try {
                known = driver.setAside();
                setAside = known;
            } catch (RuntimeException e) {
                return List.of();
            }
        }
        return known;
    }

    /** Keeps the newest few snapshots and those named in {@code keep} (a standby's base); failures only logged. */
    void pruneSnapshots(DatasetId id, Set<String> keep) {
        try {
            driver.pruneSnapshots(id, keep, KEEP_SNAPSHOTS);
        } catch (RuntimeException e) {
            LOG.atWarn().addKeyValue("dataset", id).log("pruning old snapshots failed: " + e.getMessage());
        }
    }

    /** Keeps a few snapshots after a handoff (the newest is the base of the next increment); failures only logged. */
    void pruneSnapshots(DatasetId id) {
        pruneSnapshots(id, Set.of());
    }

    /**
     * The application's volume paths, each checked to be a mount (its device is not its parent directory's): a container
     * started on a dataset that is not mounted would write into the bare directory beneath, where no copy, snapshot or
     * move ever looks. The planner never plans that; this is the last line.
     */
    private Map<DatasetId, Path> mounted(dev.flocker.api.model.Application application) {
        var paths = volumePaths(application);
        requireMounts(paths, application.name());
        return paths;
    }

    /** Fails naming the first of {@code paths} that is not a mount point (see {@link #mounted}). */
    static void requireMounts(Map<DatasetId, Path> paths, String application) {
        paths.forEach((id, path) -> {
            boolean mount;
            try {
                mount = !java.nio.file.Files.getAttribute(path, "unix:dev").equals(java.nio.file.Files.getAttribute(path.getParent(), "unix:dev"));
            } catch (java.io.IOException | RuntimeException e) {
                mount = false;
            }
            if (!mount) {
                throw new IllegalStateException("dataset " + id + " is not mounted at " + path + "; not starting " + application
                        + " on the bare directory beneath");
            }
        });
    }

    private Map<DatasetId, Path> volumePaths(dev.flocker.api.model.Application application) {
        var paths = new java.util.HashMap<DatasetId, Path>();
        application.datasets().forEach(id -> paths.put(id, driver.mountpoint(id)));
        return paths;
    }

    static String rootMessage(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
