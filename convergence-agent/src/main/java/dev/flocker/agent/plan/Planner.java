package dev.flocker.agent.plan;

import dev.flocker.agent.plan.Change.CreateDataset;
import dev.flocker.agent.plan.Change.DeleteDataset;
import dev.flocker.agent.plan.Change.MakeReplica;
import dev.flocker.agent.plan.Change.MakeWritable;
import dev.flocker.agent.plan.Change.Peer;
import dev.flocker.agent.plan.Change.ResizeDataset;
import dev.flocker.agent.plan.Change.RestartApplication;
import dev.flocker.agent.plan.Change.StartApplication;
import dev.flocker.agent.plan.Change.StopApplication;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.agent.plan.LocalState.LocalDataset;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's decisions, as a pure function: {@code (configuration, cluster state, local state) -> plan}. No I/O,
 * no clock but the one passed in, no memory between calls: a restarted agent plans from what ZFS and Docker show.
 *
 * <p>The rules that keep data safe:
 * <ul>
 * <li>Only a copy whose recorded owner is this node is ever made writable; ownership is passed by the old owner
 *     (recorded in the data itself, with a generation that grows at every handoff), never taken.</li>
 * <li>A dataset is created empty only when the configuration wants it here and no host reports any copy of it, nor is
 *     one known to be on a host that stopped reporting (Flocker's FLOC-2060 created an empty dataset in that case).</li>
 * <li>A dataset in use by an application configured on this host, or leased to this host, is never handed off or
 *     deleted.</li>
 * <li>An application leaving this host with its dataset keeps running through the pre-copy: the move's handoff stops
 *     it, so the outage is the handoff alone.</li>
 * <li>Datasets the configuration does not know are left alone, whatever they hold.</li>
 * </ul>
 */
public final class Planner {
    private Planner() {}

    /**
     * @param self     this node
     * @param moves    what the background work says of moves away from this host, by dataset
     * @param settings when a pre-copy has done enough
     */
    public record Input(NodeId self, Configuration configuration, ClusterState cluster, LocalState local,
                        Map<DatasetId, MoveProgress> moves, MoveSettings settings, Instant now,
                        Map<DatasetId, ReplicationProgress> replication, boolean leaseHeld, java.time.Duration replicateEvery) {
        /**
         * @param replication    what the background work says of replication to standbys, by dataset
         * @param leaseHeld      whether this node holds its right to write datasets with standbys (the control service
         *                       acknowledged it recently); without it, those are fenced: read-only, their applications stopped
         * @param replicateEvery at most this often a dataset is shipped to its standbys
         */
        public Input {
            moves = Map.copyOf(moves);
            replication = Map.copyOf(replication);
        }

        public Input(NodeId self, Configuration configuration, ClusterState cluster, LocalState local, Map<DatasetId, MoveProgress> moves,
                     MoveSettings settings, Instant now) {
            this(self, configuration, cluster, local, moves, settings, now, Map.of(), true, java.time.Duration.ofSeconds(1));
        }

        MoveProgress progress(DatasetId id) {
            return moves.get(id);
        }

        /** Whether a handoff of {@code id} from this host is running now. */
        boolean handingOff(DatasetId id) {
            var progress = moves.get(id);
            return progress != null && progress.running() == dev.flocker.api.model.MovePhase.HANDOFF;
        }
    }

    /**
     * A pre-copy is done when an increment is at most {@code smallEnoughBytes}, or after {@code maxRounds} rounds; a
     * handoff waits at most {@code drain} for the requests in flight to its applications ({@link Change.DrainConnections};
     * zero: it does not wait).
     */
    public record MoveSettings(long smallEnoughBytes, int maxRounds, java.time.Duration drain) {
        public static final java.time.Duration DRAIN = java.time.Duration.ofSeconds(1);
        public static final MoveSettings DEFAULT = new MoveSettings(16L << 20, 8, DRAIN);
    }

    /**
     * After a handoff passed ownership, its host leaves its copy and the stopped containers as they are for this long: the
     * target is starting the applications now, and removing containers and changing ZFS properties at that moment slows
     * its start on shared cores. The copy is unmounted already: nothing writes it. A later loop then plans what is left.
     */
    public static final java.time.Duration HANDOFF_TAIL = java.time.Duration.ofSeconds(1);

    public static Plan plan(Input in) {
        var stops = new ArrayList<Change>();
        var datasetChanges = new ArrayList<Change>();
        var deletes = new ArrayList<Change>();
        var starts = new ArrayList<Change>();
        var moves = new Moves();
        var waits = new ArrayList<Wait>();
        var config = in.configuration();

        for (var dataset : config.datasets().values()) {
            var local = in.local().datasets().get(dataset.datasetId());
            if (dataset.deleted()) {
                MovePlanner.stopPreCopy(in, dataset.datasetId(), "the dataset was deleted", moves);
                planDeleted(in, dataset, local, stops, deletes, waits);
            } else if (dataset.primary().equals(in.self())) {
                MovePlanner.stopPreCopy(in, dataset.datasetId(), "the configuration wants it on this host again", moves);
                planWanted(in, dataset, local, datasetChanges, waits);
                ReplicaPlanner.planReplication(in, dataset, local, moves, waits);
            } else if (local != null && ReplicaPlanner.endedByFailover(in, dataset, local)) {
                MovePlanner.stopPreCopy(in, dataset.datasetId(), "a standby elsewhere was promoted", moves);
                datasetChanges.add(new Change.SetAside(dataset.datasetId(), local.generation()));
            } else if (local != null && in.self().equals(local.owner()) && !supersededElsewhere(in, dataset.datasetId(), local)) {
                MovePlanner.planMoveAway(in, dataset, local, moves, waits);
            } else if (local != null) {
                planElsewhere(in, dataset, local, datasetChanges, moves);
            }
        }

        for (var id : in.moves().keySet()) {
            if (config.dataset(id).isEmpty()) {
                MovePlanner.stopPreCopy(in, id, "the configuration no longer has the dataset", moves);
            }
        }

        var desired = config.applications().values().stream().filter(a -> a.node().equals(in.self())).toList();
        var desiredNames = new HashSet<String>();
        for (var app : desired) {
            desiredNames.add(app.name());
            var image = app.docker() == null ? null : app.docker().imageId();
            boolean imageHere = image == null || in.local().images().contains(image);
            if (!imageHere) {
                moves.background.add(new Change.FetchImage(image, app.name()));
            }
            planApplication(in, app, imageHere, stops, starts);
        }
        for (var container : in.local().containers().values()) {
            if (desiredNames.contains(container.name())) {
                continue;
            }
            if (container.volumes().stream().anyMatch(moves.leaving::contains)) {
                continue; // the move's handoff stops it, after the pre-copy
            }
            if (!container.running() && container.volumes().stream().anyMatch(id -> in.handingOff(id) || MovePlanner.inTail(in, id))) {
                continue; // stopped by a handoff still running or just ended: removed once its target has started (HANDOFF_TAIL)
            }
            if (stops.stream().noneMatch(c -> c instanceof StopApplication s && s.name().equals(container.name()))) {
                stops.add(new StopApplication(container.name(), first(container.volumes())));
            }
        }
        return new Plan(List.of(stops, datasetChanges, deletes, starts), moves.background, waits, moves.holding, moves.handedTo);
    }

    /**
     * What a node cut off from the control service does with the last view it was given: it fences the datasets with
     * standbys it writes (their applications stop, their copies become read-only), and nothing else.
     */
    public static Plan fenceOnly(Input in) {
        var full = plan(new Input(in.self(), in.configuration(), in.cluster(), in.local(), in.moves(), in.settings(), in.now(),
                in.replication(), false, in.replicateEvery()));
        var fences = full.changes().stream().filter(c -> c instanceof Change.Fence).toList();
        var waits = full.waits().stream().filter(w -> w.reason().equals(ReplicaPlanner.FENCED)).toList();
        return new Plan(List.of(fences), List.of(), waits, Set.of());
    }

    /** What the move planning adds to a plan. */
    static final class Moves {
        final List<Change> background = new ArrayList<>();
        /** Datasets moving away: their applications keep running until the handoff stops them. */
        final Set<DatasetId> leaving = new HashSet<>();
        final Set<DatasetId> holding = new HashSet<>();
        final Map<DatasetId, NodeId> handedTo = new HashMap<>();
    }

    /** The configuration wants the writable copy here. */
    private static void planWanted(Input in, Dataset dataset, LocalDataset local, List<Change> changes, List<Wait> waits) {
        var id = dataset.datasetId();
        if (local == null) {
            var holders = otherHolders(in, id);
            if (!holders.isEmpty()) {
                if (in.cluster().primaryOf(id).isEmpty()) {
                    waits.add(new Wait(id, holders.get(0).uuid(), in.self(), "no host reports the writable copy; replicas are on "
                            + hosts(holders) + "; waiting for the owner instead of creating an empty dataset"));
                }
                return; // the owner pushes it here
            }
            var offline = in.cluster().offlineHolders(id);
            if (!offline.isEmpty()) {
                waits.add(new Wait(id, offline.get(0).uuid(), in.self(), "host " + hosts(offline) + " held this dataset and stopped"
                        + " reporting; waiting for it instead of creating an empty dataset"));
                return;
            }
            changes.add(new CreateDataset(id, dataset.maximumSize()));
            return;
        }
        if (!in.self().equals(local.owner())) {
            var takeOver = ReplicaPlanner.takeOver(in, dataset, local);
            if (takeOver.isPresent()) {
                changes.add(takeOver.get());
                return;
            }
            var owner = local.owner() == null ? in.cluster().primaryOf(id).map(NodeState::uuid).orElse(null) : local.owner();
            var reporting = owner != null && in.cluster().node(owner).isPresent();
            // A read-only copy (a replica) is prepared while its owner hands it here: making it writable is then one step. A
            // copy that is not read-only and has no mountpoint is a first move's, made by the handoff's full final increment
            // that is being handed over now: its mountpoint once it is owned here is one step too (makeWritable), and
            // preparing it meanwhile (two transaction groups) only raced the pass, which had asked for its mount already.
            if (reporting && local.readOnly() && !local.mounted() && local.snapshots() > 0) {
                changes.add(new Change.PrepareMount(id));
            }
            if (!reporting) {
                waits.add(new Wait(id, owner, in.self(), owner == null
                        ? "this host has a replica but no host reports the writable copy; waiting for its owner"
                        : "the owner " + owner + " is not reporting; waiting for it to hand the dataset over instead of inventing data"));
            }
            return;
        }
        if (supersededElsewhere(in, id, local)) {
            changes.add(new MakeReplica(id, "another host reports a newer generation of this dataset"));
            return;
        }
        if (ReplicaPlanner.fenced(in, dataset)) {
            if (local.mounted()) {
                changes.add(new Change.Fence(id));
            }
            waits.add(new Wait(id, in.self(), null, ReplicaPlanner.FENCED));
            return;
        }
        if (!local.mounted() || local.readOnly()) {
            changes.add(new MakeWritable(id)); // a handoff that mounts it does so before it records this host as owner
        }
        if (!Objects.equals(local.maximumSize(), dataset.maximumSize())) {
            changes.add(new ResizeDataset(id, dataset.maximumSize()));
        }
    }

    /** The configuration wants the writable copy on another host, and this host has a copy it does not own (any more). */
    private static void planElsewhere(Input in, Dataset dataset, LocalDataset local, List<Change> changes, Moves moves) {
        var id = dataset.datasetId();
        if (MovePlanner.justPassed(in, id, local) && local.owner().equals(dataset.primary())) {
            moves.handedTo.put(id, local.owner());
        }
        // Not while a handoff from here runs or in its tail: a zfs destroy then competes with the target's start (one
        // zfs-fuse daemon serves both in the lab; the container's mount of the copy goes through it).
        if (local.snapshots() > ReplicaPlanner.STANDBY_SNAPSHOTS_MAX && !in.self().equals(local.owner()) && !in.handingOff(id)
                && !MovePlanner.inTail(in, id)) {
            changes.add(new Change.PruneSnapshots(id, ReplicaPlanner.STANDBY_SNAPSHOTS_KEPT)); // a standby's, shipped to often
        }
        if (in.self().equals(local.owner())) {
            changes.add(new MakeReplica(id, "another host reports a newer generation of this dataset"));
            return;
        }
        // A copy that records another owner: if that owner's own copy does not record it yet, this host handed it over
        // and stopped before telling it (a crash mid-handoff), or told it a moment ago and waits for its report.
        if (local.owner() != null) {
            var theirs = in.cluster().node(local.owner()).flatMap(n -> n.dataset(id));
            if (theirs.isPresent() && theirs.get().generation() < local.generation() && !MovePlanner.beingOrJustPassed(in, id, local)) {
                // In the background (MoveRunner), as the handoff it finishes: its increment may take a while.
                peer(in, local.owner()).ifPresent(p -> moves.background.add(new Change.ResumePass(id, p, local.generation())));
            }
        }
        // Mounted, or not read-only: a handoff from here that stopped before its last step, or a copy mounted by hand.
        if ((local.mounted() || !local.readOnly()) && !in.handingOff(id) && !MovePlanner.inTail(in, id)) {
            changes.add(new MakeReplica(id, "this host is not the owner"));
        }
    }

    private static void planDeleted(Input in, Dataset dataset, LocalDataset local, List<Change> stops, List<Change> deletes, List<Wait> waits) {
        if (local == null) {
            return;
        }
        var id = dataset.datasetId();
        if (leaseHere(in, id).isPresent()) {
            waits.add(new Wait(id, in.self(), null, "deleted in the configuration but leased to this host; kept until the lease ends"));
            return;
        }
        var users = usersHere(in, id);
        if (!users.isEmpty()) {
            waits.add(new Wait(id, in.self(), null, "deleted in the configuration but still used by " + users + " configured on this host"));
            return;
        }
        for (var container : in.local().containers().values()) {
            if (container.uses(id)) {
                stops.add(new StopApplication(container.name(), id));
            }
        }
        deletes.add(new Change.DeleteDataset(id));
    }

    /** @param imageHere whether its image is on this host (else it is being fetched, and starts once it is here) */
    private static void planApplication(Input in, Application app, boolean imageHere, List<Change> stops, List<Change> starts) {
        var container = in.local().containers().get(app.name());
        for (var volume : app.datasets()) {
            var local = in.local().datasets().get(volume);
            // A copy owned here that is not writable yet is made writable by this plan's dataset step, which runs before
            // its starts (the executor skips a start whose dataset's change failed): the app starts in the same loop as
            // the handoff lands, which is part of a move's outage. With several datasets, it starts once all are here.
            var ready = local != null && in.self().equals(local.owner()) && !supersededElsewhere(in, volume, local)
                    && !ReplicaPlanner.fenced(in, in.configuration().dataset(volume).orElse(null));
            if (!ready) {
                if (container != null && !container.created() && container.volumes().stream().anyMatch(id -> notOwnedHere(in, id))) {
                    stops.add(new StopApplication(app.name(), first(container.volumes()))); // never run on a copy this host does not own
                } else if (container == null && imageHere) {
                    starts.add(new Change.CreateApplication(app)); // made now, while its data arrives: the handoff only starts it
                }
                return; // starts once its datasets are here and writable
            }
        }
        var hash = ApplicationHash.of(app);
        boolean current = container != null && hash.equals(container.configHash()) && app.datasets().equals(container.volumes());
        if (current && !container.created()) {
            return;
        }
        if (!imageHere || !dependenciesMet(in, app)) {
            return; // started (or replaced) once its image is here and what it depends on runs, or is healthy, on some host
        }
        starts.add(container == null || current ? new StartApplication(app, current) : new RestartApplication(app));
    }

    /** A copy of {@code id} is here and records another owner. */
    private static boolean notOwnedHere(Input in, DatasetId id) {
        var local = in.local().datasets().get(id);
        return local != null && !in.self().equals(local.owner());
    }

    private static DatasetId first(List<DatasetId> datasets) {
        return datasets.isEmpty() ? null : datasets.get(0);
    }

    /**
     * Whether every application {@code app} depends on runs on some host (this one as discovered, others as they
     * report), and is healthy where the dependency asks for it, as Compose's {@code depends_on} orders starts.
     */
    static boolean dependenciesMet(Input in, Application app) {
        for (var dependency : app.dependsOn()) {
            var here = in.local().containers().get(dependency.name());
            boolean met = (here != null && satisfies(dependency, here.running(), here.health()))
                    || in.cluster().nodes().values().stream().filter(n -> !n.uuid().equals(in.self()))
                    .flatMap(n -> n.applications().stream())
                    .anyMatch(a -> a.name().equals(dependency.name()) && satisfies(dependency, a.running(), a.health()));
            if (!met) {
                return false;
            }
        }
        return true;
    }

    private static boolean satisfies(Application.Dependency dependency, boolean running, String health) {
        return running && (!dependency.condition().equals("healthy") || "healthy".equals(health));
    }

    /** Why this host must keep the writable copy for now, if it must. */
    static Optional<String> blocker(Input in, DatasetId id) {
        var lease = leaseHere(in, id);
        if (lease.isPresent()) {
            return Optional.of("leased to this host" + (lease.get().expiresAt() == null ? "" : " until " + lease.get().expiresAt()));
        }
        var users = usersHere(in, id);
        if (!users.isEmpty()) {
            return Optional.of("in use by application " + String.join(", ", users) + ", which is configured to stay on this host");
        }
        return Optional.empty();
    }

    /** The lease that holds {@code id} on this host now, if any. */
    private static Optional<dev.flocker.api.model.Lease> leaseHere(Input in, DatasetId id) {
        return Optional.ofNullable(in.configuration().leases().get(id))
                .filter(l -> l.node().equals(in.self()) && !l.expired(in.now()));
    }

    /** The applications configured on this host that use {@code id}, by name. */
    private static List<String> usersHere(Input in, DatasetId id) {
        return in.configuration().applications().values().stream()
                .filter(a -> a.node().equals(in.self()) && a.usesDataset(id)).map(Application::name).sorted().toList();
    }

    /** Another host reports owning a newer generation: this copy is stale and must never be writable. */
    static boolean supersededElsewhere(Input in, DatasetId id, LocalDataset local) {
        return in.cluster().nodes().values().stream()
                .filter(n -> !n.uuid().equals(in.self()))
                .flatMap(n -> n.dataset(id).stream())
                .anyMatch(d -> d.primary() && d.generation() > local.generation());
    }

    private static List<NodeState> otherHolders(Input in, DatasetId id) {
        return in.cluster().holders(id).stream().filter(n -> !n.uuid().equals(in.self())).toList();
    }

    static Optional<Peer> peer(Input in, NodeId node) {
        return in.cluster().node(node).flatMap(Planner::peer);
    }

    /** {@code node} as a host datasets can be shipped to, when it reports where it keeps them. */
    public static Optional<Peer> peer(NodeState node) {
        return Optional.of(node).filter(n -> n.datasetRoot() != null).map(n -> new Peer(n.uuid(), n.host(), n.datasetRoot()));
    }

    private static String hosts(List<NodeState> nodes) {
        return String.join(", ", nodes.stream().map(NodeState::host).sorted().toList());
    }
}
