package dev.flocker.volume.bench;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabHost;
import dev.flocker.volume.FileTree;
import dev.flocker.volume.transfer.DatasetShipper;
import dev.flocker.volume.transfer.Peer;
import dev.flocker.volume.transfer.SshConnections;
import dev.flocker.volume.transfer.TransferResult;
import dev.flocker.volume.zfs.ZfsCommand;
import dev.flocker.volume.zfs.ZfsConfig;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Our SSH transfer against its floors, measured in one run on the same data between two lab hosts:
 * a local {@code zfs send | zfs recv} pipe, and {@code zfs send | ssh -c aes128-gcm@openssh.com host zfs recv}.
 * Each baseline includes its {@code zfs snapshot}, as our push does (ours also negotiates the common
 * snapshot and verifies the guid on the peer). Prints min/median/max and ratios as Markdown.
 *
 * <p>Run with {@code scripts/bench-transfer.sh [repeats]}.
 */
public final class TransferBenchmark {
    private static final long MIB = 1 << 20;
    private static final NodeId NODE = NodeId.of("11111111-1111-4111-8111-111111111111");
    private static final String LAB = "bench";

    private final Lab lab;
    private final LabHost h1;
    private final LabHost h2;
    private final ZfsCommand zfs = new ZfsCommand();
    private final ZfsVolumeDriver source;
    private final ZfsVolumeDriver target;
    private final SshConnections ssh;
    private DatasetShipper shipper;
    private final Peer peer;
    private final Map<String, List<Double>> seconds = new LinkedHashMap<>();
    private final Map<String, Long> bytes = new LinkedHashMap<>();

    private TransferBenchmark(Lab lab) {
        this.lab = lab;
        h1 = lab.host(1);
        h2 = lab.host(2);
        source = ZfsVolumeDriver.open(ZfsConfig.existingPool(h1.pool(), h1.mountRoot()));
        target = ZfsVolumeDriver.open(ZfsConfig.existingPool(h2.pool(), h2.mountRoot()));
        ssh = new SshConnections(lab.sshPrivateKey(), Duration.ofSeconds(10));
        shipper = new DatasetShipper(source, ssh);
        peer = Peer.root(h2.ip(), h2.sshHostKey(), h2.pool());
    }

    public static void main(String[] args) throws Exception {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long fullMiB = args.length > 1 ? Long.parseLong(args[1]) : 1024;
        Lab.down(LAB);
        try (var lab = Lab.upWithPoolSize(LAB, 2, "12G")) {
            var bench = new TransferBenchmark(lab);
            try {
                bench.run(repeats, fullMiB);
            } finally {
                bench.ssh.close();
            }
        }
    }

    private void run(int repeats, long fullMiB) throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE).mountpoint();
        FileTree.writeRandom(mount.resolve("base.bin"), fullMiB * MIB, 1);
        var ds = h1.pool() + "/" + id;
        var localCopy = h2.pool() + "/local-" + id;
        var sshCopy = h2.pool() + "/openssh-" + id;
        ssh.session(peer); // ours reuses one session, as the agent does

        // Full sends: each method into a fresh copy on host 2.
        for (int r = 0; r < repeats; r++) {
            var local = timeShell("local", ds, "zfs send " + ds + "@%s | zfs recv -F " + localCopy);
            record("full/local", local, fullMiB * MIB);
            var openssh = timeShell("openssh", ds, "zfs send " + ds + "@%s | " + sshCommand("zfs recv -F " + sshCopy));
            record("full/openssh", openssh, fullMiB * MIB);
            // A first push to a peer, as after an agent start: no hint about the peer's snapshots.
            var ours = new DatasetShipper(source, ssh).start(id, peer).await(Duration.ofMinutes(10));
            record("full/ours", ours);
            if (r < repeats - 1) {
                zfs.zfs("destroy", "-r", localCopy);
                zfs.zfs("destroy", "-r", sshCopy);
                target.destroy(id);
            }
        }
        shipper = new DatasetShipper(source, ssh);
        shipper.start(id, peer).await(Duration.ofMinutes(1)); // the agent's steady state: it knows what it last sent
        // Incrementals: every method has a replica now; write a delta, then each ships it from its own last snapshot.
        var last = new LinkedHashMap<String, String>();
        last.put("local", latestSnapshot(localCopy));
        last.put("openssh", latestSnapshot(sshCopy));
        for (long deltaMiB : new long[] {10, 100}) {
            for (int r = 0; r < repeats + 2; r++) {
                FileTree.writeRandom(mount.resolve("delta-" + deltaMiB + "-" + r + ".bin"), deltaMiB * MIB, 100 + r);
                var key = "incr" + deltaMiB + "/";
                var local = timeShell("local", ds, "zfs send -i " + ds + "@" + last.get("local") + " " + ds + "@%s | zfs recv -F " + localCopy);
                last.put("local", local.snapshot);
                record(key + "local", local, deltaMiB * MIB);
                var openssh = timeShell("openssh", ds, "zfs send -i " + ds + "@" + last.get("openssh") + " " + ds + "@%s | "
                        + sshCommand("zfs recv -F " + sshCopy));
                last.put("openssh", openssh.snapshot);
                record(key + "openssh", openssh, deltaMiB * MIB);
                record(key + "ours", shipper.start(id, peer).await(Duration.ofMinutes(10)));
            }
        }
        report(repeats, fullMiB);
    }

    private String sshCommand(String remote) {
        return "ssh -c aes128-gcm@openssh.com -i " + lab.adminKey() + " -o UserKnownHostsFile=" + lab.knownHosts()
                + " -o StrictHostKeyChecking=yes -o BatchMode=yes root@" + h2.ip() + " " + remote;
    }

    private record Timed(double seconds, String snapshot) {
    }

    /** Times {@code zfs snapshot} plus the pipeline (with %s = the new snapshot), run in host 1's namespace. */
    private Timed timeShell(String label, String dataset, String pipeline) throws Exception {
        var snapshot = label + "-" + System.nanoTime();
        long start = System.nanoTime();
        zfs.zfs("snapshot", dataset + "@" + snapshot);
        var process = new ProcessBuilder(h1.inNamespace("bash", "-c", "set -o pipefail; " + pipeline.formatted(snapshot)))
                .redirectErrorStream(true).start();
        var out = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException(label + " pipeline failed: " + out);
        }
        return new Timed((System.nanoTime() - start) / 1e9, snapshot);
    }

    private void record(String key, Timed timed, long dataBytes) {
        seconds.computeIfAbsent(key, k -> new ArrayList<>()).add(timed.seconds());
        bytes.put(key, dataBytes);
    }

    private void record(String key, TransferResult result) {
        seconds.computeIfAbsent(key, k -> new ArrayList<>()).add(result.duration().toNanos() / 1e9);
        bytes.putIfAbsent(key, bytes.getOrDefault(key.replace("ours", "local"), result.bytes()));
    }

    private String latestSnapshot(String dataset) {
        var lines = zfs.zfs("list", "-H", "-o", "name", "-t", "snapshot", "-s", "createtxg", "-r", dataset).strip().split("\n");
        var last = lines[lines.length - 1];
        return last.substring(last.indexOf('@') + 1);
    }

    private void report(int repeats, long fullMiB) {
        System.out.printf("%n## Transfer benchmark: %d MiB full, 10 and 100 MiB incrementals; n=%d (incrementals n=%d)%n%n",
                fullMiB, repeats, repeats + 2);
        System.out.println("| case | method | seconds min/median/max | MiB/s at median | vs local (time) | vs OpenSSH (throughput) |");
        System.out.println("|---|---|---|---|---|---|");
        for (var group : List.of("full", "incr10", "incr100")) {
            double local = median(seconds.get(group + "/local"));
            double openssh = median(seconds.get(group + "/openssh"));
            for (var method : List.of("local", "openssh", "ours")) {
                var values = seconds.get(group + "/" + method).stream().sorted().toList();
                double med = median(values);
                double mib = bytes.get(group + "/" + method) / (double) MIB / med;
                System.out.printf("| %s | %s | %.3f / %.3f / %.3f | %.0f | %.2fx | %.2fx |%n", group, method,
                        values.get(0), med, values.get(values.size() - 1), mib, med / local, openssh / med);
            }
        }
        // The first full push is this JVM's first transfer (JSch's and the shipper's code cold), as an agent's first move is.
        System.out.println();
        System.out.println("Full sends in the order run (seconds; ours' first is the JVM's first transfer):");
        for (var method : List.of("local", "openssh", "ours")) {
            System.out.println("- " + method + ": " + seconds.get("full/" + method).stream().map(v -> String.format("%.3f", v)).toList());
        }
        System.out.println();
        System.out.println("Ours: one persistent JSch session (aes128-gcm), snapshot + common-snapshot lookup + stream + guid check.");
        System.out.println("OpenSSH: a new ssh connection per transfer, as a shell pipeline would. Local: both pools on this machine.");
    }

    private static double median(List<Double> values) {
        var sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
