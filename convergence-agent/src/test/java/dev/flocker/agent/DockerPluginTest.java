package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabException;
import dev.flocker.lab.LabExtension.WithLab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Docker volume plugin under real dockerds on two lab hosts (each finding its own host's agent through the lab's
 * spec file), with the behaviours Docker's own integration suite checks for external volume drivers, and volumes that
 * follow their containers from host to host.
 */
@Tag("e2e")
@WithLab(name = "tplugin", nodes = 2)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerPluginTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);
    static final String IMAGE = "flocker/busybox:local";

    @Test
    @Order(1)
    void aNamedVolumeIsCreatedWithItsSizeMountedOnceByRunRmAndReallyRemoved() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "-o", "size=128MiB", "-o", "tier=gold", "named");
        var dataset = dataset("named").orElseThrow();
        assertThat(dataset.primary()).isEqualTo(N1);
        assertThat(dataset.maximumSize()).isEqualTo(128L << 20);
        assertThat(dataset.metadata()).containsEntry("tier", "gold");
        // Swarm creates a volume on every node it schedules to: a second create is the same volume.
        cluster.docker(2, "volume", "create", "-d", "flocker", "named");
        assertThat(named("named")).hasSize(1);

        var before = calls(1);
        cluster.docker(1, "run", "--rm", "-v", "named:/data", IMAGE, "sh", "-c", "echo hello > /data/greeting");
        var run = calls(1).subList(before.size(), calls(1).size());
        // dockerd 20.10 mounts a volume at container create (to copy the image's files into it) and again at start,
        // each with its own ID and its own Unmount: balanced pairs, nothing left mounted.
        var mounts = run.stream().filter(c -> c.startsWith("VolumeDriver.Mount")).toList();
        assertThat(mounts).isNotEmpty().allMatch(c -> c.matches("VolumeDriver\\.Mount named [0-9a-f]{64}"), "Mount carries the caller's ID");
        assertThat(run.stream().filter(c -> c.startsWith("VolumeDriver.Unmount")).map(c -> c.replace("Unmount", "Mount")).toList())
                .containsExactlyElementsOf(mounts);
        assertThat(Files.readString(cluster.mountpoint(1, dataset.datasetId()).resolve("greeting"))).isEqualTo("hello\n");
        assertThat(leaseHolder(dataset)).as("lease after the last unmount").isEmpty();

        cluster.docker(1, "volume", "rm", "named");
        assertThat(named("named")).isEmpty();
        cluster.await("n1 destroys the removed volume's dataset", 30,
                () -> cluster.client.datasetState().stream().noneMatch(s -> s.datasetId().equals(dataset.datasetId())));
        assertThat(cluster.lab.exec(cluster.host(1), "zfs", "list", "-H", "-o", "name", "-r", cluster.host(1).pool()))
                .doesNotContain(dataset.datasetId().toString());
        assertThat(cluster.mountpoint(1, dataset.datasetId())).doesNotExist();
    }

    @Test
    @Order(2)
    void badOptionsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> cluster.docker(1, "volume", "create", "-d", "flocker", "-o", "size=lots", "badsize"))
                .hasMessageContaining("size 'lots' is not a size");
        assertThatThrownBy(() -> cluster.docker(1, "volume", "create", "-d", "flocker", "-o", "size=1M", "small"))
                .hasMessageContaining("below the minimum of 64MiB");
        assertThat(named("badsize")).isEmpty();
        assertThat(named("small")).isEmpty();
        assertThatThrownBy(() -> cluster.docker(1, "volume", "inspect", "nosuch")).hasMessageContaining("No such volume");
    }

    @Test
    @Order(3)
    void anAnonymousVolumeOfRunRmIsRemovedWithItsContainer() throws Exception {
        var before = calls(1).size();
        cluster.docker(1, "run", "--rm", "--volume-driver", "flocker", "-v", "/scratch", IMAGE, "sh", "-c", "echo x > /scratch/x");
        var run = calls(1).subList(before, calls(1).size());
        var created = run.stream().filter(c -> c.startsWith("VolumeDriver.Create")).toList();
        assertThat(created).hasSize(1);
        var name = created.get(0).split(" ")[1];
        assertThat(name).matches("[0-9a-f]{64}");
        assertThat(run).contains("VolumeDriver.Remove " + name + " ");
        assertThat(named(name)).isEmpty();
    }

    @Test
    @Order(4)
    void volumesFromCountsMountsAndRmVRemovesTheAnonymousVolume() throws Exception {
        cluster.docker(1, "run", "-d", "--name", "holder", "--volume-driver", "flocker", "-v", "/shared", IMAGE, "sleep", "600");
        var name = cluster.docker(1, "inspect", "-f", "{{(index .Mounts 0).Name}}", "holder").strip();
        var dataset = dataset(name).orElseThrow();
        cluster.docker(1, "run", "--rm", "--volumes-from", "holder", IMAGE, "sh", "-c", "echo shared > /shared/file");
        assertThat(leaseHolder(dataset)).as("the first container still mounts it").contains(N1);
        assertThat(cluster.docker(1, "exec", "holder", "cat", "/shared/file")).isEqualTo("shared\n");

        // In use: neither host may remove it, and the other host may not take it.
        assertThatThrownBy(() -> cluster.docker(1, "volume", "rm", name)).hasMessageContaining("in use");
        assertThatThrownBy(() -> cluster.docker(2, "volume", "rm", name)).hasMessageContaining("is in use on node " + N1);
        assertThatThrownBy(() -> cluster.docker(2, "run", "--rm", "-v", name + ":/data", IMAGE, "true"))
                .hasMessageContaining("is in use on node " + N1);
        assertThat(dataset(name)).isPresent();

        cluster.docker(1, "rm", "-f", "-v", "holder");
        assertThat(leaseHolder(dataset)).isEmpty();
        cluster.await("rm -v removes the anonymous volume", 10, () -> named(name).isEmpty());
    }

    @Test
    @Order(5)
    void volumeLsAndInspectShowTheClusterWideVolumeWithItsStatus() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "listed");
        cluster.await("n1 mounts it", 30, () -> N1.equals(cluster.primaryOf(dataset("listed").orElseThrow().datasetId())));
        assertThat(cluster.docker(2, "volume", "ls", "-q").lines()).contains("listed");
        assertThat(cluster.docker(2, "volume", "inspect", "-f", "{{.Driver}} {{.Scope}}", "listed").strip()).isEqualTo("flocker global");
        var status = cluster.docker(2, "volume", "inspect", "-f", "{{json .Status}}", "listed");
        assertThat(status).contains("\"writable_on\":\"node " + N1).contains("\"dataset_id\"");
        assertThat(cluster.docker(1, "volume", "inspect", "-f", "{{.Mountpoint}}", "listed").strip())
                .isEqualTo(cluster.mountpoint(1, dataset("listed").orElseThrow().datasetId()).toString());
    }

    @Test
    @Order(6)
    void aVolumeFollowsItsContainerToAnotherHost() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "follows");
        cluster.docker(1, "run", "--rm", "-v", "follows:/data", IMAGE, "sh", "-c",
                "dd if=/dev/urandom of=/data/blob bs=1M count=8 2>/dev/null && md5sum /data/blob > /data/blob.md5");
        var id = dataset("follows").orElseThrow().datasetId();

        var checked = cluster.docker(2, "run", "--rm", "-v", "follows:/data", IMAGE, "md5sum", "-c", "/data/blob.md5");
        assertThat(checked).contains("/data/blob: OK");
        assertThat(dataset("follows").orElseThrow().primary()).isEqualTo(N2);
        assertThat(cluster.primaryOf(id)).isEqualTo(N2);
        var n1 = cluster.client.datasetState().stream().filter(s -> s.datasetId().equals(id)).findFirst().orElseThrow();
        assertThat(n1.primary()).as("only n2 has the writable copy").isEqualTo(N2);
        // n1's copy was frozen by the handoff (read-only where it was mounted): nothing there writes it; the loop after
        // the handoff's tail makes it a replica, unmounted.
        assertThat(mountOptions(cluster.mountpoint(1, id))).as("n1's copy is unmounted or read-only").satisfiesAnyOf(
                options -> assertThat(options).isEmpty(), options -> assertThat(options.orElseThrow()).startsWith("ro"));
        cluster.await("n1 no longer mounts it", 30, () -> !Files.exists(cluster.mountpoint(1, id).resolve("blob")));
    }

    /** The options of the mount at {@code path} in this process's mount table, if something is mounted there. */
    private static java.util.Optional<String> mountOptions(java.nio.file.Path path) throws java.io.IOException {
        return Files.readAllLines(java.nio.file.Path.of("/proc/self/mountinfo")).stream().map(line -> line.split(" "))
                .filter(fields -> fields[4].equals(path.toString())).map(fields -> fields[5]).reduce((first, last) -> last);
    }

    @Test
    @Order(7)
    void aFailedMountIsNotFollowedByUnmount() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "contested");
        var dataset = dataset("contested").orElseThrow();
        cluster.client.acquireLease(dataset.datasetId(), N2, 120.0);
        try {
            var before = calls(1).size();
            assertThatThrownBy(() -> cluster.docker(1, "run", "--rm", "-v", "contested:/data", IMAGE, "true"))
                    .hasMessageContaining("volume contested is in use on node " + N2);
            var run = calls(1).subList(before, calls(1).size());
            assertThat(run).anyMatch(c -> c.startsWith("VolumeDriver.Mount contested"));
            assertThat(run).noneMatch(c -> c.startsWith("VolumeDriver.Unmount contested"));
            assertThat(leaseHolder(dataset)).contains(N2);
        } finally {
            cluster.client.releaseLease(dataset.datasetId());
        }
    }

    @Test
    @Order(8)
    void dockerCpMountsAndUnmountsInPairs() throws Exception {
        cluster.docker(1, "create", "--name", "copied", "--volume-driver", "flocker", "-v", "copyvol:/data", IMAGE, "true");
        var source = work.resolve("to-copy.txt");
        Files.writeString(source, "copied in\n");
        var before = calls(1).size();
        cluster.docker(1, "cp", source.toString(), "copied:/data/in.txt");
        var out = work.resolve("copied-out.txt");
        cluster.docker(1, "cp", "copied:/data/in.txt", out.toString());
        assertThat(Files.readString(out)).isEqualTo("copied in\n");
        var run = calls(1).subList(before, calls(1).size());
        long mounts = run.stream().filter(c -> c.startsWith("VolumeDriver.Mount copyvol")).count();
        long unmounts = run.stream().filter(c -> c.startsWith("VolumeDriver.Unmount copyvol")).count();
        assertThat(mounts).isPositive().isEqualTo(unmounts);
        assertThat(leaseHolder(dataset("copyvol").orElseThrow())).isEmpty();
        cluster.docker(1, "rm", "copied");
    }

    @Test
    @Order(9)
    void capabilitiesAreAskedOnceAndTheScopeIsGlobal() {
        assertThat(calls(2).stream().filter(c -> c.startsWith("VolumeDriver.Capabilities")).count()).isEqualTo(1);
        assertThat(calls(1).stream().filter(c -> c.startsWith("VolumeDriver.Capabilities")).count()).isEqualTo(1);
    }

    @Test
    @Order(10)
    void volumesAreUsableAfterADaemonRestart() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "survivor");
        cluster.docker(1, "run", "--rm", "-v", "survivor:/data", IMAGE, "sh", "-c", "echo kept > /data/kept");
        var pid = Files.readString(Path.of("/run/fl-" + cluster.lab.name() + "-n1/docker.pid")).strip();
        new ProcessBuilder("kill", pid).inheritIO().start().waitFor();
        cluster.await("dockerd on n1 stops", 30, () -> ProcessHandle.of(Long.parseLong(pid)).isEmpty());
        Lab.up(cluster.lab.name(), 2, "busybox"); // starts the stopped dockerd again
        assertThat(cluster.docker(1, "run", "--rm", "-v", "survivor:/data", IMAGE, "cat", "/data/kept")).isEqualTo("kept\n");
        assertThat(cluster.docker(1, "volume", "ls", "-q").lines()).contains("survivor");
    }

    @Test
    @Order(11)
    void aRestartedAgentKeepsTheLeaseOfAVolumeItsContainersStillMount() throws Exception {
        cluster.docker(1, "run", "-d", "--name", "longrun", "-v", "held:/data", "--volume-driver", "flocker", IMAGE, "sleep", "600");
        var dataset = dataset("held").orElseThrow();
        assertThat(leaseHolder(dataset)).contains(N1);
        cluster.killAgent(1);
        cluster.startAgent(1, "");
        // The lab's leases last 6 s: only renewals by the restarted agent, which remembers the mount, keep it.
        Thread.sleep(10_000);
        assertThat(leaseHolder(dataset)).contains(N1);
        assertThatThrownBy(() -> cluster.docker(2, "run", "--rm", "-v", "held:/data", IMAGE, "true")).hasMessageContaining("is in use on node " + N1);
        cluster.docker(1, "rm", "-f", "longrun");
        assertThat(leaseHolder(dataset)).isEmpty();
    }

    @Test
    @Order(12)
    void aMountThatCannotFinishSaysWhatBlocksItAndTheVolumeArrivesOnceItCan() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "stranded");
        cluster.docker(1, "run", "--rm", "-v", "stranded:/data", IMAGE, "sh", "-c", "echo safe > /data/safe");
        cluster.killAgent(1);
        try {
            long started = System.nanoTime();
            assertThatThrownBy(() -> cluster.docker(2, "run", "--rm", "-v", "stranded:/data", IMAGE, "true"))
                    .hasMessageContaining("volume stranded did not reach this host within 20 s")
                    .hasMessageContaining("node " + N1)
                    .hasMessageContaining("is not reporting");
            assertThat((System.nanoTime() - started) / 1e9).as("answered before Docker's 2 minutes").isLessThan(60);
        } finally {
            cluster.startAgent(1, "");
        }
        assertThat(cluster.docker(2, "run", "--rm", "-v", "stranded:/data", IMAGE, "cat", "/data/safe")).isEqualTo("safe\n");
        assertThat(cluster.primaryOf(dataset("stranded").orElseThrow().datasetId())).isEqualTo(N2);
    }

    @Test
    @Order(13)
    void aMountThatTimesOutWhileCopyingSaysHowFarTheCopyIsAndInspectShowsTheMove() throws Exception {
        cluster.docker(1, "volume", "create", "-d", "flocker", "bulky");
        cluster.docker(1, "run", "--rm", "-v", "bulky:/data", IMAGE, "true");
        var id = dataset("bulky").orElseThrow().datasetId();
        BenchSupport.fill(cluster.mountpoint(1, id).resolve("fill"), 768); // some seconds to ship here
        cluster.killAgent(2);
        cluster.pluginSettings = "lease_seconds: 6, lease_wait_seconds: 3, mount_timeout_seconds: 1, mount_grace_seconds: 5";
        try {
            cluster.startAgent(2, "");
            cluster.await("n2's agent reports again", 30, () -> cluster.client.nodes().size() == 2);
            // Docker retries nothing: each run is one Mount that waits 1 s, then says where the move is. Run until one works.
            var errors = new ArrayList<String>();
            var statuses = new ArrayList<String>();
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (System.nanoTime() < deadline) {
                try {
                    cluster.docker(2, "run", "--rm", "-v", "bulky:/data", IMAGE, "true");
                    break;
                } catch (LabException e) {
                    errors.add(e.getMessage());
                    statuses.add(cluster.docker(2, "volume", "inspect", "-f", "{{json .Status}}", "bulky"));
                }
            }
            assertThat(errors).as("mounts that timed out").isNotEmpty()
                    .allMatch(e -> e.contains("volume bulky did not reach this host within 1 s"));
            assertThat(errors).as("a mount during the copy says how far it is")
                    .anyMatch(e -> e.matches("(?s).*(handoff|pre-copy) from node " + N1 + ".*: [0-9.]+ MiB of [0-9.]+ MiB copied \\([0-9]+%\\).*"));
            assertThat(statuses).as("inspect shows the move going on").anyMatch(st -> st.contains("\"move\":") && st.contains("MiB copied"));
            assertThat(Files.size(cluster.mountpoint(2, id).resolve("fill"))).isEqualTo(768L << 20);
        } finally {
            cluster.killAgent(2);
            cluster.pluginSettings = "lease_seconds: 6, lease_wait_seconds: 3, mount_timeout_seconds: 20, mount_grace_seconds: 5";
            cluster.startAgent(2, "");
        }
    }

    @Test
    @Order(14)
    void aMountThatNoLiveContainerAccountsForIsForgottenAndItsLeaseGivenBack() throws Exception {
        // What a dockerd that dies with a container running leaves: a mount it never unmounts (dockerd sends no Unmount
        // for it at its restart, nor at `docker rm`; seen here with dockerd 20.10). Made directly in the mounts file.
        cluster.docker(1, "volume", "create", "-d", "flocker", "crashvol");
        cluster.docker(1, "run", "--rm", "-v", "crashvol:/data", IMAGE, "true");
        var dataset = dataset("crashvol").orElseThrow();
        cluster.killAgent(1);
        var mountsFile = cluster.host(1).dir().resolve("agent").resolve("docker-mounts.json");
        Files.writeString(mountsFile, """
                {"crashvol": {"dataset_id": "%s", "ids": {"%s": 1}}}
                """.formatted(dataset.datasetId(), "d".repeat(64)));
        var before = Files.readAllLines(cluster.agentLog(1)).size();
        cluster.startAgent(1, "");
        cluster.await("the restarted agent forgets the mount no container accounts for", 60, () -> {
            try {
                var lines = Files.readAllLines(cluster.agentLog(1));
                return lines.subList(Math.min(before, lines.size()), lines.size()).stream()
                        .anyMatch(l -> l.contains("volume=crashvol") && l.contains("no running container on this host uses the volume"));
            } catch (java.io.IOException e) {
                return false;
            }
        });
        assertThat(Files.readString(mountsFile)).doesNotContain("crashvol");
        // The warning is logged as the lease is given back, over HTTP: wait for the release, not for the log line.
        cluster.await("its lease is given back", 30, () -> leaseHolder(dataset).isEmpty());
        assertThat(cluster.docker(2, "run", "--rm", "-v", "crashvol:/data", IMAGE, "true")).isEmpty();
        assertThat(cluster.primaryOf(dataset.datasetId())).isEqualTo(N2);
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static List<Dataset> named(String name) {
        return cluster.named(name);
    }

    private static Optional<Dataset> dataset(String name) {
        var found = named(name);
        assertThat(found).as("datasets named " + name).hasSizeLessThanOrEqualTo(1);
        return found.stream().findFirst();
    }

    private static Optional<NodeId> leaseHolder(Dataset dataset) {
        return cluster.leaseHolder(dataset.datasetId());
    }

    /** The plugin calls host {@code i}'s agent logged, in order, as "VolumeDriver.Mount name id". */
    private static List<String> calls(int i) {
        try {
            return Files.readAllLines(cluster.agentLog(i)).stream().filter(l -> l.contains(" call "))
                    .map(DockerPluginTest::call).toList();
        } catch (java.io.IOException e) {
            throw new LabException("cannot read the agent log of n" + i + ": " + e.getMessage());
        }
    }

    private static String call(String line) {
        var volume = field(line, "volume");
        var id = field(line, "id");
        return line.substring(line.indexOf(" call ") + 6).strip() + " " + volume + " " + id;
    }

    private static String field(String line, String key) {
        var matcher = java.util.regex.Pattern.compile("\\b" + key + "=(\\S*)").matcher(line);
        return matcher.find() ? matcher.group(1) : "";
    }
}
