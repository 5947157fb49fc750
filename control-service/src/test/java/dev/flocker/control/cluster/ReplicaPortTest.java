package dev.flocker.control.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.NodeId;
import dev.flocker.ca.ClusterCertificates;
import dev.flocker.control.ControlServiceMain;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control-service replicas on lab hosts n1 and n2; host n3 is not a replica. The replicas replicate through their
 * TLS tunnels, nothing of the configuration crosses the wire in the clear (a capture on the lab's bridge), and from
 * n3 neither plain bytes, nor TLS with a user's certificate, nor a Hazelcast member get in.
 */
@Tag("e2e")
@WithLab(name = "trepl", nodes = 3, images = {})
class ReplicaPortTest {
    @TempDir
    Path dir;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void aHostThatIsNotAReplicaCanNeitherJoinNorReadTheReplicasTraffic(Lab lab) throws Exception {
        var n1 = lab.host(1);
        var n2 = lab.host(2);
        var certs = ClusterCertificates.in(dir.resolve("certs"), "repl", List.of(n1.ip(), n2.ip()));
        for (var host : List.of(n1, n2)) {
            var command = Lab.javaCommand(host, List.of("-Dflocker.log.level=INFO"), ControlServiceMain.class,
                    "--data-path", dir.resolve("data-" + host.name()).toString(), "--bind", host.ip(), "--port", "4523", "--agent-port", "4524",
                    "--cluster-port", "5701", "--peer", n1.ip() + ":5701", "--peer", n2.ip() + ":5701",
                    "--certificates-path", certs.dir().toString());
            processes.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log(host.name()).toFile()).start());
        }
        var user = certs.user("tester");
        var one = new FlockerClient(URI.create("https://" + n1.ip() + ":4523"), user);
        var two = new FlockerClient(URI.create("https://" + n2.ip() + ":4523"), user);
        await("both replicas see each other", 120, () -> replicas(one) == 2 && replicas(two) == 2);

        var capture = dir.resolve("replicas.pcap");
        var tcpdump = new ProcessBuilder("tcpdump", "-i", lab.bridge(), "-U", "-w", capture.toString(), "tcp", "port", "5701")
                .redirectErrorStream(true).redirectOutput(dir.resolve("tcpdump.log").toFile()).start();
        Thread.sleep(1000);
        var secret = "secret-" + UUID.randomUUID();
        var created = one.createDataset(NodeId.random(), null, Map.of("name", secret), null, null);
        await("the write made on n1 is read on n2", 30, () -> two.datasets().value().stream().anyMatch(d -> d.datasetId().equals(created.datasetId())));
        Thread.sleep(1000);
        tcpdump.destroy();
        assertThat(tcpdump.waitFor(10, TimeUnit.SECONDS)).isTrue();
        var dump = new ProcessBuilder("tcpdump", "-r", capture.toString(), "-A", "-nn").redirectErrorStream(true).start();
        var packets = new String(dump.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(packets.lines().filter(l -> l.contains(".5701")).count()).as("replica traffic was captured").isGreaterThan(5);
        assertThat(packets).as("the configuration crossed the wire in the clear").doesNotContain(secret).doesNotContain("HZC");

        var intruder = Lab.javaCommand(lab.host(3), List.of(), Intruder.class, n1.ip(), "5701", user.ca().toString(),
                user.certificate().toString(), user.key().toString());
        var attempt = new ProcessBuilder(intruder).redirectErrorStream(true).start();
        var output = new String(attempt.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(attempt.waitFor(120, TimeUnit.SECONDS)).isTrue();
        output.lines().filter(l -> l.matches("^(plain-answer|tls-user|join)=.*")).forEach(l -> System.out.println("intruder: " + l));
        var answer = output.lines().filter(l -> l.startsWith("plain-answer=")).findFirst().orElse("") + "\n";
        assertThat(answer).as(output).matches("plain-answer=(none|15.*)\\n"); // nothing, or a TLS alert record (type 0x15)
        assertThat(output).contains("tls-user=refused");
        var join = output.lines().filter(l -> l.startsWith("join=")).findFirst().orElse("");
        assertThat(join).as(output).matches("join=(failed .*|alone members=1 configuration-entries=0)");
        assertThat(replicas(one)).as("n1 still sees only the two replicas").isEqualTo(2);
        assertThat(Files.readString(log(n1.name()))).contains("refused a connection to the replica port");
    }

    private Path log(String host) {
        return dir.resolve("control-" + host + ".log");
    }

    private static int replicas(FlockerClient client) {
        try {
            return client.health().get("replicas").asInt();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static void await(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(250);
        }
    }
}
