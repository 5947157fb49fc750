package dev.flocker.control;

import com.hazelcast.core.HazelcastInstance;
import dev.flocker.control.store.ConfigurationStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.function.IntSupplier;

/**
 * The control service's metrics, in Prometheus' text format at {@code /metrics} on a plain-HTTP port of their own
 * (docs/METRICS.md lists them): API requests, configuration writes and conflicts, agents connected, replicas seen,
 * and the JVM's.
 */
final class ControlMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    ControlMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    MeterRegistry registry() {
        return registry;
    }

    void watch(HazelcastInstance hazelcast, ConfigurationStore configuration) {
        Gauge.builder("flocker.control.replicas", hazelcast, h -> h.getCluster().getMembers().size())
                .description("Control-service replicas this one sees, itself included").register(registry);
        Gauge.builder("flocker.configuration.datasets", configuration, c -> c.current().datasets().size())
                .description("Datasets in the configuration, deleted ones included").register(registry);
        Gauge.builder("flocker.configuration.applications", configuration, c -> c.current().applications().size())
                .description("Applications in the configuration").register(registry);
        var steps = ConfigurationStore.CommitTimes.STEPS.stream().collect(java.util.stream.Collectors.toMap(
                step -> step, step -> io.micrometer.core.instrument.Timer.builder("flocker.configuration.commit")
                        .description("Steps of the configuration writes committed through this replica").tag("step", step)
                        .publishPercentileHistogram().register(registry)));
        configuration.onCommit(t -> t.byStep().forEach((step, nanos) -> steps.get(step).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS)));
    }

    void agentsConnected(IntSupplier connections) {
        Gauge.builder("flocker.agents.connected", connections, IntSupplier::getAsInt)
                .description("Agents connected to this replica's agent channel").strongReference(true).register(registry);
    }

    /**
     * Serves {@code GET /metrics}; anything else is 404. A scrape is rendered on a worker thread: the server shares its event
     * loop with API or agent-channel connections, and a scrape takes 30-120 ms on a busy replica (the first in a JVM up to
     * 1.2 s, in the control benchmark at 100,000 datasets and 1,000 agents), which would hold every connection of that loop
     * meanwhile.
     */
    Future<HttpServer> serve(Vertx vertx, String host, int port) {
        return vertx.createHttpServer().requestHandler(request -> {
            if (request.path().equals("/metrics")) {
                vertx.executeBlocking(registry::scrape, false).onComplete(text -> {
                    if (text.succeeded()) {
                        request.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text.result());
                    } else {
                        request.response().setStatusCode(500).end("cannot render the metrics: " + text.cause() + "\n");
                    }
                });
            } else {
                request.response().setStatusCode(404).end("metrics are at /metrics\n");
            }
        }).listen(port, host);
    }
}
