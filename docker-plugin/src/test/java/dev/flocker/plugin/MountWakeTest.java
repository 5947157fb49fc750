package dev.flocker.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.client.AgentChannel;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.control.ControlService;
import dev.flocker.lab.FreePorts;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Mount waiting for its volume against a real control service, with this host's reports coming over a real agent
 * channel: it asks the cluster's state again as soon as its own agent reports the volume here, not at its next poll.
 */
@Tag("integration")
class MountWakeTest {
    @TempDir
    Path dir;

    /** With a 10 s poll, the Mount must still answer within moments of this host's report. */
    @Test
    void aMountLooksAgainAsSoonAsThisHostsAgentReportsTheVolumeHere() throws Exception {
        var certificates = dev.flocker.ca.ClusterCertificates.in(dir.resolve("certificates"), "mount-wake-test", List.of("127.0.0.1"));
        try (var control = ControlService.start(new ControlService.Settings(dir.resolve("control"), "127.0.0.1", 0, 0, FreePorts.next(),
                List.of(), Duration.ofSeconds(15), Duration.ofMillis(100), certificates.control()))) {
            var api = new FlockerClient(URI.create("https://127.0.0.1:" + control.apiPort()), certificates.user("plugin"));
            var host = NodeId.of("33333333-3333-4333-8333-333333333333");
            var reports = new ReportedState();
            var plugin = new VolumePlugin(api, host, new VolumePlugin.Settings(Duration.ofSeconds(30), Duration.ofSeconds(30),
                    Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(60)), null, null, reports);
            var id = api.createDataset(host, null, Map.of("name", "prompt"), null, null).datasetId();
            var mount = CompletableFuture.supplyAsync(() -> plugin.handle("POST", "/VolumeDriver.Mount",
                    "{\"Name\":\"prompt\",\"ID\":\"c1\"}".getBytes(StandardCharsets.UTF_8)));
            Thread.sleep(1000); // it has asked the cluster once, and waits
            assertThat(mount).isNotDone();
            var state = new NodeState(host, "10.9.6.3", "era", List.of(new NodeState.DatasetState(id, true, "/flocker/" + id, null, 1)),
                    List.of(), List.of(), "pool");
            try (var agent = AgentChannel.connect(URI.create("wss://127.0.0.1:" + control.agentPort() + "/v1/agent"), certificates.node(host),
                    view -> { })) {
                agent.firstView().get(10, TimeUnit.SECONDS);
                long reported = System.nanoTime();
                agent.report(state);
                reports.published(state);
                var reply = Json.MAPPER.readTree(mount.get(5, TimeUnit.SECONDS).json());
                long ms = (System.nanoTime() - reported) / 1_000_000;
                assertThat(reply.path("Err").asText("")).isEmpty();
                assertThat(reply.path("Mountpoint").asText()).isEqualTo("/flocker/" + id);
                assertThat(ms).as("ms from the report to the Mount's answer").isLessThan(2000);
                System.out.println("a Mount answered " + ms + " ms after this host reported its volume");
            }
            plugin.handle("POST", "/VolumeDriver.Unmount", "{\"Name\":\"prompt\",\"ID\":\"c1\"}".getBytes(StandardCharsets.UTF_8));
            plugin.close();
        }
    }
}
