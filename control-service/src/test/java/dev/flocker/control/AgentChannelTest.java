package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agents' channel with a real WebSocket client: state in, pushes out, expiry after disconnect. */
@Tag("integration")
class AgentChannelTest {
    @TempDir
    static Path data;
    static RunningService svc;

    @BeforeAll
    static void start() {
        svc = RunningService.start(data, Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        svc.close();
    }

    /** A minimal agent: a WebSocket that queues every message it gets. */
    static final class FakeAgent implements WebSocket.Listener, AutoCloseable {
        final LinkedBlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        final java.util.concurrent.atomic.AtomicInteger acks = new java.util.concurrent.atomic.AtomicInteger();
        final WebSocket socket;
        private final StringBuilder partial = new StringBuilder();

        FakeAgent(RunningService svc) {
            this(svc, NodeId.random());
        }

        /** Connects with {@code node}'s certificate: it may report that node's state only. */
        FakeAgent(RunningService svc, NodeId node) {
            this(svc.agents(), node);
        }

        /** Connects to the agent channel at {@code agents} with {@code node}'s certificate. */
        FakeAgent(java.net.URI agents, NodeId node) {
            socket = HttpClient.newBuilder().sslContext(RunningService.CERTS.node(node).context()).build().newWebSocketBuilder()
                    .buildAsync(agents, this).join();
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                var message = Json.read(partial.toString(), JsonNode.class);
                partial.setLength(0);
                if (message.path("type").asText().equals("ack")) {
                    acks.incrementAndGet(); // the service stored a state or ping: kept apart from the pushes
                } else {
                    received.add(message);
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        void ping() {
            socket.sendText(Json.write(Map.of("type", "ping")), true).join();
        }

        void report(NodeState state) {
            socket.sendText(Json.write(Map.of("type", "state", "state", state)), true).join();
        }

        JsonNode next() throws InterruptedException {
            var message = received.poll(10, TimeUnit.SECONDS);
            assertThat(message).as("a push within 10 s").isNotNull();
            return message;
        }

        @Override
        public void close() {
            socket.abort();
        }
    }

    static NodeState holding(NodeId node, String host, DatasetId... datasets) {
        return new NodeState(node, host, "era-" + host, java.util.Arrays.stream(datasets)
                .map(d -> new NodeState.DatasetState(d, false, null, 67108864L, 1)).toList(), List.of(), List.of());
    }

    static NodeState state(NodeId node, String host, String era, DatasetId dataset) {
        return new NodeState(node, host, era, List.of(new NodeState.DatasetState(dataset, true, "/flocker/" + dataset, 67108864L, 1)),
                List.of(new NodeState.ApplicationState("web", "nginx:1", true, List.of())),
                List.of(new NodeState.MoveState(dataset, node, NodeId.random(), dev.flocker.api.model.MovePhase.PRE_COPY, 10, 100, 5.0, 18.0, null)));
    }

    @Test
    void reportedStateShowsInTheStateEndpointsAndEveryChangeIsPushed() throws Exception {
        var node = NodeId.random();
        var dataset = DatasetId.random();
        try (var agent = new FakeAgent(svc, node)) {
            assertThat(agent.next().get("type").asText()).isEqualTo("update");
            agent.report(state(node, "10.9.8.7", "era-42", dataset));
            waitFor(() -> svc.call("GET", "/v1/state/nodes", null).raw().contains(node.toString()));
            assertThat(svc.call("GET", "/v1/state/nodes", null).raw()).contains("\"host\":\"10.9.8.7\"");
            assertThat(svc.call("GET", "/v1/state/nodes/by_era/era-42", null).body().get("uuid").asText()).isEqualTo(node.toString());
            var unknownEra = svc.call("GET", "/v1/state/nodes/by_era/nope", null);
            assertThat(unknownEra.status()).isEqualTo(404);
            assertThat(unknownEra.body().get("description").asText()).isEqualTo("No node found with given era.");
            var datasets = svc.call("GET", "/v1/state/datasets", null).body();
            var entry = find(datasets, "dataset_id", dataset.toString());
            assertThat(entry.get("primary").asText()).isEqualTo(node.toString());
            assertThat(entry.get("path").asText()).isEqualTo("/flocker/" + dataset);
            assertThat(entry.get("move").get("phase").asText()).isEqualTo("pre-copy");
            assertThat(svc.call("GET", "/v1/state/moves", null).raw()).contains("\"eta_seconds\":18.0");
            assertThat(svc.call("GET", "/v1/state/containers", null).raw()).contains("\"running\":true");

            // A configuration change reaches the agent; the pushed cluster state carries its own report.
            agent.received.clear();
            svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\",\"dataset_id\":\"" + dataset + "\"}");
            JsonNode push;
            do {
                push = agent.next();
            } while (!push.get("configuration").toString().contains(dataset.toString()));
            assertThat(push.get("type").asText()).isEqualTo("diff");
            // Only what changed travels: the new dataset, not the whole configuration.
            assertThat(push.get("configuration").get("datasets")).hasSize(1);
            // Reported state never changes the configuration.
            assertThat(svc.call("GET", "/v1/configuration/datasets", null).raw()).doesNotContain("era-42");
        }
    }

    /** Creates a dataset on {@code node} through {@code svc}'s API; how long until {@code agent} was pushed it. */
    static Duration untilPushed(RunningService svc, FakeAgent agent, NodeId node) throws InterruptedException {
        long started = System.nanoTime();
        var id = DatasetId.random();
        svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\",\"dataset_id\":\"" + id + "\"}");
        JsonNode push;
        do {
            push = agent.next();
        } while (!push.path("configuration").toString().contains(id.toString()));
        return Duration.ofNanos(System.nanoTime() - started);
    }

    /** A host reporting {@code dataset} writable and mounted here, at ownership generation {@code generation}. */
    static NodeState owning(NodeId node, String host, DatasetId dataset, long generation) {
        return new NodeState(node, host, "era-" + host, List.of(new NodeState.DatasetState(dataset, true, "/flocker/" + host + "/" + dataset,
                67108864L, generation)), List.of(), List.of());
    }

    @Test
    void duringAHandoffBothHostsReportTheDatasetWritableAndTheStateShowsTheNewerGeneration() throws Exception {
        var a = NodeId.random();
        var b = NodeId.random();
        var dataset = DatasetId.random();
        try (var agentA = new FakeAgent(svc, a); var agentB = new FakeAgent(svc, b)) {
            agentA.next();
            agentB.next();
            // b passed to a: a reports its new copy, b has not reported since its handoff began. Then back again, the other
            // way round, so whichever order the hosts are kept in, one of the two would show the old owner.
            for (var round : List.of(new long[] {6, 5}, new long[] {7, 8})) {
                int acksA = agentA.acks.get();
                int acksB = agentB.acks.get();
                agentA.report(owning(a, "10.9.8.21", dataset, round[0]));
                agentB.report(owning(b, "10.9.8.22", dataset, round[1]));
                waitFor(() -> agentA.acks.get() > acksA && agentB.acks.get() > acksB); // both stored
                var newer = round[0] > round[1] ? a : b;
                var host = round[0] > round[1] ? "10.9.8.21" : "10.9.8.22";
                java.util.function.Supplier<JsonNode> entry = () -> find(svc.call("GET", "/v1/state/datasets", null).body(), "dataset_id",
                        dataset.toString());
                waitFor(() -> newer.toString().equals(entry.get().path("primary").asText()));
                Thread.sleep(300); // and it stays so: not a moment before the older report was seen
                assertThat(entry.get().get("primary").asText()).as("generations %d and %d", round[0], round[1]).isEqualTo(newer.toString());
                assertThat(entry.get().get("path").asText()).isEqualTo("/flocker/" + host + "/" + dataset);
            }
        }
    }

    @Test
    void theJavaAgentChannelKeepsAnExactCopyOfItsNodesViewFromAFullStateAndDiffs() throws Exception {
        var node = NodeId.random();
        var updates = new java.util.concurrent.atomic.AtomicInteger();
        try (var channel = dev.flocker.api.client.AgentChannel.connect(svc.agents(), RunningService.CERTS.node(node),
                v -> updates.incrementAndGet())) {
            channel.firstView().get(10, TimeUnit.SECONDS);
            channel.report(state(node, "10.9.8.3", "era-java", DatasetId.random()));
            for (int i = 0; i < 20; i++) {
                svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\"}");
            }
            var client = svc.client();
            waitFor(() -> channel.view().configuration().tag().equals(client.datasets().tag())
                    && channel.view().clusterState().node(node).isPresent());
            // Its node's datasets, every one of them, and no other node's.
            assertThat(channel.view().configuration().datasets().values()).hasSize(20)
                    .containsExactlyInAnyOrderElementsOf(client.datasets().value().stream().filter(d -> node.equals(d.primary())).toList());
            assertThat(updates.get()).isGreaterThan(1);
        }
    }

    @Test
    void composeReplacesTheDeploymentOnKnownNodesAndRefusesBadFilesWithTheirMessage() throws Exception {
        var node = NodeId.random();
        try (var agent = new FakeAgent(svc, node)) {
            agent.next();
            agent.report(state(node, "10.9.9.11", "era-compose", DatasetId.random()));
            waitFor(() -> svc.call("GET", "/v1/state/nodes", null).raw().contains(node.toString()));
            var body = "{\"applications\": {\"version\": 1, \"applications\": {\"cdb\": {\"image\": \"postgres:15\","
                    + "\"ports\": [{\"internal\": 5432, \"external\": 25432}], \"volume\": {\"mountpoint\": \"/data\", \"maximum_size\": \"1G\"}}}},"
                    + "\"deployment\": {\"version\": 1, \"nodes\": {\"10.9.9.11\": [\"cdb\"]}}}";
            var composed = svc.call("POST", "/v1/configuration/_compose", body);
            assertThat(composed.status()).as(composed.raw()).isEqualTo(200);
            assertThat(composed.raw()).isEqualTo("null");
            var containers = svc.call("GET", "/v1/configuration/containers", null).raw();
            assertThat(containers).contains("\"name\":\"cdb\"").contains(node.toString());
            assertThat(svc.call("GET", "/v1/configuration/datasets", null).raw()).contains("\"maximum_size\":1073741824");

            var unknownNode = svc.call("POST", "/v1/configuration/_compose", body.replace("10.9.9.11", "10.9.9.99"));
            assertThat(unknownNode.status()).isEqualTo(400);
            assertThat(unknownNode.body().get("description").asText()).isEqualTo("No known node with address 10.9.9.99.");
            var missingImage = svc.call("POST", "/v1/configuration/_compose", body.replace("\"image\": \"postgres:15\",", ""));
            assertThat(missingImage.status()).isEqualTo(400);
            assertThat(missingImage.body().get("description").asText()).isEqualTo("Application 'cdb' has a config error. Missing 'image' key.");
            assertThat(svc.call("POST", "/v1/configuration/_compose", "{\"applications\": {}}").status()).isEqualTo(400);
            // A refused file changed nothing.
            assertThat(svc.call("GET", "/v1/configuration/containers", null).raw()).isEqualTo(containers);
            // flocker-deploy sends the tag it planned from: a stale one is refused before anything else, a current one applies.
            var stale = svc.call("POST", "/v1/configuration/_compose", body.replace("25432", "25433"), "X-If-Configuration-Matches", "stale-tag");
            assertThat(stale.status()).isEqualTo(412);
            assertThat(svc.call("GET", "/v1/configuration/containers", null).raw()).isEqualTo(containers);
            var tag = svc.call("GET", "/v1/configuration/containers", null).tag();
            var current = svc.call("POST", "/v1/configuration/_compose", body.replace("25432", "25433"), "X-If-Configuration-Matches", tag);
            assertThat(current.status()).as(current.raw()).isEqualTo(200);
            assertThat(svc.call("GET", "/v1/configuration/containers", null).raw()).contains("25433");
        }
    }

    @Test
    void anExternalPortAnotherProgramUsesOnSomeHostIsRefusedWhenAnApplicationIsConfigured() throws Exception {
        var node = NodeId.random();
        try (var agent = new FakeAgent(svc, node)) {
            agent.next();
            var plain = state(node, "10.9.9.21", "era-ports", DatasetId.random());
            agent.report(new NodeState(plain.uuid(), plain.host(), plain.era(), plain.datasets(), plain.applications(), plain.moves(), "pool",
                    List.of(22, 26543)));
            waitFor(() -> svc.call("GET", "/v1/state/nodes", null).raw().contains(node.toString()));
            var before = svc.call("GET", "/v1/configuration/containers", null).raw();
            var refused = svc.call("POST", "/v1/configuration/containers",
                    "{\"node_uuid\":\"" + node + "\",\"name\":\"busy\",\"image\":\"x\",\"ports\":[{\"internal\":80,\"external\":26543}]}");
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.body().get("description").asText()).isEqualTo("external port 26543 of application busy is already used on host "
                    + "10.9.9.21 (node " + node + ") by a program other than Flocker; every host's proxy must listen on it: choose another external port");
            var composed = svc.call("POST", "/v1/configuration/_compose", "{\"applications\": {\"version\": 1, \"applications\": {\"busy\": "
                    + "{\"image\": \"x\", \"ports\": [{\"internal\": 80, \"external\": 26543}]}}}, \"deployment\": {\"version\": 1, "
                    + "\"nodes\": {\"10.9.9.21\": [\"busy\"]}}}");
            assertThat(composed.status()).isEqualTo(409);
            assertThat(composed.body().get("description").asText()).startsWith("external port 26543 of application busy is already used");
            assertThat(svc.call("GET", "/v1/configuration/containers", null).raw()).as("nothing changed").isEqualTo(before);
            var free = svc.call("POST", "/v1/configuration/containers",
                    "{\"node_uuid\":\"" + node + "\",\"name\":\"free\",\"image\":\"x\",\"ports\":[{\"internal\":80,\"external\":26544}]}");
            assertThat(free.status()).as(free.raw()).isEqualTo(201);
            assertThat(svc.call("DELETE", "/v1/configuration/containers/free", null).status()).isEqualTo(200);
        }
    }

    @Test
    void aDeletedDatasetIsForgottenOnceNoNodeHoldsItButKeptWhileOneDoes() throws Exception {
        var node = NodeId.random();
        var held = DatasetId.random();
        // Tombstones are kept a retention period at least (a day by default, DeletionTest); a second here.
        try (var svc = RunningService.start(data.resolve("tombstones"), Duration.ofSeconds(2), Duration.ofSeconds(1));
             var agent = new FakeAgent(svc, node)) {
            agent.next();
            agent.report(state(node, "10.9.8.2", "era-tomb", held));
            waitFor(() -> svc.call("GET", "/v1/state/nodes", null).raw().contains(node.toString()));
            var free = svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\"}").body().get("dataset_id").asText();
            svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\",\"dataset_id\":\"" + held + "\"}");
            svc.call("DELETE", "/v1/configuration/datasets/" + free, null);
            svc.call("DELETE", "/v1/configuration/datasets/" + held, null);
            waitFor(() -> !svc.call("GET", "/v1/configuration/datasets", null).raw().contains(free));
            // Its id can be used again.
            assertThat(svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\",\"dataset_id\":\"" + free + "\"}")
                    .status()).isEqualTo(201);
            Thread.sleep(1500);
            assertThat(svc.call("GET", "/v1/configuration/datasets", null).raw()).contains(held.toString());
        }
    }

    /**
     * An agent is sent what concerns its node only: its datasets (primary or standby), the others' reports of those, and
     * every node's address; a change elsewhere is not pushed to it at all.
     */
    @Test
    void anAgentIsSentOnlyWhatConcernsItsNode() throws Exception {
        var mine = NodeId.random();
        var other = NodeId.random();
        try (var a = new FakeAgent(svc, mine); var b = new FakeAgent(svc, other)) {
            a.next();
            b.next();
            var shared = DatasetId.random();
            var theirs = DatasetId.random();
            b.report(holding(other, "10.9.7.2", shared, theirs));
            a.report(holding(mine, "10.9.7.1"));
            waitFor(() -> svc.call("GET", "/v1/state/nodes", null).raw().contains("10.9.7.1"));
            Thread.sleep(500);
            a.received.clear();
            svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + other + "\",\"dataset_id\":\"" + theirs + "\"}");
            Thread.sleep(1000);
            // (Other tests' nodes expiring may push to it meanwhile, but never this dataset.)
            assertThat(a.received.toString()).as("a change that does not concern node a is not pushed to it").doesNotContain(theirs.toString());
            svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + mine + "\",\"dataset_id\":\"" + shared + "\"}");
            JsonNode push;
            do {
                push = a.next();
            } while (!push.get("configuration").toString().contains(shared.toString()));
            assertThat(push.toString()).doesNotContain(theirs.toString());
            // The other node's report is shown with the shared dataset only (the one a is now primary of, b holds).
            var reportOfB = push.get("cluster_state").get("nodes");
            assertThat(reportOfB.toString()).contains(shared.toString()).contains("10.9.7.2");
        }
    }

    @Test
    void burstsOfChangesAreCoalescedIntoAFewPushes() throws Exception {
        var node = NodeId.random();
        try (var agent = new FakeAgent(svc, node)) {
            agent.next();
            agent.received.clear();
            String last = null;
            long started = System.nanoTime();
            for (int i = 0; i < 30; i++) {
                last = svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + node + "\"}").body().get("dataset_id").asText();
            }
            var expected = last;
            waitFor(() -> agent.received.stream().anyMatch(m -> m.get("configuration").toString().contains(expected)));
            long burstMillis = (System.nanoTime() - started) / 1_000_000;
            Thread.sleep(500);
            // One push per window at most, however long the writes took on this machine.
            long window = dev.flocker.control.agents.AgentChannelServer.CONFIG_PUSH_MILLIS;
            assertThat(agent.received.size()).as("pushes for 30 changes written in %d ms", burstMillis)
                    .isLessThanOrEqualTo((int) (burstMillis / window + 2));
        }
    }

    /**
     * Others' reports are pushed at most once per push interval; a change of the node's own desired state (a move
     * starting) does not wait for that interval: it goes out at once, or 20 ms after the last such change was pushed.
     */
    @Test
    void aChangeOfTheNodesDesiredStateIsPushedAtOnceWhileOthersReportsAreRateLimited() throws Exception {
        var mine = NodeId.random();
        var noisy = NodeId.random();
        try (var slow = RunningService.start(data.resolve("slow-pushes"), Duration.ofSeconds(30), ControlService.Settings.DELETED_RETENTION,
                Duration.ofSeconds(5)); var a = new FakeAgent(slow, mine); var b = new FakeAgent(slow, noisy)) {
            a.next();
            b.next();
            var running = new java.util.concurrent.atomic.AtomicBoolean(true);
            var reports = Thread.ofVirtual().start(() -> {
                for (int i = 0; running.get(); i++) {
                    b.report(holding(noisy, "10.9.8." + (i % 2 + 1)));
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                JsonNode push;
                do {
                    push = a.next(); // a push of b's changing address: the interval starts now
                } while (!push.toString().contains("10.9.8."));
                assertThat(untilPushed(slow, a, mine)).as("the new dataset, pushed without waiting for the 5 s interval")
                        .isLessThan(Duration.ofMillis(2500));
                // A second change right after (as a Docker volume's lease, then its move): nor does it wait for the interval.
                assertThat(untilPushed(slow, a, mine)).as("a second change, right after the first").isLessThan(Duration.ofMillis(2500));
            } finally {
                running.set(false);
                reports.join();
            }
        }
    }

    /**
     * A move's progress (bytes copied) changes its source's report on every loop; agents plan from none of it, and each push
     * runs a loop on the agent. Progress alone reaches the other agent at most once a second, the latest of it is not
     * lost, and a change of the move's phase goes at once.
     */
    @Test
    void aReportsProgressAloneReachesAnotherAgentAtMostOnceASecondWhileAPhaseChangeGoesAtOnce() throws Exception {
        var target = NodeId.random();
        var source = NodeId.random();
        var id = DatasetId.random();
        // Its own service: with the class's 2 s node expiry, the source's report could expire during the waits below,
        // and its coming back is a push of its own.
        try (var service = RunningService.start(data.resolve("progress"), Duration.ofSeconds(30));
             var a = new FakeAgent(service, target); var b = new FakeAgent(service, source)) {
            a.next();
            b.next();
            b.report(moving(source, target, id, dev.flocker.api.model.MovePhase.PRE_COPY, 1));
            JsonNode push;
            do {
                push = a.next();
            } while (!push.toString().contains(id.toString()));
            Thread.sleep(1100); // the first progress may go at once; from here on at most once a second
            a.received.clear();
            for (int i = 2; i <= 40; i++) { // 2 s of progress, a report every 50 ms
                b.report(moving(source, target, id, dev.flocker.api.model.MovePhase.PRE_COPY, i * 1000L));
                Thread.sleep(50);
            }
            var progress = new java.util.ArrayList<JsonNode>();
            a.received.drainTo(progress);
            assertThat(progress.size()).as("pushes of progress alone in 2 s (one every 200 ms before): " + progress).isBetween(1, 3);
            long deadline = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            boolean latest = progress.stream().anyMatch(p -> p.toString().contains("\"bytes\":40000"));
            while (!latest && System.nanoTime() < deadline) {
                var next = a.received.poll(100, TimeUnit.MILLISECONDS);
                latest = next != null && next.toString().contains("\"bytes\":40000");
            }
            assertThat(latest).as("the latest progress arrives").isTrue();

            b.report(moving(source, target, id, dev.flocker.api.model.MovePhase.HANDOFF, 40000));
            long reported = System.nanoTime();
            do {
                push = a.next();
            } while (!push.toString().contains("\"handoff\""));
            assertThat(Duration.ofNanos(System.nanoTime() - reported)).as("the phase change, at the push interval").isLessThan(Duration.ofMillis(700));
        }
    }

    private static NodeState moving(NodeId source, NodeId target, DatasetId id, dev.flocker.api.model.MovePhase phase, long bytes) {
        return new NodeState(source, "10.9.7.1", "era-moving", List.of(new NodeState.DatasetState(id, true, "/flocker/" + id, null, 1)), List.of(),
                List.of(new NodeState.MoveState(id, source, target, phase, bytes, 100_000, 1e6, 0.1, "round " + bytes)));
    }

    @Test
    void aNodeIsForgottenAfterItsAgentIsGoneForTheExpiryTime() throws Exception {
        var node = NodeId.random();
        var agent = new FakeAgent(svc, node);
        agent.next();
        agent.report(state(node, "10.9.8.6", "era-gone", DatasetId.random()));
        waitFor(() -> svc.call("GET", "/v1/state/nodes", null).raw().contains(node.toString()));
        agent.close();
        Thread.sleep(500);
        assertThat(svc.call("GET", "/v1/state/nodes", null).raw()).contains(node.toString());
        waitFor(() -> !svc.call("GET", "/v1/state/nodes", null).raw().contains(node.toString()));
    }

    @Test
    void aConnectionSpeaksForOneNodeOnlyAndBadMessagesCloseIt() throws Exception {
        var mine = NodeId.random();
        try (var agent = new FakeAgent(svc, mine)) {
            agent.next();
            agent.report(state(mine, "10.9.8.5", "e1", DatasetId.random()));
            var other = NodeId.random();
            agent.report(state(other, "10.9.8.4", "e2", DatasetId.random()));
            assertThat(agent.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1008);
            Thread.sleep(300);
            assertThat(svc.call("GET", "/v1/state/nodes", null).raw()).doesNotContain(other.toString());
        }
        try (var agent = new FakeAgent(svc)) {
            agent.socket.sendText("{\"type\":\"state\",\"state\":{\"uuid\":\"x\"}}", true).join();
            assertThat(agent.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1008);
        }
    }

    static JsonNode find(JsonNode array, String key, String value) {
        for (var item : array) {
            if (value.equals(item.path(key).asText())) {
                return item;
            }
        }
        throw new AssertionError("no entry with " + key + "=" + value + " in " + array);
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 15 s");
            }
            Thread.sleep(50);
        }
    }
}
