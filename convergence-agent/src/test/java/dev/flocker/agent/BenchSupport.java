package dev.flocker.agent;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** What the benchmarks share: test data and the statistics they print. */
final class BenchSupport {
    private BenchSupport() {}

    /**
     * Unless {@code FLOCKER_BENCH_KEEP} is set: removes the benchmark's lab and its work directory (the agents' logs and
     * configuration, the cluster's certificates and keys); else says what it kept.
     */
    static void cleanUp(String lab, Path work) {
        if (!System.getenv().getOrDefault("FLOCKER_BENCH_KEEP", "").isEmpty()) {
            System.out.println("Kept " + work + " and the lab " + lab + " (FLOCKER_BENCH_KEEP); remove it with bin/flocker-lab down --name " + lab);
            return;
        }
        dev.flocker.lab.Lab.down(lab);
        try {
            dev.flocker.lab.FileTrees.delete(work);
        } catch (IOException e) {
            System.err.println("cannot remove " + work + ": " + e.getMessage());
        }
    }

    /** Writes {@code sizeMiB} MiB of incompressible data and syncs it. */
    static void fill(Path file, int sizeMiB) throws IOException {
        var block = new byte[1 << 20];
        var random = new Random(42);
        random.nextBytes(block);
        try (var out = new RandomAccessFile(file.toFile(), "rw")) {
            for (int i = 0; i < sizeMiB; i++) {
                block[i % block.length] ^= (byte) i;
                out.write(block);
            }
            out.getFD().sync();
        }
    }

    static double median(List<Double> values) {
        var sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    static String stats(List<Double> values) {
        var sorted = values.stream().sorted().toList();
        return String.format("%.0f/%.0f/%.0f", sorted.get(0), median(values), sorted.get(sorted.size() - 1));
    }

    /** Runs {@code command} in lab host {@code host}'s namespace; its output. */
    static String run(dev.flocker.lab.Lab lab, int host, List<String> command) {
        return lab.exec(lab.host(host), command.toArray(String[]::new));
    }

    /**
     * Destroys a floor's dataset on host {@code host}'s pool, if it is there: zfs-fuse calls a dataset written through its
     * mount busy unless it is unmounted first, and sometimes for a moment after; a few attempts, failures ignored.
     */
    static void destroyDataset(dev.flocker.lab.Lab lab, int host, String dataset) {
        for (int attempt = 0; attempt < 5 && run(lab, host, List.of("zfs", "list", "-H", "-o", "name", "-r", lab.host(host).pool()))
                .lines().anyMatch(dataset::equals); attempt++) {
            tryRun(lab, host, List.of("zfs", "unmount", "-f", dataset));
            tryRun(lab, host, List.of("zfs", "destroy", "-r", dataset));
        }
    }

    /** As {@link #run}, for cleanup of what may not exist (any failure is ignored). */
    static void tryRun(dev.flocker.lab.Lab lab, int host, List<String> command) {
        try {
            run(lab, host, command);
        } catch (RuntimeException e) {
            // nothing to clean up
        }
    }
}
