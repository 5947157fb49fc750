package dev.flocker.agent;

import dev.flocker.volume.Volume;
import dev.flocker.volume.zfs.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The agent must see the mounts ZFS makes: it mounts datasets, binds them into containers and checks what is mounted.
 * An agent started in a private mount namespace (which {@code ip netns exec} makes) sees none of zfs-fuse's mounts:
 * {@code zfs get} says mounted while its own {@code zfs mount} fails "busy" on every loop. Detected at start-up: the
 * agent's mount namespace against the zfs-fuse daemon's, and the datasets ZFS calls mounted against this process's
 * mount table.
 */
final class MountNamespace {
    static final String HOW_TO = "start the agent in the host's mount namespace; inside a network namespace use"
            + " 'nsenter --net=/run/netns/<name> bin/flocker-agent ...' (what 'flocker-lab exec' does), never 'ip netns exec',"
            + " which also gives it a private mount namespace";

    private MountNamespace() {
    }

    /** Why this process cannot see the datasets' mounts, if it cannot. */
    static Optional<String> problem(List<Volume> volumes) {
        var mine = namespace(Path.of("/proc/self"));
        var daemon = zfsFuse();
        if (mine.isPresent() && daemon.isPresent()) {
            var theirs = namespace(daemon.get());
            if (theirs.isPresent() && !theirs.get().equals(mine.get())) {
                return Optional.of("this agent runs in mount namespace " + mine.get() + " but zfs-fuse (pid " + daemon.get().getFileName()
                        + ") mounts datasets in " + theirs.get() + ", so the agent would never see them mounted; " + HOW_TO);
            }
        }
        Set<String> mounted;
        try {
            mounted = MountTable.read().mountPoints();
        } catch (java.io.UncheckedIOException e) {
            return Optional.empty(); // no /proc: nothing to compare
        }
        return unseen(volumes, mounted).map(v -> "ZFS says dataset " + v.id() + " is mounted at " + v.mountpoint()
                + " but this agent's mount table has no such mount; " + HOW_TO);
    }

    /** A dataset ZFS calls mounted that the mount table {@code mounted} lacks. */
    static Optional<Volume> unseen(List<Volume> volumes, Set<String> mounted) {
        return volumes.stream().filter(v -> v.mounted() && v.mountpoint() != null && !mounted.contains(v.mountpoint().toString())).findFirst();
    }

    private static Optional<String> namespace(Path process) {
        try {
            return Optional.of(Files.readSymbolicLink(process.resolve("ns/mnt")).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** The {@code /proc/<pid>} of the zfs-fuse daemon, when one runs (kernel ZFS has none). */
    private static Optional<Path> zfsFuse() {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().matches("[0-9]+")).filter(p -> {
                try {
                    return Files.readString(p.resolve("comm")).strip().equals("zfs-fuse");
                } catch (IOException e) {
                    return false;
                }
            }).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
