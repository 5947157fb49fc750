package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EventLoopServersTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private int listen() throws Exception {
        return EventLoopServers.listen(vertx, () -> vertx.createHttpServer().requestHandler(request -> request.response()
                .end(Thread.currentThread().getName())), "127.0.0.1", 0).await(10, TimeUnit.SECONDS).actualPort();
    }

    @Test
    void connectionsAreServedOnOneEventLoopPerCoreAndListenersOnPortZeroGetPortsOfTheirOwn() throws Exception {
        int first = listen();
        int second = listen();
        assertThat(first).isPositive();
        assertThat(second).isPositive().isNotEqualTo(first);

        var threads = new HashSet<String>();
        for (int i = 0; i < 4 * EventLoopServers.count(); i++) {
            // A new client per request: each request its own connection, which Vert.x hands to the next server.
            try (var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                var response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first + "/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                threads.add(response.body());
            }
        }
        assertThat(threads).allMatch(name -> name.startsWith("vert.x-eventloop-thread-")).hasSize(EventLoopServers.count());
    }
}
