package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.NodeId;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control service's /metrics in Prometheus' text format: API requests, configuration writes and conflicts, agents. */
@Tag("integration")
class MetricsTest {
    @TempDir
    Path dir;

    @Test
    void apiRequestsWritesConflictsAndAgentsAreCounted() throws Exception {
        var settings = new ControlService.Settings(dir, "127.0.0.1", 0, 0, RunningService.freePort(), List.of(), Duration.ofSeconds(30),
                Duration.ofMillis(100), RunningService.CERTS.control()).withMetrics("127.0.0.1", 0);
        try (var service = ControlService.start(settings)) {
            var api = URI.create("https://127.0.0.1:" + service.apiPort());
            var client = new dev.flocker.api.client.FlockerClient(api, RunningService.USER);
            client.version();
            var tag = client.datasets().tag();
            client.createDataset(NodeId.random(), null, Map.of(), null, tag);
            var stale = RunningService.call(api, "POST", "/v1/configuration/datasets", "{\"primary\":\"" + NodeId.random() + "\"}",
                    "X-If-Configuration-Matches", tag);
            assertThat(stale.status()).isEqualTo(412);
            var node = NodeId.random();
            try (var agent = new AgentChannelTest.FakeAgent(URI.create("wss://127.0.0.1:" + service.agentPort() + "/v1/agent"), node)) {
                agent.next();
                var text = scrape(service.metricsPort());
                assertThat(text).contains("flocker_api_requests_seconds_count{method=\"GET\",route=\"/v1/version\",status=\"200\"} 1")
                        .contains("flocker_api_requests_seconds_bucket{method=\"POST\",route=\"/v1/configuration/datasets\",status=\"412\"")
                        .contains("flocker_configuration_writes_total{outcome=\"ok\"} 1.0")
                        .contains("flocker_configuration_writes_total{outcome=\"conflict\"} 1.0")
                        .contains("flocker_configuration_commit_seconds_count{step=\"register\"} 1")
                        .contains("flocker_configuration_commit_seconds_count{step=\"disk\"} 1")
                        .contains("flocker_configuration_commit_seconds_bucket{step=\"entries\"")
                        .contains("flocker_agents_connected 1.0")
                        .contains("flocker_control_replicas 1.0")
                        .contains("flocker_configuration_datasets 1.0")
                        .contains("jvm_memory_used_bytes");
            }
            var missing = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.metricsPort() + "/other"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(missing.statusCode()).isEqualTo(404);
        }
    }

    static String scrape(int port) throws Exception {
        var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        return response.body();
    }
}
