package dev.flocker.agent;

import dev.flocker.lab.Lab;
import java.util.List;

/**
 * A steady load on the lab's cores for a benchmark's whole run, so that its floors and ours are measured under the same
 * one: on n1 an application writes 16 MiB of random data into a ZFS dataset of its own and fsyncs it, over and over (CPU
 * for the random data, then zfs-fuse's write path, which every ZFS call of a move shares); on n2 one spins a CPU.
 */
final class Load {
    static final String DESCRIPTION = "a writing application on n1 (16 MiB from /dev/urandom, fsynced, over and over, into a ZFS"
            + " dataset) and a CPU-bound one on n2, both running through every measurement";
    private static final String NAME = "bench-load";
    private static final String IMAGE = "flocker/busybox:local";

    private Load() {
    }

    static void start(Lab lab) {
        var dataset = lab.host(1).pool() + "/" + NAME;
        var mount = lab.host(1).dir().resolve(NAME);
        BenchSupport.run(lab, 1, List.of("zfs", "create", "-o", "mountpoint=" + mount, dataset));
        docker(lab, 1, "run", "-d", "--name", NAME, "-v", mount + ":/data", IMAGE, "sh", "-c",
                "while true; do dd if=/dev/urandom of=/data/load bs=1M count=16 conv=fsync 2>/dev/null; done");
        docker(lab, 2, "run", "-d", "--name", NAME, IMAGE, "sh", "-c", "while true; do :; done");
    }

    /** Removes the load's containers and dataset; nothing to do when there are none. */
    static void stop(Lab lab) {
        for (int i = 1; i <= 2; i++) {
            BenchSupport.tryRun(lab, i, List.of("/usr/bin/docker", "-H", lab.host(i).dockerHost(), "rm", "-f", NAME));
        }
        BenchSupport.tryRun(lab, 1, List.of("zfs", "destroy", "-r", lab.host(1).pool() + "/" + NAME));
    }

    private static void docker(Lab lab, int host, String... args) {
        var command = new java.util.ArrayList<>(List.of("/usr/bin/docker", "-H", lab.host(host).dockerHost()));
        command.addAll(List.of(args));
        BenchSupport.run(lab, host, command);
    }
}
