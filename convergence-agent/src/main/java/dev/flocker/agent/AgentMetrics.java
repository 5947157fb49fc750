package dev.flocker.agent;

import com.sun.net.httpserver.HttpServer;
import dev.flocker.agent.plan.LocalState;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.List;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The agent's metrics in Prometheus' text format at {@code http://<metrics.listen>/metrics} (docs/METRICS.md lists
 * them). The agent's parts, the routing proxy, shipping and the Docker plugin count into Micrometer's global registry;
 * this registry is added to it, so one agent per process (as it runs) exports them all.
 */
final class AgentMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpServer server;
    private final MultiGauge usedBytes;
    private final MultiGauge maximumBytes;
    /** Each dataset's values, which its gauges read (updated in place, see {@link #datasets}). */
    private final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> usedValues = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> maximumValues = new java.util.concurrent.ConcurrentHashMap<>();

    private AgentMetrics(HttpServer server) {
        this.server = server;
        Metrics.addRegistry(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        usedBytes = MultiGauge.builder("flocker.dataset.used").baseUnit("bytes")
                .description("Bytes the data of each dataset on this host takes (its snapshots not counted)").register(registry);
        maximumBytes = MultiGauge.builder("flocker.dataset.maximum").baseUnit("bytes")
                .description("Maximum size of each dataset on this host (absent: no limit)").register(registry);
    }

    /** Serves {@code /metrics} at {@code listen}, or only counts (no server) when it is null. */
    static AgentMetrics start(InetSocketAddress listen) {
        HttpServer server = null;
        if (listen != null) {
            try {
                server = HttpServer.create(listen, 16);
            } catch (IOException e) {
                throw new AgentConfig.ConfigException("metrics.listen " + listen.getHostString() + ":" + listen.getPort() + ": cannot listen: "
                        + e.getMessage());
            }
        }
        var metrics = new AgentMetrics(server);
        if (server != null) {
            server.createContext("/", exchange -> {
                byte[] body;
                int status;
                if (exchange.getRequestURI().getPath().equals("/metrics")) {
                    body = metrics.registry.scrape().getBytes(StandardCharsets.UTF_8);
                    status = 200;
                    exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                } else {
                    body = "metrics are at /metrics\n".getBytes(StandardCharsets.UTF_8);
                    status = 404;
                }
                exchange.sendResponseHeaders(status, body.length);
                try (var out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            server.start();
        }
        return metrics;
    }

    /** What /metrics answers. */
    String scrape() {
        return registry.scrape();
    }

    /** The port /metrics is served on, or -1. */
    int port() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    /** The datasets on this host as the last loop found them. */
    /**
     * Each dataset's gauges read a value held here and updated in place: re-registering a row (Micrometer's overwrite)
     * removes its gauge for a moment, and a scrape at that moment would miss the dataset.
     */
    void datasets(LocalState local) {
        var used = new java.util.HashMap<String, Long>();
        var maximum = new java.util.HashMap<String, Long>();
        for (var d : local.datasets().values()) {
            used.put(d.id().toString(), d.usedBytes());
            if (d.maximumSize() != null) {
                maximum.put(d.id().toString(), d.maximumSize());
            }
        }
        usedBytes.register(rows(usedValues, used), false);
        maximumBytes.register(rows(maximumValues, maximum), false);
    }


    /** Updates the held values to {@code now} (dropping datasets gone) and gives one row per dataset, on its held value. */
    private static List<MultiGauge.Row<?>> rows(java.util.Map<String, java.util.concurrent.atomic.AtomicLong> held, java.util.Map<String, Long> now) {
        held.keySet().retainAll(now.keySet());
        var rows = new java.util.ArrayList<MultiGauge.Row<?>>();
        now.forEach((dataset, value) -> {
            var holder = held.computeIfAbsent(dataset, k -> new java.util.concurrent.atomic.AtomicLong());
            holder.set(value);
            rows.add(MultiGauge.Row.of(Tags.of("dataset", dataset), holder, java.util.concurrent.atomic.AtomicLong::get));
        });
        return rows;
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
        Metrics.removeRegistry(registry);
        registry.close();
    }
}
