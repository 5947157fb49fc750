package dev.flocker.agent.plan;

import dev.flocker.agent.plan.LocalState.LocalDataset;
import dev.flocker.api.model.Dataset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Standby copies, as each host's decisions (pure, like {@link MovePlanner}). For a dataset with {@code replicas}:
 * <ul>
 * <li>the primary's host ships increments to every reporting standby ({@link Change.Replicate}), one round at a time,
 *     at most every {@code replicateEvery}; a standby that was away or is new catches up from the newest common snapshot
 *     (a new one gets a full copy) while the applications keep running;</li>
 * <li>fencing: a host that does not hold its lease (the control service has not acknowledged it for a while) never
 *     writes such a dataset: its copy is made read-only, its applications stop, and it ships nothing, so that when the
 *     control service promotes a standby (only after a longer silence) there is one writer;</li>
 * <li>failover: the promoted standby records itself as owner at the configuration's failover generation and makes its
 *     copy writable ({@link Change.TakeOver}); the old primary, when it returns, sets its copy aside
 *     ({@link Change.SetAside}: writes the standby never got are kept, named, never discarded) and becomes a standby.</li>
 * </ul>
 */
final class ReplicaPlanner {
    static final String FENCED = "fenced: this node's lease on writing datasets with standbys lapsed (no acknowledgement from the control"
            + " service); read-only until the lease is renewed, or until a standby is promoted elsewhere";
    /** A standby prunes its copy once it has more of our snapshots than this, down to the newest few. */
    static final int STANDBY_SNAPSHOTS_MAX = 8;
    static final int STANDBY_SNAPSHOTS_KEPT = 4;

    private ReplicaPlanner() {
    }

    /** {@code dataset} has standbys and this node does not hold its lease: its copy here must not be written. */
    static boolean fenced(Planner.Input in, Dataset dataset) {
        return dataset != null && dataset.replicas() > 0 && !in.leaseHeld();
    }

    /** The configuration wants the dataset here: ship this host's writable copy to its standbys when it is time. */
    static void planReplication(Planner.Input in, Dataset dataset, LocalDataset local, Planner.Moves moves, List<Wait> waits) {
        var id = dataset.datasetId();
        if (dataset.standbyNodes().isEmpty() || local == null || !local.writable() || !in.self().equals(local.owner())
                || fenced(in, dataset) || Planner.supersededElsewhere(in, id, local)) {
            return;
        }
        var peers = new ArrayList<Change.Peer>();
        for (var node : dataset.standbyNodes()) {
            var peer = Planner.peer(in, node);
            if (peer.isEmpty()) {
                waits.add(new Wait(id, in.self(), node, "standby " + node + " is not reporting; it catches up from the newest common snapshot"
                        + " when it does"));
                continue;
            }
            var theirs = in.cluster().node(node).flatMap(n -> n.dataset(id));
            if (theirs.isPresent() && theirs.get().primary()) {
                waits.add(new Wait(id, in.self(), node, "standby " + node + " still holds its own writable line of this dataset (generation "
                        + theirs.get().generation() + "); it sets that aside before it gets a standby copy"));
                continue;
            }
            peers.add(peer.get());
        }
        var progress = in.replication().get(id);
        if (peers.isEmpty() || (progress != null && progress.running())) {
            return;
        }
        if (progress != null && progress.endedAt() != null
                && progress.endedAt().plus(progress.failed() ? ReplicationProgress.RETRY_AFTER_FAILURE : in.replicateEvery()).isAfter(in.now())) {
            return; // the background work wakes the loop when the interval has passed
        }
        moves.background.add(new Change.Replicate(id, peers));
    }

    /**
     * This host's standby copy was promoted: the configuration names this host primary with a failover at a generation
     * newer than the copy's, and this host holds its lease. (The old primary's node was silent for longer than its lease
     * lasts, so it fenced itself: it writes no more.)
     */
    static Optional<Change> takeOver(Planner.Input in, Dataset dataset, LocalDataset local) {
        var failover = dataset.failover();
        if (failover == null || failover.generation() <= local.generation() || !in.leaseHeld() || failover.from().equals(in.self())
                || local.snapshotTime() == null) {
            return Optional.empty();
        }
        boolean newerElsewhere = in.cluster().nodes().values().stream().filter(n -> !n.uuid().equals(in.self()))
                .flatMap(n -> n.dataset(dataset.datasetId()).stream()).anyMatch(d -> d.primary() && d.generation() >= failover.generation());
        return newerElsewhere ? Optional.empty() : Optional.of(new Change.TakeOver(dataset.datasetId(), failover.generation()));
    }

    /**
     * This host's copy is its own line (it records this host as owner) at a generation older than a failover that took
     * the dataset away from this host: a standby elsewhere was promoted while this host was cut off or down.
     */
    static boolean endedByFailover(Planner.Input in, Dataset dataset, LocalDataset local) {
        var failover = dataset.failover();
        return failover != null && !dataset.primary().equals(in.self()) && in.self().equals(local.owner())
                && local.generation() < failover.generation();
    }
}
