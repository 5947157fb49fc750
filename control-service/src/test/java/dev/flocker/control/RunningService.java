package dev.flocker.control;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.Json;
import dev.flocker.ca.ClusterCertificates;
import dev.flocker.api.tls.TlsFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A control-service replica for tests, on free loopback ports with its own data directory, with TLS as always. */
final class RunningService implements AutoCloseable {
    /** One cluster CA for this test JVM: the control service's certificate (for 127.0.0.1), users' and nodes'. */
    static final ClusterCertificates CERTS = certificates();
    static final TlsFiles USER = CERTS.user("tester");
    private static final HttpClient HTTP = HttpClient.newBuilder().sslContext(USER.context()).build();
    final ControlService service;
    final Path dataPath;

    RunningService(ControlService service, Path dataPath) {
        this.service = service;
        this.dataPath = dataPath;
    }

    static RunningService start(Path dataPath, Duration nodeExpiry) {
        return start(dataPath, nodeExpiry, ControlService.Settings.DELETED_RETENTION);
    }

    static RunningService start(Path dataPath, Duration nodeExpiry, Duration deletedRetention) {
        return start(dataPath, nodeExpiry, deletedRetention, Duration.ofMillis(200));
    }

    static RunningService start(Path dataPath, Duration nodeExpiry, Duration deletedRetention, Duration pushInterval) {
        var settings = new ControlService.Settings(dataPath, "127.0.0.1", 0, 0, freePort(), List.of(), nodeExpiry, pushInterval,
                CERTS.control()).withDeletedRetention(deletedRetention);
        return new RunningService(ControlService.start(settings), dataPath);
    }

    private static ClusterCertificates certificates() {
        return ClusterCertificates.in(dev.flocker.lab.ExitTempDir.create("control-test-certs"), "test", List.of("127.0.0.1"));
    }

    /** A client of the API as a user. */
    FlockerClient client() {
        return new FlockerClient(api(), USER);
    }

    static int freePort() {
        return dev.flocker.lab.FreePorts.next();
    }

    URI api() {
        return URI.create("https://127.0.0.1:" + service.apiPort());
    }

    URI agents() {
        return URI.create("wss://127.0.0.1:" + service.agentPort() + "/v1/agent");
    }

    record Answer(int status, JsonNode body, String tag, String raw, String etag) {
    }

    Answer call(String method, String path, String body, String... headers) {
        return call(api(), method, path, body, headers);
    }

    static Answer call(URI api, String method, String path, String body, String... headers) {
        var request = HttpRequest.newBuilder(api.resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        try {
            var response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json = null;
            try {
                json = response.body().isEmpty() ? null : Json.MAPPER.readTree(response.body());
            } catch (IOException notJson) {
                // left null; the raw body is kept
            }
            return new Answer(response.statusCode(), json, response.headers().firstValue("X-Configuration-Tag").orElse(null), response.body(),
                    response.headers().firstValue("ETag").orElse(null));
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        service.close();
    }
}
