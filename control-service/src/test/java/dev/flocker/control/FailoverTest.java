package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Standby copies in the configuration: the API's {@code replicas} and {@code standby_nodes} (placement, bad input), and
 * the control service's failover decisions, as a pure table and end to end over the agent channel.
 */
class FailoverTest {
    static final NodeId A = NodeId.of("aaaaaaaa-0000-4000-8000-000000000001");
    static final NodeId B = NodeId.of("bbbbbbbb-0000-4000-8000-000000000002");
    static final NodeId C = NodeId.of("cccccccc-0000-4000-8000-000000000003");
    static final DatasetId D = DatasetId.of("dddddddd-0000-4000-8000-000000000004");
    static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
    static final Instant STARTED = NOW.minusSeconds(600);
    static final Duration AFTER = Duration.ofSeconds(10);

    @TempDir
    Path data;

    /** A node's report: its address from its first hex digit (a: 10.0.0.1), a dataset root, and {@code copies}. */
    static NodeState node(NodeId id, NodeState.DatasetState... copies) {
        return new NodeState(id, "10.0.0." + (id.toString().charAt(0) - (int) 'a' + 1), "e", List.of(copies), List.of(), List.of(), "pool");
    }

    static NodeState.DatasetState copy(boolean primary, long generation, Instant snapshot) {
        return new NodeState.DatasetState(D, primary, null, null, generation, null, snapshot, null);
    }

    static Configuration withStandbys(NodeId primary, NodeId... standbys) {
        return Configuration.EMPTY.withDataset(new Dataset(D, primary, false, Map.of(), null).withReplicas(standbys.length, List.of(standbys)));
    }

    static List<Failover.Decision> decide(Configuration config, Map<NodeId, Instant> seen, NodeState... live) {
        var nodes = new HashMap<NodeId, NodeState>();
        for (var n : live) {
            nodes.put(n.uuid(), n);
        }
        return Failover.decide(config, new ClusterState(nodes, Map.of()), n -> Optional.ofNullable(seen.get(n)), STARTED, NOW, AFTER);
    }

    @Test
    void aStandbyIsPromotedOnlyOnceThePrimaryWasSilentLongerThanFailoverAfter() {
        var config = withStandbys(A, B);
        var standby = node(B, copy(false, 2, NOW.minusSeconds(12)));
        assertThat(decide(config, Map.of(A, NOW.minusSeconds(9), B, NOW), standby)).as("silent 9 s of 10").isEmpty();
        var decisions = decide(config, Map.of(A, NOW.minusSeconds(11), B, NOW), standby);
        assertThat(decisions).singleElement().satisfies(d -> {
            assertThat(d.to()).isEqualTo(B);
            assertThat(d.from()).isEqualTo(A);
            assertThat(d.generation()).as("above every generation reported").isEqualTo(3);
        });
    }

    @Test
    void aNodeWhoseLeaseOutlastsFailoverAfterIsGivenItsLeaseAndTheFencesStopTime() {
        var config = withStandbys(A, B);
        var standby = node(B, copy(false, 0, NOW));
        var slowFence = new NodeState(A, "10.0.0.1", "e", List.of(), List.of(), List.of(), "pool", List.of(), List.of(), 20.0);
        var nodes = Map.of(B, standby);
        var cluster = new ClusterState(nodes, Map.of(A, slowFence.holdings()));
        assertThat(Failover.decide(config, cluster, n -> Optional.of(n.equals(A) ? NOW.minusSeconds(23) : NOW), STARTED, NOW, AFTER))
                .as("a 20 s lease and 4 s to stop: not at 23 s").isEmpty();
        assertThat(Failover.decide(config, cluster, n -> Optional.of(n.equals(A) ? NOW.minusSeconds(25) : NOW), STARTED, NOW, AFTER))
                .singleElement().satisfies(d -> assertThat(d.to()).isEqualTo(B));
    }

    @Test
    void theStandbyWithTheNewestSnapshotWinsAndOneWithoutASnapshotNeverDoes() {
        var config = withStandbys(A, B, C);
        var older = node(B, copy(false, 0, NOW.minusSeconds(20)));
        var newer = node(C, copy(false, 0, NOW.minusSeconds(13)));
        assertThat(decide(config, Map.of(A, NOW.minusSeconds(30)), older, newer)).singleElement()
                .satisfies(d -> assertThat(d.to()).isEqualTo(C));
        var empty = node(C, copy(false, 0, null));
        assertThat(decide(config, Map.of(A, NOW.minusSeconds(30)), empty)).as("no live standby with a snapshot").isEmpty();
    }

    @Test
    void aNodeNeverSeenSinceTheServiceStartedIsGivenFailoverAfterFromTheStart() {
        var config = withStandbys(A, B);
        var standby = node(B, copy(false, 0, NOW));
        assertThat(Failover.decide(config, new ClusterState(Map.of(B, standby), Map.of()), n -> Optional.empty(), NOW.minusSeconds(5), NOW,
                AFTER)).as("the replica started 5 s ago").isEmpty();
    }

    @Test
    void aPromotionSwapsTheOldPrimaryIntoTheStandbysAndAMissingStandbyIsReplaced() {
        var promoted = withStandbys(A, B).datasets().get(D).promoted(B, 3, NOW);
        assertThat(promoted.primary()).isEqualTo(B);
        assertThat(promoted.standbyNodes()).containsExactly(A);
        assertThat(promoted.failover()).isEqualTo(new Dataset.Failover(A, 3, NOW));
        var shortOne = Configuration.EMPTY.withDataset(new Dataset(D, A, false, Map.of(), null).withReplicas(2, List.of(B)));
        assertThat(decide(shortOne, Map.of(A, NOW), node(A), node(B), node(C))).singleElement()
                .satisfies(d -> assertThat(d.standbys()).containsExactly(B, C));
    }

    @Test
    void aStandbySilentForLongIsReplacedByALiveNodeAndAShortOutageKeepsItsPlace() {
        var config = withStandbys(A, B);
        var live = List.of(node(A), node(C));
        var shortly = decide(config, Map.of(A, NOW, B, NOW.minusSeconds(30)), live.toArray(NodeState[]::new));
        assertThat(shortly).as("silent 30 s: kept").isEmpty();
        var long_ = decide(config, Map.of(A, NOW, B, NOW.minusSeconds(61)), live.toArray(NodeState[]::new));
        assertThat(long_).singleElement().satisfies(d -> {
            assertThat(d.to()).isNull();
            assertThat(d.standbys()).containsExactly(C);
        });
        assertThat(decide(config, Map.of(A, NOW, B, NOW.minusSeconds(61)), node(A))).as("no live node to take its place").isEmpty();
    }

    @Test
    void replicasThroughTheApiWithPlacementBadInputAndAFailoverOverTheAgentChannel() throws Exception {
        var settings = new ControlService.Settings(data, "127.0.0.1", 0, 0, RunningService.freePort(), List.of(), Duration.ofSeconds(30),
                Duration.ofMillis(200), RunningService.CERTS.control()).withFailoverAfter(Duration.ofSeconds(2));
        try (var svc = new RunningService(ControlService.start(settings), data);
             var a = new AgentChannelTest.FakeAgent(svc, A); var b = new AgentChannelTest.FakeAgent(svc, B)) {
            a.report(node(A));
            await("one node reports", () -> svc.service.clusterState().nodes().size() == 1);
            var tag = svc.call("GET", "/v1/configuration/datasets", null).tag();
            var lonely = svc.call("POST", "/v1/configuration/datasets", "{\"primary\": \"" + A + "\", \"replicas\": 1}");
            assertThat(lonely.status()).as(lonely.raw()).isEqualTo(409);
            assertThat(lonely.body().get("description").asText()).startsWith("replicas: 1 standby copies need 1 nodes besides the primary");
            var tooMany = svc.call("POST", "/v1/configuration/datasets", "{\"primary\": \"" + A + "\", \"replicas\": 5}");
            assertThat(tooMany.status()).isEqualTo(400);
            assertThat(tooMany.body().toString()).contains("replicas");
            var unknown = svc.call("POST", "/v1/configuration/datasets", "{\"primary\": \"" + A + "\", \"replicas\": 1, \"standby_nodes\": [\"" + C + "\"]}");
            assertThat(unknown.status()).isEqualTo(400);
            assertThat(unknown.body().get("description").asText()).isEqualTo("standby_nodes: " + C
                    + " is not a node of this cluster (GET /v1/state/nodes lists them)");
            var self = svc.call("POST", "/v1/configuration/datasets", "{\"primary\": \"" + A + "\", \"standby_nodes\": [\"" + A + "\"]}");
            assertThat(self.status()).isEqualTo(400);
            assertThat(svc.call("GET", "/v1/configuration/datasets", null).tag()).as("nothing changed").isEqualTo(tag);

            b.report(node(B));
            await("two nodes report", () -> svc.service.clusterState().nodes().size() == 2);
            var created = svc.call("POST", "/v1/configuration/datasets", "{\"primary\": \"" + A + "\", \"dataset_id\": \"" + D + "\", \"replicas\": 1}");
            assertThat(created.status()).as(created.raw()).isEqualTo(201);
            assertThat(created.body().get("replicas").asInt()).isEqualTo(1);
            assertThat(created.body().get("standby_nodes").get(0).asText()).isEqualTo(B.toString());
            var app = svc.call("POST", "/v1/configuration/containers", "{\"node_uuid\": \"" + A + "\", \"name\": \"db\", \"image\": \"busybox\","
                    + " \"volumes\": [{\"dataset_id\": \"" + D + "\", \"mountpoint\": \"/data\"}]}");
            assertThat(app.status()).as(app.raw()).isEqualTo(201);
            var plain = svc.call("POST", "/v1/configuration/datasets", "{\"primary\": \"" + A + "\"}");
            assertThat(plain.body().has("replicas")).as("a Flocker client sees nothing new: %s", plain.raw()).isFalse();
            assertThat(plain.body().has("standby_nodes")).isFalse();

            // A keeps pinging and is acknowledged; B holds a standby copy. Then A goes silent: B is promoted after 2 s.
            b.report(node(B, copy(false, 0, Instant.now())));
            long lastPing = 0;
            for (int i = 0; i < 6; i++) {
                a.ping();
                lastPing = System.nanoTime();
                Thread.sleep(500);
            }
            assertThat(a.acks.get()).as("every state and ping is acknowledged").isGreaterThanOrEqualTo(7);
            assertThat(svc.client().datasets().value().stream().filter(d -> d.datasetId().equals(D)).findFirst().orElseThrow().primary())
                    .as("not promoted while A pings").isEqualTo(A);
            long silentFrom = lastPing;
            await("B promoted", () -> svc.client().datasets().value().stream().anyMatch(d -> d.datasetId().equals(D) && d.primary().equals(B)));
            assertThat(Duration.ofNanos(System.nanoTime() - silentFrom)).as("after failover-after (2 s) from A's last ping")
                    .isGreaterThan(Duration.ofMillis(1900));
            var after = svc.call("GET", "/v1/configuration/datasets", null).body();
            for (var d : after) {
                if (d.get("dataset_id").asText().equals(D.toString())) {
                    assertThat(d.get("standby_nodes").get(0).asText()).as("the old primary becomes the standby").isEqualTo(A.toString());
                    assertThat(d.get("failover").get("from").asText()).isEqualTo(A.toString());
                    assertThat(d.get("failover").get("generation").asLong()).isEqualTo(1);
                }
            }
            var containers = svc.call("GET", "/v1/configuration/containers", null).body();
            assertThat(containers.get(0).get("node_uuid").asText()).as("the application goes with its dataset").isEqualTo(B.toString());
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
