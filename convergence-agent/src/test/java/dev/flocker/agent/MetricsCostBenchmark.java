package dev.flocker.agent;

import dev.flocker.agent.plan.LocalState;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the agent's metrics add to each convergence loop, with N datasets on the host: the per-dataset gauges
 * refreshed from the loop's discovery, the loop timer, a change counted, and one scrape of /metrics (which Prometheus
 * does every 15 s or so, not every loop). Printed in milliseconds against the same loop's other work measured in the
 * same run: building the LocalState the loop builds and planning nothing, so the ratio errs on the high side.
 *
 * <p>Run with {@code scripts/bench-metrics.sh [datasets=1000] [loops=300]}.
 */
public final class MetricsCostBenchmark {
    private MetricsCostBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int loops = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        var owner = NodeId.random();
        var ids = new ArrayList<DatasetId>();
        for (int i = 0; i < count; i++) {
            ids.add(DatasetId.random());
        }
        try (var metrics = AgentMetrics.start(new java.net.InetSocketAddress("127.0.0.1", 0))) {
            var perLoop = new ArrayList<Double>();
            var building = new ArrayList<Double>();
            var scrapes = new ArrayList<Double>();
            for (int loop = 0; loop < loops; loop++) {
                long t0 = System.nanoTime();
                Map<DatasetId, LocalState.LocalDataset> datasets = new HashMap<>();
                for (var id : ids) {
                    datasets.put(id, new LocalState.LocalDataset(id, 1L << 30, "/flocker/" + id, true, false, owner, 1, loop * 4096L));
                }
                var local = new LocalState(datasets, Map.of());
                long t1 = System.nanoTime();
                metrics.datasets(local);
                Timer.builder("flocker.agent.loop").register(Metrics.globalRegistry).record(t1 - t0, TimeUnit.NANOSECONDS);
                io.micrometer.core.instrument.Counter.builder("flocker.agent.changes").tag("kind", "MakeWritable").tag("outcome", "ok")
                        .register(Metrics.globalRegistry).increment();
                long t2 = System.nanoTime();
                if (loop % 10 == 0) {
                    var client = java.net.http.HttpClient.newHttpClient();
                    long s0 = System.nanoTime();
                    client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metrics.port() + "/metrics")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    scrapes.add((System.nanoTime() - s0) / 1e6);
                }
                if (loop >= loops / 5) { // the first fifth warms the JIT up
                    building.add((t1 - t0) / 1e6);
                    perLoop.add((t2 - t1) / 1e6);
                }
            }
            System.out.printf("%n## Agent metrics cost, %d datasets, %d loops%n%n", count, perLoop.size());
            System.out.println("| measure | p50 ms | p99 ms |");
            System.out.println("|---|---|---|");
            row("metrics per loop (gauges of every dataset, loop timer, a change counted)", perLoop);
            row("building the loop's LocalState (for scale)", building);
            row("one scrape of /metrics (every ~15 s, not per loop)", scrapes);
            System.out.printf("%nPer-loop cost against a %d-dataset loop of 1,300 ms (docs/BENCHMARKS.md, agent loop): %.2f%%%n", count,
                    100 * pct(perLoop, 50) / 1300.0);
        }
    }

    private static void row(String name, List<Double> values) {
        System.out.printf("| %s | %.2f | %.2f |%n", name, pct(values, 50), pct(values, 99));
    }

    private static double pct(List<Double> values, int p) {
        var sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
