package dev.flocker.agent;

import static dev.flocker.agent.BenchSupport.fill;
import static dev.flocker.agent.BenchSupport.median;
import static dev.flocker.agent.BenchSupport.stats;

import dev.flocker.lab.Lab;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Docker plugin benchmark: how long {@code docker run --rm -v vol:/data busybox true} takes on a host that does not have
 * the volume (the plugin's Mount moves it there), against floors measured in the same run on the same hosts:
 * <ul>
 * <li>{@code local run}: the same command where the volume already is (Docker's own cost of a plugin volume);</li>
 * <li>{@code full send}: {@code zfs snapshot} + full {@code zfs send | ssh zfs recv} of the same amount of data over an
 *     open OpenSSH ControlMaster (aes128-gcm), plus a local run: a first move by hand;</li>
 * <li>{@code incr send}: the same with an incremental send of 1 MiB (what changed since the last move): later moves
 *     by hand.</li>
 * </ul>
 * The first move of a volume must ship all of it; later moves back and forth ship only what the container changed.
 * Volumes up to 256 MiB get one first move each of {@code moves} volumes (the full sends by hand as many), and the
 * report shows the agents' first transfer since they started apart from the others.
 *
 * <p>Run with {@code scripts/bench-plugin.sh [moves=5] [sizes in MiB=64,1024]}.
 */
public final class PluginMountBenchmark {
    private static final String LAB = "bplugin";
    private static final String IMAGE = "flocker/busybox:local";

    private final LabCluster cluster;
    private final Lab lab;

    private PluginMountBenchmark(LabCluster cluster) {
        this.cluster = cluster;
        this.lab = cluster.lab;
    }

    public static void main(String[] args) throws Exception {
        int moves = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        var sizes = args.length > 1 ? Arrays.stream(args[1].split(",")).map(Integer::parseInt).toList() : List.of(64, 1024);
        Lab.down(LAB);
        var lab = Lab.upWithPoolSize(LAB, 2, "8G", "busybox");
        var work = Files.createTempDirectory("flocker-bench-plugin");
        var report = new StringBuilder(String.format("%-9s %-22s %-4s %-22s %s%n", "volume", "what", "n", "ms min/median/max", "vs floor"));
        try (var cluster = new LabCluster(lab, work); var ssh = new SshMasters(lab)) {
            for (int i = 1; i <= 2; i++) {
                cluster.startAgent(i, ""); // each loop's timing in its debug line, as every LabCluster agent logs it
            }
            cluster.await("both agents report", 60, () -> cluster.client.nodes().size() == 2);
            var bench = new PluginMountBenchmark(cluster);
            for (int size : sizes) {
                bench.measure(size, moves, ssh, report);
                System.out.print(report);
            }
        } finally {
            System.out.println();
            System.out.print(report);
            BenchSupport.cleanUp(LAB, work);
        }
    }

    private void measure(int sizeMiB, int moves, SshMasters ssh, StringBuilder report) throws Exception {
        // One volume per first move: a volume moves whole only once. The first of them is the agents' first transfer
        // since they started (their sending code cold), the others are what a running agent's first move of a volume costs.
        int firstMoves = sizeMiB <= 256 ? moves : 1;
        var names = new ArrayList<String>();
        for (int v = 0; v < firstMoves; v++) {
            var volume = "bench" + sizeMiB + (v == 0 ? "" : "-" + v);
            cluster.docker(1, "volume", "create", "-d", "flocker", volume);
            cluster.docker(1, "run", "--rm", "-v", volume + ":/data", IMAGE, "true");
            fill(cluster.mountpoint(1, cluster.named(volume).get(0).datasetId()).resolve("fill"), sizeMiB);
            names.add(volume);
        }
        var name = names.get(0);

        var local = new ArrayList<Double>();
        for (int i = 0; i < moves; i++) {
            local.add(timed(() -> cluster.docker(1, "run", "--rm", "-v", name + ":/data", IMAGE, "true")));
        }
        // Each run changes 1 MiB, as an application would between moves.
        var write = "dd if=/dev/urandom of=/data/delta bs=1M count=1 2>/dev/null";
        var first = new ArrayList<Double>();
        for (var volume : names) {
            first.add(timed(() -> cluster.docker(2, "run", "--rm", "-v", volume + ":/data", IMAGE, "sh", "-c", write)));
        }
        var later = new ArrayList<Double>();
        for (int m = 0; m < moves; m++) {
            int to = m % 2 == 0 ? 1 : 2;
            later.add(timed(() -> cluster.docker(to, "run", "--rm", "-v", name + ":/data", IMAGE, "sh", "-c", write)));
        }
        var floors = floors(sizeMiB, moves, firstMoves, ssh);
        double localMedian = median(local);
        var full = floors.get(0).stream().map(ms -> ms + localMedian).toList();
        var incremental = floors.get(1).stream().map(ms -> ms + localMedian).toList();
        report.append(row(sizeMiB, "local run (floor)", local, localMedian));
        report.append(row(sizeMiB, "full send + local run", full, median(full)));
        report.append(row(sizeMiB, "ours, first move", first, median(full)));
        if (first.size() > 1) {
            report.append(row(sizeMiB, "  agents' first", first.subList(0, 1), median(full)));
            report.append(row(sizeMiB, "  the others", first.subList(1, first.size()), median(full)));
        }
        report.append(row(sizeMiB, "incr send + local run", incremental, median(incremental)));
        report.append(row(sizeMiB, "ours, later moves", later, median(incremental)));
        for (var volume : names) {
            cluster.docker(1, "volume", "rm", volume);
        }
    }

    /** Full and 1 MiB incremental {@code zfs send | ssh zfs recv} of {@code sizeMiB} between the hosts, in ms each. */
    private List<List<Double>> floors(int sizeMiB, int moves, int fullSends, SshMasters ssh) throws Exception {
        var source = lab.host(1).pool() + "/floor" + sizeMiB;
        var target = lab.host(2).pool() + "/floor" + sizeMiB;
        var mount = lab.host(1).dir().resolve("floor" + sizeMiB);
        var full = new ArrayList<Double>();
        var incremental = new ArrayList<Double>();
        try {
            zfs("create", "-o", "mountpoint=" + mount, source);
            fill(mount.resolve("fill"), sizeMiB);
            for (int i = 0; i < fullSends; i++) {
                int round = i;
                full.add(timed(() -> {
                    zfs("snapshot", source + "@full" + round);
                    ssh.pipe(1, 2, "zfs send " + source + "@full" + round, "zfs recv -F " + target);
                }));
                if (i + 1 < fullSends) {
                    zfs("destroy", "-r", target);
                }
            }
            var previous = "full" + (fullSends - 1);
            for (int i = 0; i < moves; i++) {
                fillDelta(mount);
                var snapshot = "inc" + i;
                var from = previous;
                incremental.add(timed(() -> {
                    zfs("snapshot", source + "@" + snapshot);
                    ssh.pipe(1, 2, "zfs send -i @" + from + " " + source + "@" + snapshot, "zfs recv -F " + target);
                }));
                previous = snapshot;
            }
        } finally {
            for (var dataset : List.of(target, source)) {
                try {
                    zfs("unmount", "-f", dataset);
                } catch (RuntimeException e) {
                    // not mounted
                }
                try {
                    zfs("destroy", "-r", dataset);
                } catch (RuntimeException e) {
                    System.out.println("could not destroy " + dataset + ": " + e.getMessage());
                }
            }
        }
        return List.of(full, incremental);
    }

    private static void fillDelta(java.nio.file.Path mount) throws java.io.IOException {
        var bytes = new byte[1 << 20];
        new java.util.Random().nextBytes(bytes);
        Files.write(mount.resolve("delta"), bytes);
        try (var channel = java.nio.channels.FileChannel.open(mount.resolve("delta"), java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private String zfs(String... args) {
        var command = new ArrayList<>(List.of("zfs"));
        command.addAll(List.of(args));
        return lab.exec(lab.host(1), command.toArray(String[]::new));
    }

    private interface Step {
        void run() throws Exception;
    }

    private static double timed(Step step) throws Exception {
        long start = System.nanoTime();
        step.run();
        return (System.nanoTime() - start) / 1e6;
    }

    private static String row(int sizeMiB, String what, List<Double> values, double floorMedian) {
        return String.format("%-9s %-22s %-4d %-22s %.2fx%n", sizeMiB + " MiB", what, values.size(), stats(values), median(values) / floorMedian);
    }
}
