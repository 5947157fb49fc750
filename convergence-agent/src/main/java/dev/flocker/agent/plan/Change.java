package dev.flocker.agent.plan;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;

/** One thing the agent does to its host. Plain values: the planner makes them, executors carry them out. */
public sealed interface Change {

    /** The dataset this change is about, or null for changes about an application alone. */
    DatasetId dataset();

    /** A new, empty dataset owned by this host; only where no host holds or held it. */
    record CreateDataset(DatasetId dataset, Long maximumSize) implements Change {
    }

    record ResizeDataset(DatasetId dataset, Long maximumSize) implements Change {
    }

    /** This host owns the dataset: mount it read-write. */
    record MakeWritable(DatasetId dataset) implements Change {
    }

    /** This host's copy is not the owner's (any more): unmounted and read-only. */
    record MakeReplica(DatasetId dataset, String reason) implements Change {
    }

    /** Destroys this host's copy (the configuration deleted the dataset). */
    record DeleteDataset(DatasetId dataset) implements Change {
    }

    /**
     * Moves the writable copy to another host: pre-copy while applications keep running, then the handoff (stop the
     * applications using it here, final increment, ownership to {@code to} at {@code generation}).
     *
     * @param precopy false when the target waits to mount it (it holds the lease) and no application goes with it:
     *                nothing writes it meanwhile, so the handoff's one send is the whole copy and a pre-copy round
     *                would only add latency to the target's wait (the mover still pre-copies if it finds a writer)
     */
    record MoveDataset(DatasetId dataset, Peer to, long generation, boolean precopy) implements Change {
    }

    /** This host handed the dataset over but the new owner's copy does not record it yet: record it there. */
    record CompleteHandoff(DatasetId dataset, Peer to, long generation) implements Change {
    }

    /** Starts an application's container; {@code volume} is its dataset, which is local and writable. */
    record StartApplication(Application application, DatasetId volume) implements Change {
        @Override
        public DatasetId dataset() {
            return volume;
        }
    }

    /** Replaces a container whose configuration changed. */
    record RestartApplication(Application application, DatasetId volume) implements Change {
        @Override
        public DatasetId dataset() {
            return volume;
        }
    }

    /** Stops and removes an application's container. */
    record StopApplication(String name, DatasetId volume) implements Change {
        @Override
        public DatasetId dataset() {
            return volume;
        }
    }

    /** Another host as this host ships to it. */
    record Peer(NodeId node, String host, String datasetRoot) {
    }
}
