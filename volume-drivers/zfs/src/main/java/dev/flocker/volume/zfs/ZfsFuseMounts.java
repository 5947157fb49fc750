package dev.flocker.volume.zfs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * On zfs-fuse, the {@code zfs} commands that mount a file system run one at a time on the machine.
 *
 * <p>zfs-fuse's daemon hands each new mount to its FUSE threads through one pipe, in two writes (the mount's handle,
 * then its path) that nothing keeps together: two mounts at once (two {@code zfs} processes, each served by a daemon
 * thread of its own) can interleave them. The reading thread then takes path bytes for a length and waits, holding
 * the lock every FUSE thread needs, for up to ~2 GB that never come: every mount on the machine stops answering until
 * the daemon is restarted (seen: a thread in {@code read(pipe, ..., 0x746e6d16)}, "\x16mnt" of a path; DESIGN.md,
 * "zfs-fuse"). So each such command runs under {@code flock(1)} on {@link #LOCK}, which the SSH forced command
 * ({@code bin/flocker-ssh-command}) takes for its receives and mounts too. OpenZFS has no such daemon (no
 * {@link #SOCKET}): nothing is wrapped there.
 */
public final class ZfsFuseMounts {
    /** The lock file, shared by every process of the machine that mounts through zfs-fuse. */
    public static final String LOCK = "/run/flocker-zfs-fuse-mounts.lock";
    /** zfs-fuse's command socket; its presence is what tells zfs-fuse from OpenZFS. */
    public static final Path SOCKET = Path.of("/var/run/zfs/zfs_socket");
    /** Subcommands that can mount a file system (receives apart: {@link #RECEIVE}). */
    private static final Set<String> MOUNTING = Set.of("create", "mount", "rollback", "rename", "clone", "promote");
    /**
     * A receive mounts only the file system a full stream creates, and not with {@code -u} (an incremental one, with or
     * without -F, mounts nothing: no mount(2) of zfs-fuse's daemon seen under strace).
     */
    private static final Set<String> RECEIVE = Set.of("recv", "receive");

    private ZfsFuseMounts() {
    }

    /** {@code command} as run here: under the lock when it mounts and ZFS is zfs-fuse. */
    static List<String> wrap(List<String> command) {
        return wrap(command, Files.exists(SOCKET));
    }

    static List<String> wrap(List<String> command, boolean zfsFuse) {
        if (!zfsFuse || command.isEmpty() || !mounts(command.get(0), command.subList(1, command.size()))) {
            return command;
        }
        var wrapped = new ArrayList<String>(command.size() + 2);
        wrapped.add("flock");
        wrapped.add(LOCK);
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Whether {@code <tool> <args>} can mount a file system: a new pool's or an imported one's root, a zfs command of
     * {@link #MOUNTING}, a receive without {@code -u}, a mountpoint changed to a path, a changed canmount.
     */
    static boolean mounts(String tool, List<String> args) {
        if (args.isEmpty()) {
            return false;
        }
        if (tool.equals("zpool")) {
            return args.get(0).equals("create") || args.get(0).equals("import");
        }
        if (!tool.equals("zfs")) {
            return false;
        }
        if (RECEIVE.contains(args.get(0))) {
            return args.stream().skip(1).noneMatch(a -> a.matches("-[A-Za-z]*u[A-Za-z]*"));
        }
        if (MOUNTING.contains(args.get(0))) {
            return true;
        }
        if (args.get(0).equals("set") || args.get(0).equals("inherit")) {
            // mountpoint=none unmounts, and zfs-fuse's daemon mounts nothing for it (strace): the only form peers send.
            return args.stream().anyMatch(a -> (a.startsWith("mountpoint") && !a.equals("mountpoint=none")) || a.startsWith("canmount"));
        }
        return false;
    }
}
