package dev.flocker.control;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A listener served by one server per core. Vert.x runs all of a server's connections on the event loop it was started
 * on, so a single server is one core's worth of TLS and HTTP: at 100,000 datasets, one event loop encrypted every 5 MB
 * answer while the other core idled. Servers of one Vert.x instance on the same address share the port, and each new
 * connection goes to the next of them (Vert.x's round robin), each on its own event loop.
 */
public final class EventLoopServers {
    private EventLoopServers() {}

    /** How many servers a listener gets: one per core the JVM may use. */
    public static int count() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Vert.x shares a free port among the servers that listen on the same negative port: one per listener on port 0. */
    private static final java.util.concurrent.atomic.AtomicInteger RANDOM_PORTS = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Starts {@link #count()} servers made by {@code server} (each on its own event loop) on {@code host:port}; port 0
     * picks one free port they share. Completes with one of them, whose {@code actualPort()} is the listener's.
     */
    public static Future<HttpServer> listen(Vertx vertx, Supplier<HttpServer> server, String host, int port) {
        int shared = port == 0 ? -1 - Math.floorMod(RANDOM_PORTS.getAndIncrement(), 65_535) : port;
        var started = new AtomicReference<HttpServer>();
        return vertx.deployVerticle(() -> new Listener(server, host, shared, started), new DeploymentOptions().setInstances(count()))
                .map(id -> started.get());
    }

    private static final class Listener extends VerticleBase {
        private final Supplier<HttpServer> server;
        private final String host;
        private final int port;
        private final AtomicReference<HttpServer> started;

        Listener(Supplier<HttpServer> server, String host, int port, AtomicReference<HttpServer> started) {
            this.server = server;
            this.host = host;
            this.port = port;
            this.started = started;
        }

        @Override
        public Future<?> start() {
            // Created here, so that it runs on this verticle's event loop.
            return server.get().listen(port, host).onSuccess(started::set);
        }
    }
}
