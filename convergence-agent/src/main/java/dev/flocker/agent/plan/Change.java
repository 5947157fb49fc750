package dev.flocker.agent.plan;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import java.util.List;

/**
 * One thing the agent does to its host. Plain values: the planner makes them, executors carry them out. A move is
 * a series of them, each chosen by the planner from what it observes: {@link PushIncrement} rounds of pre-copy while
 * the applications run, then one {@link Handoff} whose steps run back to back.
 */
public sealed interface Change {

    /** The dataset this change is about, or null for changes about an application alone. */
    DatasetId dataset();

    /** Every dataset this change needs: a change is skipped when an earlier change of one of them failed. */
    default List<DatasetId> datasets() {
        return dataset() == null ? List.of() : List.of(dataset());
    }

    /** A new, empty dataset owned by this host; only where no host holds or held it. */
    record CreateDataset(DatasetId dataset, Long maximumSize) implements Change {
    }

    record ResizeDataset(DatasetId dataset, Long maximumSize) implements Change {
    }

    /** This host owns the dataset: mount it read-write. */
    record MakeWritable(DatasetId dataset) implements Change {
    }

    /** This host's copy is not the owner's (any more): its users stop, it is unmounted and read-only. */
    record MakeReplica(DatasetId dataset, String reason) implements Change {
    }

    /** Destroys this host's copy (the configuration deleted the dataset). */
    record DeleteDataset(DatasetId dataset) implements Change {
    }

    /**
     * Sends what changed since the newest snapshot both hosts hold (everything, the first time). In phase
     * {@link MovePhase#PRE_COPY} it runs in the background while the applications keep writing, {@code round}
     * counting from 1; in {@link MovePhase#HANDOFF} it is the final increment of a copy nobody writes any more.
     */
    record PushIncrement(DatasetId dataset, Peer to, MovePhase phase, int round) implements Change {
    }

    /** New connections to these external ports are held (never refused) until the dataset's applications run again. */
    record HoldConnections(DatasetId dataset, NodeId to, List<Integer> ports) implements Change {
        public HoldConnections {
            ports = List.copyOf(ports);
        }
    }

    /**
     * Waits, at most {@code within}, for the requests in flight on the applications' connections (to their internal
     * {@code ports}, by application name) when their new connections began to be held: each is answered, or its
     * connection closes. A connection whose client spoke last is awaiting its answer; one whose application spoke last
     * is idle (a pooled or kept-alive connection between requests) and is not waited for. The applications stop after
     * it: without it, a request the kernel forwarded to them just before the hold was cut by their stop.
     */
    record DrainConnections(DatasetId dataset, java.util.Map<String, List<Integer>> ports, java.time.Duration within) implements Change {
        public DrainConnections {
            ports = java.util.Map.copyOf(ports);
        }
    }

    /**
     * Stops every container on this host that uses the dataset. In a handoff they are removed by a later loop, after the
     * outage and the handoff's tail; elsewhere at once.
     */
    record StopUsers(DatasetId dataset) implements Change {
    }

    /**
     * Makes this host's copy read-only where it is mounted, keeping its owner: nothing can write it from here on (the
     * kernel's read-only remount, which waits while a file is open for writing). It stays mounted, read-only, until a
     * later loop makes it a replica.
     */
    record Freeze(DatasetId dataset) implements Change {
    }

    /**
     * Gives this host's replica of a dataset the configuration wants here its mountpoint, unmounted, while the data is still
     * arriving: the handoff's outage then only has to make it writable and mount it.
     */
    record PrepareMount(DatasetId dataset) implements Change {
    }

    /**
     * Records {@code to} as the owner at {@code generation} on this host's copy: from here on this host never writes it.
     * In a handoff it runs beside the steps after it (the final increment, from its snapshot on, when the target holds a
     * copy already), and the pass waits for it: the copy is frozen by then, so recording is independent of sending, and only the pass needs it.
     */
    record RecordOwner(DatasetId dataset, NodeId to, long generation) implements Change {
    }

    /**
     * Records the new owner on its own copy (over SSH), which alone lets it make that copy writable; idempotent. In a
     * handoff, when the final increment found that copy prepared ({@link PrepareMount}), the same remote command first
     * mounts it, so the target only has to start the applications once it sees itself the owner.
     */
    record PassOwnership(DatasetId dataset, Peer to, long generation) implements Change {
    }

    /**
     * Finishes a handoff from here that recorded the new owner and stopped before the pass landed, perhaps before its final
     * increment did (the two run side by side): asks the peer's copy for its owner, and if it does not record this
     * generation yet, sends the increment from this copy (frozen since before the owner was recorded, so nothing newer
     * exists) and passes ownership as a handoff does. Asking first is what makes the send safe: only this host passes
     * this generation, and the peer writes its copy only once it records itself the owner, so a copy that does not record
     * it holds nothing the increment could roll back. Idempotent.
     */
    record ResumePass(DatasetId dataset, Peer to, long generation) implements Change {
    }

    /**
     * Sends new connections to these external ports, and those held since {@link HoldConnections}, to the host the dataset
     * was just handed to ({@code host}, the same ports): its proxy holds them, or retries its own container, until the
     * application answers there. A client of this host's address so waits for the target's start, not for the control
     * service to report it.
     */
    record ForwardConnections(DatasetId dataset, NodeId to, String host, List<Integer> ports) implements Change {
        public ForwardConnections {
            ports = List.copyOf(ports);
        }
    }

    /**
     * The handoff of a move: {@code steps} (hold connections, stop the users, unmount, final increment, record and pass
     * ownership, send the connections to the new owner) run in order in the background, and the first failure stops the
     * rest. A later loop makes this copy a replica ({@link MakeReplica}) from what it finds then. The planner leaves out
     * steps whose effect it already observes, so a handoff interrupted anywhere resumes where it stopped.
     *
     * <p>{@code targetHasCopy}: the target reported a copy when this was planned. Then {@link RecordOwner} is listed just
     * before the final {@link PushIncrement} and runs beside it (from its snapshot on), and the increment goes onto that
     * copy; else the increment sends the dataset whole (a first move) and the record follows it. The order of the steps
     * is checked against it.
     */
    record Handoff(DatasetId dataset, Peer to, long generation, boolean targetHasCopy, List<Change> steps) implements Change {
        public Handoff {
            steps = List.copyOf(steps);
            if (steps.stream().anyMatch(s -> s instanceof Handoff || !dataset.equals(s.dataset()))) {
                throw new IllegalArgumentException("a handoff's steps are changes of its own dataset " + dataset + ": " + steps);
            }
            int push = indexOf(steps, PushIncrement.class);
            int record = indexOf(steps, RecordOwner.class);
            if (push >= 0 && record >= 0 && (targetHasCopy ? record != push - 1 : record < push)) {
                throw new IllegalArgumentException("a handoff " + (targetHasCopy ? "onto the target's copy records the owner just before"
                        + " (beside) the final increment" : "to a target with no copy records the owner after the final increment")
                        + ": " + steps);
            }
        }

        /** Whether its {@link RecordOwner} runs beside the final increment, started by that increment's snapshot. */
        public boolean recordsBesideFinalIncrement() {
            return targetHasCopy && indexOf(steps, PushIncrement.class) >= 0 && indexOf(steps, RecordOwner.class) >= 0;
        }

        private static int indexOf(List<Change> steps, Class<? extends Change> kind) {
            for (int i = 0; i < steps.size(); i++) {
                if (kind.isInstance(steps.get(i))) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** Stops a pre-copy running in the background: the configuration no longer wants it. */
    record AbandonPreCopy(DatasetId dataset, String reason) implements Change {
    }

    /** A change that makes an application's container: it needs every one of the application's datasets. */
    sealed interface ApplicationChange extends Change {
        Application application();

        @Override
        default DatasetId dataset() {
            return application().datasets().isEmpty() ? null : application().datasets().get(0);
        }

        @Override
        default List<DatasetId> datasets() {
            return application().datasets();
        }
    }

    /**
     * Starts an application's container (the one made by {@link CreateApplication} when it is there and current); its
     * datasets are local and writable. {@code made}: discovery found that container made and current, so starting it is
     * all there is to do (a handoff's outage: no look at it first); if it is gone or cannot start as it is, it is made
     * again as when not {@code made}.
     */
    record StartApplication(Application application, boolean made) implements ApplicationChange {
        public StartApplication(Application application) {
            this(application, false);
        }
    }

    /**
     * Makes the container of an application configured here whose datasets are not writable here yet (a move towards
     * this host, during its pre-copy), without starting it: the handoff's outage then only has to start it.
     */
    record CreateApplication(Application application) implements ApplicationChange {
    }

    /** Replaces a container whose configuration changed. */
    record RestartApplication(Application application) implements ApplicationChange {
    }

    /** Stops and removes an application's container. */
    record StopApplication(String name, DatasetId volume) implements Change {
        @Override
        public DatasetId dataset() {
            return volume;
        }
    }

    /**
     * Loads an image this host lacks (one flocker-deploy built and uploaded) from the control service, in the background,
     * as soon as an application that runs it is configured here: during a move's pre-copy, not in its outage.
     */
    record FetchImage(String imageId, String application) implements Change {
        @Override
        public DatasetId dataset() {
            return null;
        }
    }

    /**
     * Ships what changed since each standby's newest snapshot to each of {@code to} in turn, in the background, then prunes
     * this copy's snapshots, never one a standby's next increment starts from. Planned again once it ended and the
     * replication interval passed, so a standby's lag stays about one interval plus one increment's shipping.
     */
    record Replicate(DatasetId dataset, List<Peer> to) implements Change {
        public Replicate {
            to = List.copyOf(to);
        }
    }

    /**
     * The control service promoted this host's standby copy because its primary's node stopped reporting: record this
     * host as the owner at {@code generation} (greater than any the old line reached) and make the copy writable.
     */
    record TakeOver(DatasetId dataset, long generation) implements Change {
    }

    /**
     * This host's copy was the primary of a line that a failover ended (a standby elsewhere was promoted at a newer
     * generation): it may hold writes the new primary never got. It is renamed aside, kept read-only with every snapshot
     * for the operator to read, never destroyed; the new primary then sends this host a fresh standby copy.
     */
    record SetAside(DatasetId dataset, long generation) implements Change {
    }

    /**
     * This node's lease lapsed: the applications using this copy of a dataset with standbys are stopped at once (a short
     * grace, then killed) and the copy made read-only, so that it is not written when a standby may be promoted.
     */
    record Fence(DatasetId dataset) implements Change {
    }

    /** Destroys this copy's old snapshots but the newest {@code keepNewest} (a standby's: the primary ships from its newest). */
    record PruneSnapshots(DatasetId dataset, int keepNewest) implements Change {
    }

    /** Another host as this host ships to it. */
    record Peer(NodeId node, String host, String datasetRoot) {
    }
}
