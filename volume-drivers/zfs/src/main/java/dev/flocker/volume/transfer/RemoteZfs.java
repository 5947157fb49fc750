package dev.flocker.volume.transfer;

import dev.flocker.api.model.NodeId;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.util.List;
import java.util.Map;

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
     * what arrived. A new replica is made unmounted (mountpoint none) at once, and read-only unless it is the copy a
     * handoff's final increment creates ({@code askMount}: a first move), which is handed over next: {@code readonly=on}
     * there would only be undone by its host, one transaction group on the outage's path each way (a copy whose handoff
     * then fails is made read-only by its host's planner, as any copy it does not own). With
     * {@code askMount} the same {@code zfs get} also prints the copy's canmount,
     * mountpoint, readonly and mounted, so the sender knows whether passing ownership can also mount it
     * ({@link #passOwnership}); the output is then {@code zfs get}'s name, property, value lines ({@link #arrived}).
     */
    public static String receive(String dataset, String snapshot, boolean newReplica, boolean askMount) {
        var parts = new java.util.ArrayList<>(List.of(recv(dataset)));
        if (newReplica) {
            parts.add("zfs set mountpoint=none " + dataset);
            if (!askMount) {
                parts.add("zfs set readonly=on " + dataset);
            }
        }
        parts.add(askMount ? "zfs get -H -p -o name,property,value guid,canmount,mountpoint,readonly,mounted " + dataset + "@" + snapshot + " " + dataset
                : "zfs get -H -p -o value guid " + dataset + "@" + snapshot);
        return String.join(" && ", parts);
    }

    /**
     * The receive itself: {@code -u}, so it never mounts (an incremental receive does not mount anyway; a new replica's full
     * one would, at its inherited mountpoint, until the next part sets none). So a receive, however long its stream, never
     * needs the machine's mount lock on zfs-fuse ({@code ZfsFuseMounts}); the forced command runs it without.
     */
    public static String recv(String dataset) {
        return "zfs recv -F -u " + dataset;
    }

    /** What {@link #receive} printed: the guid of the snapshot that arrived, and what passing ownership can mount. */
    public record Arrived(String guid, PeerMount mount) {
    }

    /**
     * What the pass can do with the peer's copy, from what its final increment found ({@link #arrived}): a {@link Kind},
     * and for {@link Kind#REMOUNT} the copy's mountpoint.
     */
    public record PeerMount(Kind kind, String mountpoint) {
        public static final PeerMount NONE = new PeerMount(Kind.NONE, null);
        public static final PeerMount MOUNT = new PeerMount(Kind.MOUNT, null);
        public static final PeerMount UNLOCK_AND_MOUNT = new PeerMount(Kind.UNLOCK_AND_MOUNT, null);

        public enum Kind {
            /** No mountpoint (or one ZFS may mount by itself): the pass records the owner only; the peer's agent mounts it. */
            NONE,
            /** Prepared by its host (mountpoint, {@code canmount=noauto}, {@code readonly=off}): the pass mounts it. */
            MOUNT,
            /**
             * A mountpoint and {@code canmount=noauto}, still read-only (a former writable copy there, made a replica, that
             * its host had not prepared yet): the pass sets {@code readonly=off}, then mounts it.
             */
            UNLOCK_AND_MOUNT,
            /**
             * Mounted read-only at its mountpoint: frozen, the peer's own writable copy until it handed the dataset here a
             * moment ago (a move back within its handoff's tail, before its host made it a replica). The pass remounts
             * it read-write in the kernel ({@code mount -i -o remount,rw}, a few ms), as {@code makeWritable} does there
             * ({@code zfs mount} refuses a mounted file system). Its {@code readonly} property is off already: a freeze
             * remounts the kernel's mount only, and nothing sets the property on a mounted copy (a replica is unmounted
             * first); were it on all the same, the copy would mount read-only at its next mount, where its host's
             * {@code makeWritable} sets it off. Setting it here (a zfs-fuse sync task, 12-40 ms) ran beside the new
             * owner's arrival look in its pool.
             */
            REMOUNT
        }

        /** A frozen copy mounted at {@code mountpoint}. */
        public static PeerMount remount(String mountpoint) {
            if (!MOUNTPOINT.matcher(mountpoint).matches()) {
                throw new IllegalArgumentException("mountpoint " + mountpoint + " is not a path of [A-Za-z0-9_/-] ending in a dataset id");
            }
            return new PeerMount(Kind.REMOUNT, mountpoint);
        }

        @Override
        public String toString() {
            return kind == Kind.REMOUNT ? "REMOUNT " + mountpoint : kind.name();
        }
    }

    /** The mountpoints a pass may remount (the forced command allows exactly these): a dataset id under a plain path. */
    private static final java.util.regex.Pattern MOUNTPOINT = java.util.regex.Pattern.compile(
            "(/[A-Za-z0-9_-]+)+/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /**
     * Reads what {@link #receive} printed. A copy mounted read-only is frozen (the remount of a freeze shows as
     * {@code readonly=on}): the pass remounts it read-write. Otherwise, a copy with its mountpoint and
     * {@code canmount=noauto} is mounted by nothing but an explicit mount; with {@code readonly=off} too (prepared), the
     * mount is all it takes.
     */
    public static Arrived arrived(String dataset, String snapshot, boolean askMount, String output) {
        if (!askMount) {
            return new Arrived(output.strip(), PeerMount.NONE);
        }
        var props = dev.flocker.volume.zfs.ZfsGetOutput.parse(output.strip());
        var copy = props.getOrDefault(dataset, Map.of());
        var guid = props.getOrDefault(dataset + "@" + snapshot, Map.of()).getOrDefault("guid", "");
        var mountpoint = copy.getOrDefault("mountpoint", "");
        if ("yes".equals(copy.get("mounted")) && "on".equals(copy.get("readonly")) && MOUNTPOINT.matcher(mountpoint).matches()) {
            return new Arrived(guid, PeerMount.remount(mountpoint));
        }
        if (!"noauto".equals(copy.get("canmount")) || !mountpoint.startsWith("/")) {
            return new Arrived(guid, PeerMount.NONE);
        }
        return new Arrived(guid, "off".equals(copy.get("readonly")) ? PeerMount.MOUNT : PeerMount.UNLOCK_AND_MOUNT);
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

    /**
     * Records a new owner and generation on the peer's copy: the last step of a handoff. With {@code mount} other than
     * {@link PeerMount#NONE} (the copy has its mountpoint, mounted by nothing but an explicit mount), mounts it first (after
     * {@code readonly=off} where still read-only; a frozen copy is remounted read-write instead), in the same command: its host sees itself
     * the owner only once the copy is mounted, so it never has to guess whether the mount is still coming, and never
     * starts an application on the bare directory beneath. Nothing on that host writes a copy it does not own (its agent
     * starts no application on it), and a command cut off between the mount and the ownership is repeated without the
     * mount by the old owner until its host reports the generation. The owner and generation are one property, one call.
     */
    public static String passOwnership(String dataset, NodeId owner, long generation, PeerMount mount) {
        var command = "zfs set " + new dev.flocker.volume.zfs.Ownership(owner, generation).property() + " " + dataset + " && touch -c "
                + wakeFile(owner);
        return switch (mount.kind()) {
            case NONE -> command;
            case MOUNT -> "zfs mount " + dataset + " && " + command;
            case UNLOCK_AND_MOUNT -> "zfs set readonly=off " + dataset + " && zfs mount " + dataset + " && " + command;
            case REMOUNT -> "mount -i -o remount,rw " + mount.mountpoint() + " && " + command;
        };
    }

    /**
     * The file whose change wakes {@code node}'s agent at once (it watches it), touched last by {@link #passOwnership}: the
     * new owner starts the applications without waiting for its next look at ZFS. Never created by the toucher
     * ({@code touch -c}), so a host whose agent does not watch is left as it was.
     */
    public static java.nio.file.Path wakeFile(NodeId node) {
        return WAKE_DIRECTORY.resolve(node.toString());
    }

    /** Where agents keep their wake files, one per node (lab hosts share one file system). */
    public static final java.nio.file.Path WAKE_DIRECTORY = java.nio.file.Path.of("/run/flocker/wake");
}
