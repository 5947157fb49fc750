package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;


import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three replicas as separate processes on loopback; one is killed (SIGKILL) during a stream of conditional writes. */
@Tag("integration")
class ReplicationTest {
    private static final int WRITES = 90;
    private final List<Process> processes = new ArrayList<>();
    /** Each replica's agent channel, in the order of {@link #processes}. */
    private final List<URI> agentPorts = new ArrayList<>();

    @AfterEach
    void stopAll() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void killingOneOfThreeReplicasLosesNoAcknowledgedWriteAndTheApiKeepsAnswering(@TempDir Path data) throws Exception {
        var apis = startReplicas(data, 3);
        Set<String> acknowledged = new LinkedHashSet<>();
        var alive = new ArrayList<>(apis);
        int attempts = 0;
        for (int i = 0; acknowledged.size() < WRITES && attempts < WRITES * 20; i++, attempts++) {
            if (acknowledged.size() == WRITES / 3 && alive.size() == 3) {
                processes.get(1).destroyForcibly().waitFor();
                alive.remove(apis.get(1));
            }
            var api = alive.get(i % alive.size());
            var list = tryCall(api, "GET", "/v1/configuration/datasets", null);
            if (list == null || list.status() != 200) {
                continue;
            }
            var created = tryCall(api, "POST", "/v1/configuration/datasets", "{\"primary\":\"" + FlockerApiContractTest.NODE_A + "\"}",
                    "X-If-Configuration-Matches", list.tag());
            if (created != null && created.status() == 201) {
                acknowledged.add(created.body().get("dataset_id").asText());
            } else if (created != null) {
                assertThat(created.status()).as(created.raw()).isIn(412, 503);
            }
        }
        assertThat(acknowledged).hasSize(WRITES);
        try (var left = Files.list(data.resolve("r1-tmp"))) {
            assertThat(left.map(Path::getFileName).map(Path::toString)).as("what the killed replica left in its temporary directory")
                    .isEmpty();
        }
        for (var api : alive) {
            var list = tryCall(api, "GET", "/v1/configuration/datasets", null);
            assertThat(list).isNotNull();
            for (var id : acknowledged) {
                assertThat(list.raw()).as("replica %s has %s", api, id).contains(id);
            }
            assertThat(tryCall(api, "GET", "/v1/_health", null).body().get("replicas").asInt()).isEqualTo(2);
        }
        // Each survivor also has every acknowledged write on its own disk (its snapshot and log, read as a restart would).
        for (int i : new int[] {0, 2}) {
            var dir = data.resolve("r" + i);
            waitFor(() -> {
                try {
                    var ids = new dev.flocker.control.store.ConfigurationLog(dir).read().datasets().keySet().stream()
                            .map(dev.flocker.api.model.DatasetId::value).collect(java.util.stream.Collectors.toSet());
                    return ids.containsAll(acknowledged);
                } catch (RuntimeException e) {
                    return false; // a snapshot being replaced as it is read
                }
            }, 30);
        }
    }

    @Test
    void aReplicaLeftWithoutAMajorityRefusesWritesButStillAnswersReads(@TempDir Path data) throws Exception {
        var apis = startReplicas(data, 3);
        processes.get(1).destroyForcibly().waitFor();
        processes.get(2).destroyForcibly().waitFor();
        // A write racing the loss (before the others' missing heartbeats count, about 3 s) may still be taken;
        // from then on every write is refused.
        var body = "{\"primary\":\"" + FlockerApiContractTest.NODE_A + "\"}";
        Thread.sleep(4000);
        for (int i = 0; i < 2; i++) {
            var refused = tryCall(apis.get(0), "POST", "/v1/configuration/datasets", body);
            assertThat(refused).isNotNull();
            assertThat(refused.status()).as(refused.raw()).isEqualTo(503);
            assertThat(refused.body().get("description").asText()).contains("No majority of control-service replicas");
        }
        assertThat(tryCall(apis.get(0), "GET", "/v1/configuration/datasets", null).status()).isEqualTo(200);
    }

    /** An image uploaded to one replica is served by another to a node: it fetches it from the first once, then keeps it. */
    @Test
    void anImageUploadedToOneReplicaIsLoadedThroughAnother(@TempDir Path data) throws Exception {
        var apis = startReplicas(data, 2);
        var archive = new byte[2 << 20];
        new java.util.Random(11).nextBytes(archive);
        var id = "sha256:" + "5a".repeat(32);
        new dev.flocker.api.client.FlockerClient(apis.get(0), RunningService.USER).uploadImage(id, () -> new java.io.ByteArrayInputStream(archive));
        var node = new dev.flocker.api.client.FlockerClient(apis.get(1), RunningService.CERTS.node(dev.flocker.api.model.NodeId.random()));
        try (var in = node.downloadImage(id)) {
            assertThat(in.readAllBytes()).isEqualTo(archive);
        }
        assertThat(Files.exists(data.resolve("r1/images/" + "5a".repeat(32) + ".tar"))).as("kept by the second replica").isTrue();
        var missing = "sha256:" + "6b".repeat(32);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> node.downloadImage(missing))
                .isInstanceOfSatisfying(dev.flocker.api.client.FlockerApiException.class, e -> assertThat(e.status()).isEqualTo(404));
    }

    /**
     * A failover survives a replica killed (SIGKILL) as the primary's silence reaches --failover-after: every replica
     * decides and writes the promotion conditionally, so a survivor completes it, once.
     */
    @Test
    void aFailoverCompletesWhenAReplicaIsKilledDuringIt(@TempDir Path data) throws Exception {
        var apis = startReplicas(data, 3, "--failover-after", "3");
        var a = FailoverTest.A;
        var b = FailoverTest.B;
        var d = FailoverTest.D;
        try (var primary = new AgentChannelTest.FakeAgent(agentPorts.get(0), a); var standby = new AgentChannelTest.FakeAgent(agentPorts.get(1), b)) {
            primary.report(FailoverTest.node(a));
            standby.report(FailoverTest.node(b));
            waitFor(() -> {
                var created = tryCall(apis.get(1), "POST", "/v1/configuration/datasets",
                        "{\"primary\": \"" + a + "\", \"dataset_id\": \"" + d + "\", \"replicas\": 1}");
                return created != null && (created.status() == 201 || created.status() == 409 && created.raw().contains("dataset_id"));
            }, 30);
            standby.report(FailoverTest.node(b, FailoverTest.copy(false, 0, java.time.Instant.now())));
            primary.close(); // the primary's node goes silent
            long silent = System.nanoTime();
            var pinging = Thread.ofVirtual().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        standby.ping();
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        return;
                    }
                }
            });
            Thread.sleep(Math.max(0, 2800 - (System.nanoTime() - silent) / 1_000_000));
            processes.get(0).destroyForcibly().waitFor();
            for (var api : List.of(apis.get(1), apis.get(2))) {
                waitFor(() -> {
                    var list = tryCall(api, "GET", "/v1/configuration/datasets", null);
                    return list != null && list.raw().contains("\"failover\"") && list.raw().contains("\"primary\":\"" + b + "\"");
                }, 60);
            }
            pinging.interrupt();
            var list = tryCall(apis.get(2), "GET", "/v1/configuration/datasets", null);
            for (var dataset : list.body()) {
                if (dataset.get("dataset_id").asText().equals(d.toString())) {
                    assertThat(dataset.get("failover").get("generation").asLong()).as("promoted once").isEqualTo(1);
                    assertThat(dataset.get("standby_nodes").get(0).asText()).isEqualTo(a.toString());
                }
            }
        }
    }

    private List<URI> startReplicas(Path data, int count, String... options) throws Exception {
        var cluster = new int[count];
        for (int i = 0; i < count; i++) {
            cluster[i] = RunningService.freePort();
        }
        var apis = new ArrayList<URI>();
        for (int i = 0; i < count; i++) {
            int api = RunningService.freePort();
            apis.add(URI.create("https://127.0.0.1:" + api));
            int agents = RunningService.freePort();
            agentPorts.add(URI.create("wss://127.0.0.1:" + agents + "/v1/agent"));
            // Each its own temporary directory: what a killed replica leaves there is checked.
            var temp = Files.createDirectories(data.resolve("r" + i + "-tmp"));
            var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dflocker.log.level=INFO", "-Djava.io.tmpdir=" + temp, "-cp", System.getProperty("java.class.path"),
                    ControlServiceMain.class.getName(), "--data-path", data.resolve("r" + i).toString(), "--bind", "127.0.0.1",
                    "--port", Integer.toString(api), "--agent-port", Integer.toString(agents),
                    "--cluster-port", Integer.toString(cluster[i]), "--certificates-path", RunningService.CERTS.dir().toString(),
                    "--metrics-port", Integer.toString(RunningService.freePort())));
            for (int port : cluster) {
                command.addAll(List.of("--peer", "127.0.0.1:" + port));
            }
            command.addAll(List.of(options));
            processes.add(new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(data.resolve("r" + i + ".log").toFile()).start());
        }
        for (var api : apis) {
            try {
                waitFor(() -> {
                    var health = tryCall(api, "GET", "/v1/_health", null);
                    return health != null && health.status() == 200 && health.body().get("replicas").asInt() == count;
                }, 120);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + ": " + api + " never saw " + count + " replicas\n" + replicaLogs(data, count), e);
            }
        }
        for (int i = 0; i < count; i++) {
            Files.readAllLines(data.resolve("r" + i + ".log")).stream().filter(l -> l.contains("api_port=")).forEach(System.err::println);
        }
        return apis;
    }

    /** What each replica process is doing and the end of its log, for a failure message. */
    private String replicaLogs(Path data, int count) {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++) {
            var process = processes.get(i);
            text.append("--- replica ").append(i).append(process.isAlive() ? " (running)" : " (exited " + process.exitValue() + ")").append('\n');
            try {
                var lines = Files.readAllLines(data.resolve("r" + i + ".log"));
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(line -> text.append(line).append('\n'));
            } catch (java.io.IOException e) {
                text.append("(no log: ").append(e.getMessage()).append(")\n");
            }
        }
        return text.toString();
    }

    private static RunningService.Answer tryCall(URI api, String method, String path, String body, String... headers) {
        try {
            return RunningService.call(api, method, path, body, headers);
        } catch (IllegalStateException e) {
            return null; // connection refused: that replica is down
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            Thread.sleep(200);
        }
    }

}
