package dev.flocker.volume.transfer;

import dev.flocker.api.model.NodeId;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.util.List;

/**
 * Every zfs command this host runs on a peer over SSH, built in one place. The cluster's SSH key may run only these
 * forms there ({@code bin/flocker-ssh-command}, the forced command); a test runs each through it, so the two cannot
 * drift apart. Parts joined by {@code " && "} run in order on the peer and stop at the first failure.
 *
 * <p>{@code dataset} is always {@code <peer root>/<dataset id>} and {@code snapshot} a name this host's driver made:
 * callers validate both before they reach here (the forced command checks them again).
 */
public final class RemoteZfs {
    private RemoteZfs() {
    }

    /**
     * Receives a send stream into {@code dataset}, and prints the guid of the snapshot it brought, so the sender can check
     * what arrived. A new replica is made unmounted and read-only at once, until it is handed over.
     */
    public static String receive(String dataset, String snapshot, boolean newReplica) {
        var parts = new java.util.ArrayList<>(List.of("zfs recv -F " + dataset));
        if (newReplica) {
            parts.add("zfs set mountpoint=none " + dataset);
            parts.add("zfs set readonly=on " + dataset);
        }
        parts.add("zfs get -H -p -o value guid " + dataset + "@" + snapshot);
        return String.join(" && ", parts);
    }

    /** Prints the dataset's recorded owner ("-" when none). */
    public static String owner(String dataset) {
        return "zfs get -H -o value " + ZfsVolumeDriver.OWNER + " " + dataset;
    }

    /** Prints the handoff generation recorded with the dataset ("-" when none). */
    public static String generation(String dataset) {
        return "zfs get -H -o value " + ZfsVolumeDriver.GENERATION + " " + dataset;
    }

    /** Prints the guid and createtxg of the dataset and every snapshot of it. */
    public static String snapshots(String dataset) {
        return "zfs get -H -p -r -o name,property,value guid,createtxg " + dataset;
    }

    /**
     * Destroys the dataset with its snapshots: only for what an interrupted full receive left behind, or a stale replica
     * (an older generation) that shares no snapshot with the sender.
     */
    public static String destroy(String dataset) {
        return "zfs destroy -r " + dataset;
    }

    /** Records a new owner and generation on the peer's copy: the last step of a handoff. */
    public static String passOwnership(String dataset, NodeId owner, long generation) {
        return "zfs set " + ZfsVolumeDriver.OWNER + "=" + owner + " " + dataset + " && zfs set " + ZfsVolumeDriver.GENERATION + "="
                + generation + " " + dataset;
    }
}
