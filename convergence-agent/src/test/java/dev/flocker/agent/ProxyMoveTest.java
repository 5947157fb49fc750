package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.LabExtension.WithLab;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every host's routing proxy serves every application's port: clients that keep opening connections to both hosts'
 * addresses while an application moves back and forth see no refused connection and no connection closed before its
 * answer, only added latency while the handoff holds them.
 */
@Tag("e2e")
@WithLab(name = "tproxy", nodes = 2)
class ProxyMoveTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);
    static final int PORT = 18080;
    /** A CGI script for busybox httpd (printf's format) that answers after 300 ms. */
    static final String SLOW_CGI = "#!/bin/sh\\nsleep 0.3\\necho Content-Type: text/plain\\necho\\necho slow\\n";

    /** Outcomes of one client's requests, by kind. */
    static final class Outcomes {
        final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
        final Map<String, String> examples = new ConcurrentHashMap<>();
        volatile long longestMillis;

        /** What the test was doing (a move, an agent's restart), named in the examples of outcomes other than "ok". */
        static volatile String step = "before the moves";

        void add(String kind, String example, long millis) {
            counts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
            examples.putIfAbsent(kind, kind.equals("ok") ? example
                    : example + " at " + java.time.Instant.now() + " after " + millis + " ms, during " + step);
            longestMillis = Math.max(longestMillis, millis);
        }

        long count(String kind) {
            var count = counts.get(kind);
            return count == null ? 0 : count.get();
        }
    }

    /** Opens a new connection per request to {@code host}'s address, sends an HTTP GET and classifies what happened. */
    static Thread client(String host, Outcomes outcomes, boolean[] stop) {
        return client(host, "/index.html", outcomes, stop);
    }

    /** As above, for {@code path}. */
    static Thread client(String host, String path, Outcomes outcomes, boolean[] stop) {
        return Thread.ofPlatform().daemon().start(() -> {
            while (!stop[0]) {
                long start = System.nanoTime();
                try (var socket = new Socket()) {
                    socket.connect(new InetSocketAddress(host, PORT), 5000);
                    socket.setSoTimeout(40_000);
                    socket.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    var head = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    if (head.endsWith(" 200")) {
                        outcomes.add("ok", head, millis);
                    } else if (head.isEmpty()) {
                        outcomes.add("closed before any answer", host, millis);
                    } else {
                        outcomes.add("answer " + head, host, millis);
                    }
                } catch (ConnectException e) {
                    outcomes.add("refused", host + ": " + e.getMessage(), 0);
                } catch (IOException e) {
                    outcomes.add("error", host + ": " + e, (System.nanoTime() - start) / 1_000_000);
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @Test
    void aPortAnotherProgramListensOnAtAHostIsRefusedWhenTheApplicationIsConfigured() throws Exception {
        // Each lab host's sshd listens on its address, port 22: the agents report it, the control service refuses it.
        cluster.await("the agents report the ports in use on their hosts", 60, () -> cluster.control.clusterState().nodes().size() == 2
                && cluster.control.clusterState().nodes().values().stream().allMatch(n -> n.busyPorts().contains(22)));
        var refused = org.assertj.core.api.Assertions.catchThrowableOfType(dev.flocker.api.client.FlockerApiException.class,
                () -> cluster.client.createContainer(new Application(N1, "squatter", "flocker/busybox:local", List.of(new Application.Port(80, 22)),
                        Map.of(), null, List.of("httpd", "-f", "-p", "80"), List.of(), null, null, List.of())));
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.description()).startsWith("external port 22 of application squatter is already used on host 10.")
                .contains("choose another external port");
    }

    @Test
    void clientsOfEitherHostSeeNoRefusedOrDroppedConnectionWhileTheAppMovesBackAndForth() throws Exception {
        var id = cluster.client.createDataset(N1, null, Map.of("name", "web"), null, null).datasetId();
        cluster.client.createContainer(new Application(N1, "web", "flocker/busybox:local", List.of(new Application.Port(8080, PORT)), Map.of(),
                null, List.of("sh", "-c", "mkdir -p /data/www/cgi-bin && echo ok > /data/www/index.html && printf '" + SLOW_CGI
                        + "' > /data/www/cgi-bin/slow && chmod +x /data/www/cgi-bin/slow && exec httpd -f -v -p 8080 -h /data/www"),
                List.of(new Application.Volume(id, "/data")), null, null, List.of()));
        var viaN1 = new Outcomes();
        var viaN2 = new Outcomes();
        var slowViaN1 = new Outcomes();
        // Both hosts' proxies answer before the first request: one through n1's own container, one through n1's proxy.
        cluster.await("the app answers through both hosts", 90, () -> answers(cluster.host(1).ip()) && answers(cluster.host(2).ip()));
        // Each rule follows the answer that made it: a proxy releases the connections it held (or carries the first
        // one) before its iptables-restore, which takes 20 ms on a quiet machine and more on a busy one.
        cluster.await("n1, where the app answered, forwards its port in the kernel to the container", 10,
                () -> dnatTarget(1) != null && dnatTarget(1).startsWith("172."));
        cluster.await("n2, which does not run it, forwards its port in the kernel to n1", 10,
                () -> (cluster.host(1).ip() + ":" + PORT).equals(dnatTarget(2)));
        assertThat(cluster.control.clusterState().nodes().values()).as("a proxy's own listener is not another program's")
                .allSatisfy(n -> assertThat(n.busyPorts()).contains(22).doesNotContain(PORT));
        // The kernel hands the app each client's own address (the proxy's copies would show n1's, a masquerade 172.17.0.1).
        assertThat(answers(cluster.host(1).ip())).isTrue();
        cluster.await("httpd logs a request from the test's own address", 10, () -> dockerLogs(1, "web").contains(":" + cluster.lab.bridgeIp() + "]:"));
        // Containers reach it at their own host's address as links do: on n1 through the kernel's rule back onto the same
        // bridge (masqueraded, or the answer would bypass the rule), on n2 through n2's rule to n1 (SNAT'd back through n2).
        for (int i : new int[] {1, 2}) {
            var answer = cluster.docker(i, "run", "--rm", "flocker/busybox:local", "sh", "-c",
                    "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 5 " + cluster.host(i).ip() + " " + PORT);
            assertThat(answer).as("a container on n" + i).startsWith("HTTP/1.1 200 OK").endsWith("\nok\n");
        }
        var stop = new boolean[] {false};
        // A third client's requests take the app 300 ms each: nearly always one is in flight when a handoff holds new
        // connections, and it is answered before the app stops (the handoff's DrainConnections), not cut by the stop.
        var clients = List.of(client(cluster.host(1).ip(), viaN1, stop), client(cluster.host(2).ip(), viaN2, stop),
                client(cluster.host(1).ip(), "/cgi-bin/slow", slowViaN1, stop));
        for (var to : List.of(N2, N1, N2)) {
            long before = viaN1.count("ok") + viaN2.count("ok");
            Outcomes.step = "the move to " + to;
            cluster.client.moveContainer("web", to);
            cluster.await("the move to " + to + " is done", 120, () -> cluster.client.moves().stream()
                    .anyMatch(m -> m.datasetId().equals(id) && m.to().equals(to) && m.phase() == dev.flocker.api.model.MovePhase.DONE)
                    && cluster.primaryOf(id) != null && cluster.primaryOf(id).equals(to));
            cluster.await("clients are answered after the move", 30, () -> viaN1.count("ok") + viaN2.count("ok") > before + 20);
            cluster.await("the move's state reports how long connections were held", 30, () -> cluster.client.moves().stream()
                    .anyMatch(m -> m.datasetId().equals(id) && m.to().equals(to) && m.detail().contains("connections held")));
            cluster.client.moves().stream().filter(m -> m.datasetId().equals(id) && m.to().equals(to))
                    .forEach(m -> System.out.println("proxy move to " + to + ": " + m.detail()));
            int target = to.equals(N1) ? 1 : 2;
            cluster.await("the kernel forwards the port on " + to + " to its container (its clients were answered)", 30,
                    () -> dnatTarget(target) != null && dnatTarget(target).startsWith("172."));
            cluster.await("the source host's rule went with the app: it forwards to " + to, 30,
                    () -> (cluster.host(target).ip() + ":" + PORT).equals(dnatTarget(3 - target)));
        }
        Outcomes.step = "after the moves";
        // Both agents' and the control service's /metrics count the moves, with how long each source held connections.
        for (int host = 1; host <= 2; host++) {
            var metrics = cluster.agentMetrics(host);
            assertThat(metrics).as("n%d /metrics", host).containsPattern("flocker_moves_total\\{outcome=\"done\"} [1-9]")
                    .containsPattern("flocker_move_handoff_seconds_count [1-9]")
                    .containsPattern("flocker_proxy_hold_seconds_count\\{port=\"" + PORT + "\"} [1-9]")
                    .containsPattern("flocker_shipped_bytes_total\\{kind=\"(full|incremental)\"} [1-9]")
                    .containsPattern("flocker_agent_loop_seconds_count\\{look=\"all\"} [1-9]")
                    .containsPattern("flocker_agent_changes_total\\{kind=\"PassOwnership\",outcome=\"ok\"} [1-9]")
                    .contains("flocker_dataset_used_bytes{dataset=\"" + id + "\"}")
                    .contains("jvm_memory_used_bytes");
        }
        // The new owners' loops that waited for the pass read the arriving dataset alone, not the whole pool, and loops woken by
        // pushes alone read the datasets the pushes changed (ConvergenceLoop.scope).
        var wakeLoops = java.util.stream.IntStream.of(1, 2).mapToObj(i -> cluster.linesOfLog(i, "woken_by=").stream()
                .filter(line -> line.contains(HandoffWake.REASON)).map(line -> "n" + i + ": " + line.replaceAll(".* woken_by=", "")))
                .flatMap(lines -> lines).toList();
        assertThat(cluster.agentMetrics(1) + cluster.agentMetrics(2)).as("both agents' /metrics; the loops the old owners' wakes started: %s", wakeLoops)
                .containsPattern("flocker_agent_loop_seconds_count\\{look=\"arrival\"} [1-9]")
                .containsPattern("flocker_agent_loop_seconds_count\\{look=\"changed\"} [1-9]");
        assertThat(cluster.controlMetrics()).containsPattern(
                "flocker_api_requests_seconds_count\\{method=\"POST\",route=\"/v1/configuration/containers/:name\",status=\"200\"} 3")
                .contains("flocker_agents_connected 2.0");
        // Restarting the agent of the app's host (an upgrade, say) refuses none of its clients: the kernel's rule stays
        // while the agent is away, and the new agent binds its listener before it takes the rule over.
        long beforeRestart = viaN1.count("ok") + viaN2.count("ok");
        Outcomes.step = "n2's agent's restart";
        cluster.stopAgent(2);
        Thread.sleep(2000);
        assertThat(kernelForwards(2)).as("the rule outlives the agent").isTrue();
        assertThat(viaN1.count("ok") + viaN2.count("ok")).as("clients are answered while n2's agent is away").isGreaterThan(beforeRestart + 10);
        cluster.startAgent(2, "");
        cluster.await("n2's agent is back: its listener is up and the kernel forwards for it again", 60, () -> kernelForwards(2)
                && cluster.lab.exec(cluster.host(2), "sh", "-c", "ss -ltn | grep -c ':" + PORT + " ' || true").strip().equals("1"));
        Outcomes.step = "after n2's agent's restart";
        Thread.sleep(1000);
        stop[0] = true;
        for (var client : clients) {
            client.join();
        }
        System.out.printf("through n1: %s (longest %d ms); through n2: %s (longest %d ms); slow requests through n1: %s (longest %d ms)%n",
                viaN1.counts, viaN1.longestMillis, viaN2.counts, viaN2.longestMillis, slowViaN1.counts, slowViaN1.longestMillis);
        for (var outcomes : List.of(viaN1, viaN2, slowViaN1)) {
            assertThat(outcomes.counts.keySet()).as("kinds of outcome; examples %s", outcomes.examples).containsOnly("ok");
            assertThat(outcomes.count("ok")).isGreaterThan(outcomes == slowViaN1 ? 10 : 50);
        }
        // A host leaving the cluster: with its agent stopped, flocker-agent --remove-routes takes the rules away.
        cluster.stopAgent(2);
        assertThat(kernelForwards(2)).isTrue();
        var removal = new ProcessBuilder(dev.flocker.lab.Lab.javaCommand(cluster.host(2), AgentMain.class, "--config",
                cluster.agentConfig(2).toString(), "--remove-routes")).redirectErrorStream(true).start();
        var said = new String(removal.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(removal.waitFor()).as(said).isZero();
        assertThat(said).contains("removed the kernel forwarding chains FLOCKER-");
        assertThat(kernelForwards(2)).isFalse();
        assertThat(cluster.lab.exec(cluster.host(2), "iptables", "-w", "5", "-S") + cluster.lab.exec(cluster.host(2), "iptables", "-w", "5", "-t",
                "nat", "-S")).doesNotContain("FLOCKER-");
        cluster.startAgent(2, "");
        cluster.client.deleteContainer("web");
    }

    /** Whether host n{@code i}'s agent has a DNAT rule for the app's port (kernel forwarding, not its proxy's copies). */
    /** Where host {@code i}'s kernel forwards the port ("address:port"), or null when it does not. */
    String dnatTarget(int i) {
        return cluster.lab.exec(cluster.host(i), "iptables", "-w", "5", "-t", "nat", "-S").lines()
                .filter(rule -> rule.contains("--dport " + PORT + " -j DNAT --to-destination "))
                .map(rule -> rule.substring(rule.indexOf("--to-destination ") + "--to-destination ".length()).strip()).findFirst().orElse(null);
    }

    boolean kernelForwards(int i) {
        return cluster.lab.exec(cluster.host(i), "iptables", "-w", "5", "-t", "nat", "-S").lines()
                .anyMatch(rule -> rule.contains("--dport " + PORT + " -j DNAT"));
    }

    /** A container's log, both streams (busybox httpd -v logs to standard error). */
    String dockerLogs(int i, String container) {
        var command = String.join(" ", "/usr/bin/docker", "-H", cluster.host(i).dockerHost(), "logs", container, "2>&1");
        return cluster.lab.exec(cluster.host(i), "sh", "-c", command);
    }

    static boolean answers(String host) {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, PORT), 1000);
            socket.setSoTimeout(2000);
            socket.getOutputStream().write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII).endsWith(" 200");
        } catch (IOException e) {
            return false;
        }
    }
}
