package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.LabException;
import dev.flocker.lab.LabExtension.WithLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Agents on two lab hosts with a real control service, real ZFS, dockerd and sshd: datasets and applications are
 * created, moved and deleted through the HTTP API, agents are killed with SIGKILL at the worst moments, and a watcher
 * sampling both hosts' ZFS properties checks that there are never two writable copies.
 */
@Tag("e2e")
@WithLab(name = "tagent", nodes = 2)
class MovesTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);
    private OwnerWatcher watcher;

    @AfterEach
    void checkWatcher() throws Exception {
        if (watcher != null) {
            watcher.close();
            assertThat(watcher.violations).as("moments with two writable copies").isEmpty();
            assertThat(watcher.samples).as("watcher samples").isGreaterThan(5);
            watcher = null;
        }
    }

    @Test
    void aDatasetIsCreatedMovedAndMovedBackWithItsData() throws Exception {
        var id = cluster.client.createDataset(N1, 256L << 20, Map.of("name", "moved"), null, null).datasetId();
        watcher = new OwnerWatcher(cluster, id);
        cluster.await("n1 mounts the new dataset", 30, () -> N1.equals(cluster.primaryOf(id)));
        var files = writeFiles(cluster.mountpoint(1, id), 20, 1 << 20);

        cluster.client.moveDataset(id, N2);
        cluster.await("n2 holds the writable copy", 60, () -> N2.equals(cluster.primaryOf(id)));
        assertThat(checksums(cluster.mountpoint(2, id))).isEqualTo(files);
        var more = writeFiles(cluster.mountpoint(2, id), 3, 4096);

        cluster.client.moveDataset(id, N1);
        cluster.await("n1 holds the writable copy again", 60, () -> N1.equals(cluster.primaryOf(id)));
        var all = new TreeMap<>(files);
        all.putAll(more);
        assertThat(checksums(cluster.mountpoint(1, id))).isEqualTo(all);
        // A loop a second or so after the handoff passed ownership makes the old copy a read-only replica.
        cluster.await("n2's copy is a read-only replica", 30,
                () -> zfs("get", "-H", "-o", "value", "readonly", cluster.host(2).pool() + "/" + id).strip().equals("on"));
        // Ownership is passed once per handoff: the old owner waits for the new one's report instead of writing again.
        Thread.sleep(3000);
        long passes = 0;
        for (int host = 1; host <= 2; host++) {
            passes += Files.readAllLines(cluster.agentLog(host)).stream().filter(l -> l.contains("change=PassOwnership[dataset=" + id)).count();
        }
        assertThat(passes).as("ownership writes over SSH for 2 handoffs").isEqualTo(2);
    }

    @Test
    void aResizeAndADeleteReachEveryCopy() throws Exception {
        var id = cluster.client.createDataset(N1, 128L << 20, Map.of(), null, null).datasetId();
        cluster.await("n1 mounts it", 30, () -> N1.equals(cluster.primaryOf(id)));
        cluster.client.resizeDataset(id, 512L << 20);
        cluster.await("the new size is in force", 30,
                () -> zfs("get", "-H", "-p", "-o", "value", "refquota", cluster.host(1).pool() + "/" + id).strip().equals(Long.toString(512L << 20)));
        cluster.client.moveDataset(id, N2);
        cluster.await("moved", 60, () -> N2.equals(cluster.primaryOf(id)));
        assertThat(zfs("get", "-H", "-p", "-o", "value", "refquota", cluster.host(2).pool() + "/" + id).strip())
                .as("the size limit follows the move").isEqualTo(Long.toString(512L << 20));

        cluster.client.deleteDataset(id);
        cluster.await("no host holds it any more", 30, () -> !exists(1, id) && !exists(2, id));
    }

    @Test
    void anApplicationMovesWithItsVolumeAndKeepsItsData() throws Exception {
        var id = cluster.client.createDataset(N1, null, Map.of("name", "ticker"), null, null).datasetId();
        var app = new Application(N1, "ticker", "flocker/busybox:local", List.of(new Application.Port(8080, 18080)),
                Map.of("GREETING", "hello"), null, List.of("sh", "-c",
                "i=$(tail -n 1 /data/ticks 2>/dev/null || echo 0); while true; do i=$((i+1)); echo $i >> /data/ticks; sleep 0.05; done"),
                List.of(new Application.Volume(id, "/data")), null, 64L << 20, List.of());
        cluster.client.createContainer(app);
        watcher = new OwnerWatcher(cluster, id);
        cluster.await("the app runs on n1 and writes", 60, () -> lines(cluster.mountpoint(1, id).resolve("ticks")) > 20);

        cluster.client.moveContainer("ticker", N2);
        cluster.await("the app runs on n2", 90, () -> running(2, "ticker") && !running(1, "ticker")
                && lines(cluster.mountpoint(2, id).resolve("ticks")) > 0);
        long before = lines(cluster.mountpoint(2, id).resolve("ticks"));
        cluster.await("it keeps writing there", 30, () -> lines(cluster.mountpoint(2, id).resolve("ticks")) > before + 10);
        var ticks = Files.readAllLines(cluster.mountpoint(2, id).resolve("ticks"));
        // Every tick written on n1 is there, in order, and n2's continue from the last: nothing lost, torn or repeated.
        for (int i = 0; i < ticks.size(); i++) {
            assertThat(ticks.get(i)).as("line %d", i + 1).isEqualTo(Integer.toString(i + 1));
        }
        assertThat(docker(2, "inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", "ticker")).contains("GREETING=hello");
        assertThat(docker(2, "inspect", "-f", "{{.HostConfig.Memory}}", "ticker").strip()).isEqualTo(Long.toString(64L << 20));
        // Its network is its sandbox's (made with the container during the pre-copy); n1 removed both once it handed over.
        assertThat(docker(2, "inspect", "-f", "{{.HostConfig.NetworkMode}}", "ticker").strip())
                .isEqualTo("container:" + docker(2, "inspect", "-f", "{{.Id}}", "flocker-sandbox-ticker").strip());
        assertThat(running(2, "flocker-sandbox-ticker")).isTrue();
        cluster.await("n1 removed the app's container and its sandbox", 30,
                () -> docker(1, "ps", "-aq", "--filter", "name=^ticker$").isBlank() && docker(1, "ps", "-aq", "--filter", "name=^flocker-sandbox-ticker$").isBlank());
        cluster.client.deleteContainer("ticker");
        cluster.await("the app is gone, with its sandbox", 30, () -> !running(2, "ticker")
                && docker(2, "ps", "-aq", "--filter", "name=^flocker-sandbox-ticker$").isBlank());
    }

    @Test
    void killingTheSourceAgentDuringPreCopyOrHandoffAndTheTargetBeforeItStartsTheAppLosesNothing() throws Exception {
        for (var failpoint : List.of("pre-copy", "handoff-frozen", "handoff-final-increment", "handoff-owner-recorded", "target-down")) {
            var id = cluster.client.createDataset(N1, null, Map.of(), null, null).datasetId();
            cluster.await("n1 mounts it", 30, () -> N1.equals(cluster.primaryOf(id)));
            // 192 MiB where the kill must land while the pre-copy's full send is in flight (it takes seconds); 32 MiB where
            // the source pauses at a failpoint and is killed there, or the target's agent is down (the size changes neither).
            boolean killedInFlight = failpoint.equals("pre-copy");
            var files = writeFiles(cluster.mountpoint(1, id), killedInFlight ? 12 : 2, 16 << 20);
            watcher = new OwnerWatcher(cluster, id);
            if (failpoint.equals("handoff-final-increment")) {
                // n2 holds a copy first (there and back), so n1 records the new owner beside the final increment; the kill
                // then leaves n1's copy recording n2 while n2 lacks what was written since: the resume must send it first.
                cluster.client.moveDataset(id, N2);
                cluster.await("it reaches n2", 120, () -> N2.equals(cluster.primaryOf(id)));
                cluster.client.moveDataset(id, N1);
                cluster.await("it is back on n1", 120, () -> N1.equals(cluster.primaryOf(id)));
                files = writeFiles(cluster.mountpoint(1, id), 2, 8 << 20); // what only the final increment carries
            }
            if (!failpoint.equals("pre-copy") && !failpoint.equals("target-down")) {
                cluster.killAgent(1);
                cluster.startAgent(1, failpoint + ":20000");
                cluster.await("n1 reconnects", 30, () -> cluster.client.nodes().size() == 2);
            }
            if (failpoint.equals("target-down")) {
                cluster.killAgent(2);
            }
            // An idle dataset hands off at once; one with its application running pre-copies first.
            boolean withApp = failpoint.equals("pre-copy");
            if (withApp) {
                cluster.client.createContainer(new Application(N1, "precopier", "flocker/busybox:local", List.of(), Map.of(), null,
                        List.of("sleep", "100000"), List.of(new Application.Volume(id, "/data")), null, null, List.of()));
                cluster.await("its application runs on n1", 60, () -> running(1, "precopier"));
                cluster.client.moveContainer("precopier", N2);
            } else {
                cluster.client.moveDataset(id, N2);
            }
            switch (failpoint) {
                case "pre-copy" -> cluster.await("n1 is pre-copying", 30, () -> phase(id).equals(dev.flocker.api.model.MovePhase.PRE_COPY.json()));
                case "target-down" -> {
                    cluster.await("n1 hands it over", 60, () -> ownerOnDisk(1, id).equals(N2.toString()));
                    Thread.sleep(1000);
                    cluster.startAgent(2, "");
                }
                case "handoff-final-increment" -> {
                    cluster.await("n1 pauses at " + failpoint, 60, () -> logHas(1, "failpoint=" + failpoint));
                    cluster.await("n1 records n2 as the owner beside it", 30, () -> ownerOnDisk(1, id).equals(N2.toString()));
                }
                default -> cluster.await("n1 pauses at " + failpoint, 60, () -> logHas(1, "failpoint=" + failpoint));
            }
            if (!failpoint.equals("target-down")) {
                cluster.killAgent(1);
                Thread.sleep(500);
                cluster.startAgent(1, "");
            }
            cluster.await("the move completes after the kill at " + failpoint, 120, () -> N2.equals(cluster.primaryOf(id)));
            assertThat(checksums(cluster.mountpoint(2, id))).as(failpoint).isEqualTo(files);
            checkWatcher();
            if (withApp) {
                cluster.await("its application runs on n2", 60, () -> running(2, "precopier"));
                cluster.client.deleteContainer("precopier");
                cluster.await("its application is gone", 30, () -> !running(2, "precopier"));
            }
        }
    }

    @Test
    void datasetsCreatedAndDeletedWithinAMillisecondLeaveNothingInZfsStateOrConfiguration() throws Exception {
        var ids = new ArrayList<DatasetId>();
        for (int i = 0; i < 20; i++) {
            var node = i % 2 == 0 ? N1 : N2;
            // As a client that gives up right after a create does: the DELETE follows the create's answer at once.
            var id = cluster.client.createDataset(node, null, Map.of("name", "fleeting-" + i), null, null).datasetId();
            cluster.client.deleteDataset(id);
            ids.add(id);
            if (i % 5 == 4) {
                Thread.sleep(150); // let some pushes carry the creation before the deletion, as a slower client would
            }
        }
        long start = System.nanoTime();
        cluster.await("no host holds any of them in ZFS", 60, () -> ids.stream().noneMatch(id -> exists(1, id) || exists(2, id)));
        long gone = (System.nanoTime() - start) / 1_000_000;
        System.out.println("20 datasets created and deleted at once: every copy destroyed " + gone + " ms after the last DELETE");
        cluster.await("no host reports any of them", 30, () -> cluster.client.datasetState().stream().noneMatch(s -> ids.contains(s.datasetId())));
        cluster.await("their tombstones go after the retention", 30 + (int) LabCluster.DELETED_RETENTION.toSeconds(),
                () -> cluster.client.datasets().value().stream().noneMatch(d -> ids.contains(d.datasetId())));
        // Nothing appears later either: an agent that created one of them just before it was deleted destroyed it.
        Thread.sleep(3000);
        assertThat(ids.stream().filter(id -> exists(1, id) || exists(2, id)).toList()).isEmpty();
        // A fresh, never-used dataset is destroyed at once: no "dataset is busy" waits.
        assertThat(gone).as("ms until every copy was destroyed").isLessThan(30_000);
        for (int host = 1; host <= 2; host++) {
            assertThat(Files.readString(cluster.agentLog(host))).as("agent %d log", host).doesNotContain("DeleteDataset failed");
        }
    }

    /**
     * A destroy that hangs (zfs-fuse once hung a deleted dataset's unmount for good, on every retry) holds neither the loop
     * nor other datasets: after ChangeExecutor.PATIENCE the loop goes on without it, and the dataset's state says it is
     * still being deleted. Here the agent holds the destroy (a failpoint) for longer than the patience.
     */
    @Test
    void aDestroyThatHangsHoldsNeitherTheLoopNorOtherDatasets() throws Exception {
        var stuck = cluster.client.createDataset(N1, null, Map.of("name", "stuck"), null, null).datasetId();
        cluster.await("n1 mounts the dataset to delete", 30, () -> N1.equals(cluster.primaryOf(stuck)));
        var hold = cluster.holdDeletes(1);
        Files.writeString(hold, "");
        try {
            cluster.client.deleteDataset(stuck);
            cluster.await("n1 holds its destroy", 30, () -> logHas(1, "failpoint=delete-dataset"));
        } finally {
            Files.deleteIfExists(hold); // only that destroy is held
        }
        var other = cluster.client.createDataset(N1, null, Map.of("name", "beside-a-stuck-delete"), null, null).datasetId();
        cluster.await("n1 mounts another dataset while the destroy is held", 30, () -> N1.equals(cluster.primaryOf(other)));
        // Timing-free: the held destroy has not ended (its dataset is still in ZFS), yet the loop made and reported the other.
        assertThat(exists(1, stuck)).as("the held dataset is still there when the other is mounted").isTrue();
        assertThat(cluster.client.moves()).as("n1's report while its destroy is held")
                .anyMatch(m -> m.datasetId().equals(stuck) && m.detail() != null && m.detail().contains("DeleteDataset still running"));
        cluster.await("the held destroy ends and the dataset is gone", 30 + (int) (LabCluster.HELD_DELETE_MILLIS / 1000),
                () -> !exists(1, stuck) && !exists(2, stuck));
        cluster.await("no error is left for it", 30, () -> cluster.client.moves().stream().noneMatch(m -> m.datasetId().equals(stuck)));
        // Its end woke n1's loop (its dataset's changes waited for it): the signal reached the loop.
        cluster.await("n1's loop woken by the held destroy's end", 30, () -> logHas(1, "a change that outlasted the loop's patience has ended"));
        cluster.client.deleteDataset(other);
        cluster.await("the other is gone too", 30, () -> !exists(1, other));
    }

    /**
     * A loop slower than the node expiry (15 s here; a busy pool or dockerd) does not make its node vanish from the
     * cluster state: the agent's pings come from a thread of their own. Before, a deployment then failed with "No known
     * node with address ...".
     */
    @Test
    void aNodeWhoseLoopIsSlowerThanTheNodeExpiryStaysListed() throws Exception {
        var n2 = LabCluster.nodeId(2);
        cluster.stopAgent(2);
        int pausedBefore = loopPauses(2);
        cluster.startAgent(2, "loop:17000");
        try {
            // Its second loop pauses once its first reported (a loop reports at its end): from then on no report comes
            // for 17 s, more than the expiry, and only the agent's pings can keep n2 listed through the watch.
            cluster.await("n2 reported its first slow loop", 60, () -> loopPauses(2) >= pausedBefore + 2
                    && cluster.client.nodes().stream().anyMatch(n -> n.uuid().equals(n2)));
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(22);
            while (System.nanoTime() < until) {
                assertThat(cluster.client.nodes()).as("n2 listed while its loop takes 17 s").anyMatch(n -> n.uuid().equals(n2));
                Thread.sleep(500);
            }
        } finally {
            cluster.stopAgent(2);
            cluster.startAgent(2, "");
            cluster.await("n2 reports", 60, () -> cluster.client.nodes().stream().anyMatch(n -> n.uuid().equals(n2)));
        }
    }

    @Test
    void anAgentStartedInAPrivateMountNamespaceStopsAtOnceAndSaysHowToStartIt() throws Exception {
        var host = cluster.host(1);
        var command = new ArrayList<>(List.of("ip", "netns", "exec", host.netns(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                AgentMain.class.getName(), "--config", cluster.agentConfig(1).toString()));
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isEqualTo(2);
        assertThat(output).contains("mount namespace").contains("nsenter --net=/run/netns/").contains("never 'ip netns exec'");
    }

    private static String phase(DatasetId id) {
        return cluster.client.moves().stream().filter(m -> m.datasetId().equals(id)).map(m -> m.phase().json()).findFirst().orElse("");
    }

    /** How many times host {@code host}'s agent paused at the {@code loop} failpoint, over all its starts. */
    private static int loopPauses(int host) {
        return (int) cluster.logLines(host, "failpoint=loop");
    }

    private static boolean logHas(int host, String text) {
        return cluster.logLines(host, text) > 0;
    }

    private static String ownerOnDisk(int host, DatasetId id) {
        return ownerOf(zfs("get", "-H", "-o", "value", "flocker:owner", cluster.host(host).pool() + "/" + id));
    }

    /** The node in a {@code flocker:owner} value ({@code <node>@<generation>}, or a node alone as older copies have it). */
    private static String ownerOf(String value) {
        var owner = value.strip();
        return owner.contains("@") ? owner.substring(0, owner.indexOf('@')) : owner;
    }

    private static boolean exists(int host, DatasetId id) {
        return zfs("list", "-H", "-o", "name", "-r", cluster.host(host).pool()).lines().anyMatch(l -> l.endsWith("/" + id));
    }

    private static boolean running(int host, String name) {
        try {
            return docker(host, "inspect", "-f", "{{.State.Running}}", name).strip().equals("true");
        } catch (LabException e) {
            return false;
        }
    }

    static String docker(int host, String... args) {
        return cluster.docker(host, args);
    }

    /** zfs on host 1 (every lab pool is visible from every host: they share this machine's zfs-fuse). */
    static String zfs(String... args) {
        var command = new ArrayList<>(List.of("zfs"));
        command.addAll(List.of(args));
        return cluster.lab.exec(cluster.host(1), command.toArray(String[]::new));
    }

    private static long lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).size() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    static TreeMap<String, String> writeFiles(Path dir, int count, int size) throws Exception {
        var random = new Random(dir.hashCode());
        var data = new byte[size];
        for (int i = 0; i < count; i++) {
            random.nextBytes(data);
            Files.write(dir.resolve("file-" + i + "-" + System.nanoTime()), data);
        }
        return checksums(dir);
    }

    static TreeMap<String, String> checksums(Path dir) throws Exception {
        var sums = new TreeMap<String, String>();
        try (var files = Files.list(dir)) {
            for (var file : files.filter(Files::isRegularFile).toList()) {
                sums.put(file.getFileName().toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
            }
        }
        return sums;
    }

    /** Samples both hosts' copies of a dataset every 50 ms and records any moment when both are mounted by their owner. */
    static final class OwnerWatcher implements AutoCloseable {
        final List<String> violations = new CopyOnWriteArrayList<>();
        volatile int samples;
        private volatile boolean stop;
        private final Thread thread;

        OwnerWatcher(LabCluster cluster, DatasetId id) {
            thread = Thread.ofVirtual().start(() -> {
                while (!stop) {
                    var writable = new ArrayList<String>();
                    for (int host = 1; host <= 2; host++) {
                        var name = cluster.host(host).pool() + "/" + id;
                        try {
                            var values = zfs("get", "-H", "-o", "value", "flocker:owner,mounted", name).lines().toList();
                            if (values.size() == 2 && ownerOf(values.get(0)).equals(LabCluster.nodeId(host).toString()) && values.get(1).equals("yes")) {
                                writable.add("n" + host);
                            }
                        } catch (LabException absent) {
                            // no copy on that host (yet)
                        }
                    }
                    if (writable.size() > 1) {
                        violations.add(java.time.Instant.now() + ": writable on " + writable);
                    }
                    samples++;
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(5000);
        }
    }
}
