package dev.flocker.control.bench;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.control.store.ConfigurationFile;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The control service under a realistic load: 10,000 datasets, 100 agents connected and reporting, 200 reads
 * per second (open loop, half {@code GET /v1/configuration/datasets}, half {@code GET /v1/state/datasets}),
 * and a conditional create every 250 ms. Measures read and write latency, the time from a change to the last
 * agent having it, and the service's heap after a full GC. The service runs in its own JVM.
 *
 * <p>Run with {@code scripts/bench-control.sh [datasets=10000] [agents=100] [seconds=20]}.
 */
public final class ControlServiceBenchmark {
    private static int writesPerSecond;
    /** Control-service replicas (each its own JVM); agents, reads and writes are spread over them. */
    private static int replicas = 1;
    /** Reads per second, half of each list (open loop). */
    private static int readsPerSecond = 200;
    /**
     * The load before the measured minute: its reads ramp up over {@link #RAMP_SECONDS}, then run at the full rate. At
     * 100,000 datasets and 200 reads/s, with 15 s of warm-up both JVMs' C2 compilers still took up to a third of a core
     * each for the minute's first ~30 s (a `perf` of the whole minute), and the seconds in which every read took over
     * 100 ms fell on their busiest ones; a service that has run for a while has compiled its code.
     */
    private static final int WARM_UP_SECONDS = Integer.getInteger("flocker.bench.warmup", 45);
    private static final int RAMP_SECONDS = 15;
    /** The benchmark's cluster CA: the service's certificate, a user's for the readers and writers, one per agent. */
    private static final dev.flocker.ca.ClusterCertificates CERTS = certificates();
    private static final dev.flocker.api.tls.TlsFiles USER = CERTS.user("bench");
    private static final HttpClient HTTP = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor())
            .sslContext(USER.context()).build();

    private static dev.flocker.ca.ClusterCertificates certificates() {
        // A thousand agents' keys: removed when the benchmark's JVM ends.
        return dev.flocker.ca.ClusterCertificates.in(dev.flocker.lab.ExitTempDir.create("bench-control-certs"), "bench", List.of("127.0.0.1"));
    }

    public static void main(String[] args) throws Exception {
        int datasets = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int agents = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        writesPerSecond = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        // "on" (the default, as the service runs), "off", or "both" (on, then off) or "off,on": the same run with metrics on
        // and off, compared.
        var metrics = args.length > 4 ? args[4] : "on";
        var modes = metrics.equals("both") ? List.of("on", "off") : List.of(metrics.split(","));
        replicas = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        readsPerSecond = args.length > 6 ? Integer.parseInt(args[6]) : 200;
        for (var mode : modes) {
            runOnce(datasets, agents, seconds, mode);
        }
        if (modes.size() == 2) {
            var on = P99.get("on");
            var off = P99.get("off");
            System.out.printf("%nMetrics on vs off, same run: configuration reads p99 %.1f vs %.1f ms (%.2fx), state reads p99 %.1f vs %.1f ms"
                    + " (%.2fx), conditional writes p99 %.1f vs %.1f ms (%.2fx)%n", on[0], off[0], on[0] / off[0], on[1], off[1], on[1] / off[1],
                    on[2], off[2], on[2] / off[2]);
        }
    }

    /** p99 of configuration reads, state reads and writes, by metrics mode. */
    private static final Map<String, double[]> P99 = new ConcurrentHashMap<>();
    private static String mode = "on";
    /** JVM options for the replicas (and the cache's training) beyond the benchmark's own, e.g. another collector. */
    private static final String SERVICE_OPTS = System.getenv().getOrDefault("FLOCKER_BENCH_SERVICE_OPTS", "");

    /**
     * The replicas' start-up cache directory ({@code FLOCKER_CACHE}): by default one of the run's own, trained before the
     * first start by {@code scripts/train-start-up-cache.sh}. {@code FLOCKER_BENCH_CACHE=<dir>} keeps one across runs
     * instead, trained there only when it holds none; with {@code FLOCKER_BENCH_TRAIN=1} the run's first replica to start
     * records it instead, from the benchmark's own load (the restart that ends the run uses it): what a cache trained with
     * the service's real work gives the next run.
     */
    private static final String KEPT_CACHE = System.getenv("FLOCKER_BENCH_CACHE");
    private static final boolean TRAIN_ON_LOAD = "1".equals(System.getenv("FLOCKER_BENCH_TRAIN"));
    private static Path cache;

    /** Whether {@code cache} (a {@code FLOCKER_CACHE} directory) holds a trained start-up cache. */
    private static boolean trained(Path cache) {
        try (var files = Files.list(cache.resolve("aot"))) {
            return files.anyMatch(f -> f.toString().endsWith(".aot"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static void runOnce(int datasets, int agents, int seconds, String metricsMode) throws Exception {
        mode = metricsMode;
        var data = Files.createTempDirectory("flocker-bench-control");
        cache = KEPT_CACHE != null ? Path.of(KEPT_CACHE) : data.resolve("cache");
        if (!"off".equals(System.getenv("FLOCKER_AOT")) && Runtime.version().feature() >= 25 && !TRAIN_ON_LOAD && !trained(cache)) {
            // As after an install: bin/flocker-control's start-up cache, trained by a throwaway service (not timed).
            var training = new ProcessBuilder(Path.of(System.getProperty("flocker.project.root"), "scripts", "train-start-up-cache.sh").toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("training.log").toFile()));
            training.environment().put("FLOCKER_CACHE", cache.toString());
            training.environment().put("FLOCKER_JAVA_OPTS", SERVICE_OPTS); // a cache is used only with the options it was trained with
            if (training.start().waitFor() != 0) {
                throw new IllegalStateException("training the start-up cache failed; see " + data.resolve("training.log"));
            }
        }
        var nodes = new ArrayList<NodeId>();
        for (int i = 0; i < agents; i++) {
            nodes.add(NodeId.random());
        }
        var seeded = new LinkedHashMap<DatasetId, Dataset>();
        for (int i = 0; i < datasets; i++) {
            var id = DatasetId.random();
            seeded.put(id, new Dataset(id, nodes.get(i % agents), false, Map.of("name", "volume-" + i), 10L << 30));
        }
        var seed = new Configuration(1, seeded, Map.of(), Map.of());
        var cluster = new ArrayList<Integer>();
        var apiPorts = new ArrayList<Integer>();
        for (int r = 0; r < replicas; r++) {
            new ConfigurationFile(data.resolve("r" + r)).write(seed);
            cluster.add(freePort());
            apiPorts.add(freePort());
        }
        var services = new ArrayList<Process>();
        try {
            startReplicas(data, cluster, apiPorts, metricsMode, services, false);
            var bases = apiPorts.stream().map(port -> URI.create("https://127.0.0.1:" + port)).toList();
            run(bases, services, data, seeded, nodes, seconds, cluster, apiPorts, metricsMode);
        } finally {
            for (var service : services) {
                service.destroy();
                service.waitFor(10, TimeUnit.SECONDS);
                service.destroyForcibly();
            }
            if (System.getenv().getOrDefault("FLOCKER_BENCH_KEEP", "").isEmpty()) { // set but empty counts as unset
                dev.flocker.lab.FileTrees.delete(data);
            } else {
                System.out.println("Kept " + data + " (r*/service.log, gc-<pid>.log of each start, configuration; FLOCKER_BENCH_LOG_LEVEL=INFO logs more)");
            }
        }
    }

    /** When each replica first answered {@code /v1/version} in the last {@link #startReplicas} (seconds, in turn). */
    private static final List<String> ANSWERED = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Starts every replica (again, after a restart, on the same data) and returns once all answer. */
    private static void startReplicas(Path data, List<Integer> cluster, List<Integer> apiPorts, String metricsMode, List<Process> services,
                                      boolean restart) throws Exception {
        services.clear();
        METRICS_PORTS.clear(); // new ones for each start, as before
        for (int r = 0; r < replicas; r++) {
            var dir = data.resolve("r" + r);
            // As operators start it: bin/flocker-control (its runnable jar, built by the script's install; with JDK 25 its
            // start-up cache, trained below before the first start, unless FLOCKER_AOT=off).
            var command = new ArrayList<>(List.of(Path.of(System.getProperty("flocker.project.root"), "bin", "flocker-control").toString(),
                    "--data-path", dir.toString(), "--bind", "127.0.0.1", "--port",
                    Integer.toString(apiPorts.get(r)), "--agent-port", Integer.toString(freePort()), "--cluster-port", Integer.toString(cluster.get(r)),
                    "--certificates-path", CERTS.dir().toString(), "--metrics-port", metricsMode.equals("off") ? "off" : Integer.toString(metricsPort(r))));
            if (replicas > 1) {
                for (int port : cluster) {
                    command.addAll(List.of("--peer", "127.0.0.1:" + port));
                }
            }
            Files.deleteIfExists(dir.resolve("service.log"));
            var builder = new ProcessBuilder(command);
            builder.environment().put("FLOCKER_JAVA_OPTS", SERVICE_OPTS + " -Xmx2g -Xlog:gc:file=" + dir.resolve("gc-%p.log") + ":time -Dflocker.log.level="
                    + System.getenv().getOrDefault("FLOCKER_BENCH_LOG_LEVEL", "WARN"));
            builder.environment().put("FLOCKER_CACHE", cache.toString());
            if (TRAIN_ON_LOAD) {
                builder.environment().put("FLOCKER_AOT", restart ? "on" : "train");
            }
            services.add(builder.redirectErrorStream(true).redirectOutput(
                    ProcessBuilder.Redirect.appendTo(dir.resolve("service.log").toFile())).start());
        }
        long started = System.nanoTime();
        long deadline = started + TimeUnit.SECONDS.toNanos(180);
        ANSWERED.clear();
        for (int r = 0; r < replicas; r++) {
            var base = URI.create("https://127.0.0.1:" + apiPorts.get(r));
            while (status(base, "/v1/version") != 200) {
                if (System.nanoTime() > deadline || !services.get(r).isAlive()) {
                    throw new IllegalStateException("replica " + r + " did not start; see " + data.resolve("r" + r).resolve("service.log"));
                }
                Thread.sleep(100);
            }
            ANSWERED.add(String.format("%.1f", (System.nanoTime() - started) / 1e9));
        }
    }

    private static void run(List<URI> bases, List<Process> services, Path data, Map<DatasetId, Dataset> seeded, List<NodeId> nodes, int seconds,
                            List<Integer> cluster, List<Integer> apiPorts, String metricsMode) throws Exception {
        var base = bases.get(0);
        FIRST_ERROR.set(null); // refused connections while the service was starting are not errors
        var agentUris = new ArrayList<URI>();
        for (int r = 0; r < replicas; r++) {
            agentUris.add(URI.create("wss://127.0.0.1:" + agentPort(data.resolve("r" + r)) + "/v1/agent"));
        }
        // Each agent reports the datasets it is primary for; it records when it first sees each configuration version.
        var seenBy = new ConcurrentHashMap<NodeId, java.util.concurrent.ConcurrentSkipListMap<Long, Long>>();
        var channels = new java.util.concurrent.CopyOnWriteArrayList<LightAgent>();
        // One Vert.x for the simulated agents and the readers: their event loops and BoringSSL.
        var vertx = io.vertx.core.Vertx.vertx();
        var agentClient = LightAgent.client(vertx, nodes.size());
        // Every agent pings every second, as real agents do: 1,000 agents are 1,000 liveness messages a second.
        var pinger = Executors.newSingleThreadScheduledExecutor();
        pinger.scheduleAtFixedRate(() -> channels.forEach(LightAgent::ping), 1, 1, TimeUnit.SECONDS);
        long setupStart = System.nanoTime();
        var byNode = new LinkedHashMap<NodeId, List<NodeState.DatasetState>>();
        seeded.values().forEach(d -> byNode.computeIfAbsent(d.primary(), k -> new ArrayList<>())
                .add(new NodeState.DatasetState(d.datasetId(), true, "/flocker/" + d.datasetId(), d.maximumSize(), 1)));
        int n = 0;
        for (var node : nodes) {
            // The simulated agents only note when each configuration version reaches them: real agents run on
            // their own hosts, and 100 of them applying diffs here would eat the cores the service is measured on.
            var seen = seenBy.computeIfAbsent(node, k -> new java.util.concurrent.ConcurrentSkipListMap<>());
            var agent = new LightAgent(agentClient, agentUris.get(n % replicas), CERTS.node(node), version -> seen.putIfAbsent(version, System.nanoTime()));
            agent.first.get(60, TimeUnit.SECONDS);
            agent.send(Json.write(Map.of("type", "state", "state",
                    new NodeState(node, "10.77." + (n / 250) + "." + (n % 250 + 1), "era-" + n, byNode.get(node), List.of(), List.of()))));
            channels.add(agent);
            n++;
        }
        while (count(base, "/v1/state/nodes") < nodes.size()) {
            Thread.sleep(100);
        }
        System.out.printf("(set-up: %d agents connected and reported in %.1f s)%n", nodes.size(), (System.nanoTime() - setupStart) / 1e9);

        var reads = Collections.synchronizedList(new ArrayList<Double>());
        var stateReads = Collections.synchronizedList(new ArrayList<Double>());
        var writes = Collections.synchronizedList(new ArrayList<Double>());
        var writeStarts = new ConcurrentHashMap<Long, Long>();
        var errors = new java.util.concurrent.atomic.AtomicInteger();
        var readBytes = new java.util.concurrent.atomic.AtomicLong();
        var scheduler = Executors.newScheduledThreadPool(1);
        var workers = Executors.newVirtualThreadPerTaskExecutor();
        long[] tick = {0};
        // The first seconds warm up the JIT and open the client's connections; they are not measured.
        long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(WARM_UP_SECONDS);
        MINUTE_BEGAN = java.time.LocalTime.now().plusSeconds(WARM_UP_SECONDS).withNano(0).toString();
        // Reads accept gzip, as Go's and Python's HTTP clients do by default, over Netty with OpenSSL (LeanReads: why not
        // Vert.x's client), at most 64 connections to each replica.
        var leanReads = new LeanReads(bases, USER.keyManagers(), USER.trustManagers(), 64);
        long loadFrom = System.nanoTime();
        double[] credit = {0};
        // The replicas' own timing of the writes over the measured minute: scraped as it begins and as it ends.
        var serverWritesBefore = new java.util.concurrent.atomic.AtomicReference<Map<String, java.util.TreeMap<Double, Long>>>();
        // On a thread of its own: on the scheduler's, the scrape (three replicas' /metrics, a second or more under this load)
        // held the reads' ticks, which then all went at once as the minute began, and the service queued that burst.
        scheduler.schedule(() -> workers.submit(() -> serverWritesBefore.set(writeBuckets())), measureFrom - System.nanoTime(), TimeUnit.NANOSECONDS);
        // A replica's first scrape in its JVM takes 0.3-1.2 s of cold code, on all replicas at once: it put 33-80 reads over
        // 500 ms into the minute's first seconds. Prometheus scrapes a service from its start; so does the warm-up, once.
        workers.submit(ControlServiceBenchmark::writeBuckets);
        var reader = scheduler.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            if (now < measureFrom) {
                // The warm-up ramps the reads up to the full rate, as load tests do while the JIT compiles; started at the full
                // rate, a cold service queued reads it then took the first 10-30 s of the measured minute to drain.
                credit[0] += Math.min(1.0, (double) (now - loadFrom) / TimeUnit.SECONDS.toNanos(RAMP_SECONDS));
                if (credit[0] < 1) {
                    return;
                }
                credit[0] -= 1;
            }
            long k = tick[0]++;
            boolean state = k % 2 == 1;
            read(leanReads, (int) (k / 2 % replicas), state, now, measureFrom, reads, stateReads, readBytes, errors);
        }, 0, 1_000_000 / readsPerSecond, TimeUnit.MICROSECONDS);
        var writeCount = new java.util.concurrent.atomic.AtomicLong();
        var writeNode = new ConcurrentHashMap<Long, NodeId>();
        var writer = scheduler.scheduleAtFixedRate(() -> workers.submit(() -> {
            try {
                long k = writeCount.getAndIncrement();
                var target = bases.get((int) (k % replicas));
                var primary = nodes.get((int) (k * 7919 % nodes.size()));
                var tag = HTTP.send(HttpRequest.newBuilder(target.resolve("/v1/_health")).build(), HttpResponse.BodyHandlers.ofString())
                        .headers().firstValue("X-Configuration-Tag").orElseThrow();
                long start = System.nanoTime();
                var response = HTTP.send(HttpRequest.newBuilder(target.resolve("/v1/configuration/datasets"))
                        .header("X-If-Configuration-Matches", tag)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"primary\":\"" + primary + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 201 && start >= measureFrom) {
                    writes.add((System.nanoTime() - start) / 1e6);
                    long version = Long.parseLong(response.headers().firstValue("X-Configuration-Tag").orElseThrow());
                    writeStarts.put(version, start);
                    writeNode.put(version, primary);
                } else if (response.statusCode() != 412 && response.statusCode() != 201) {
                    errors.incrementAndGet();
                }
            } catch (Exception e) {
                errors.incrementAndGet();
            }
            return null;
        }), 100, 1000 / Math.max(1, writesPerSecond), TimeUnit.MILLISECONDS);
        Thread.sleep((seconds + WARM_UP_SECONDS) * 1000L);
        reader.cancel(false);
        writer.cancel(false);
        var serverWritesAfter = writeBuckets();
        scheduler.shutdown();
        workers.shutdown();
        workers.awaitTermination(60, TimeUnit.SECONDS);
        Thread.sleep(2000);
        leanReads.close();

        // A change reaches the agents it concerns (here the new dataset's primary): when did that agent first see it or a later version?
        var propagation = new ArrayList<Double>();
        writeStarts.forEach((version, start) -> {
            var seen = seenBy.get(writeNode.get(version)).ceilingEntry(version);
            if (seen != null) {
                propagation.add((seen.getValue() - start) / 1e6);
            } else {
                propagation.add(Double.POSITIVE_INFINITY); // never reached it: shows as the max
            }
        });
        long heap = 0;
        for (int r = 0; r < replicas; r++) {
            runJcmd(services.get(r).pid(), "GC.run");
            heap = Math.max(heap, healthHeap(bases.get(r)));
        }
        pinger.shutdownNow();
        channels.forEach(LightAgent::close);
        vertx.close();
        var firstError = FIRST_ERROR.get(); // refused connections while the replicas restart below are not errors
        var lastTag = HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/_health")).build(), HttpResponse.BodyHandlers.ofString())
                .headers().firstValue("X-Configuration-Tag").orElseThrow();
        // Every replica stopped, then started again on its disk: how long until all serve the configuration they had.
        for (var service : services) {
            service.destroy();
        }
        for (var service : services) {
            service.waitFor(30, TimeUnit.SECONDS);
        }
        String cached = trained(cache) ? "with" : "without";
        long restartStart = System.nanoTime();
        startReplicas(data, cluster, apiPorts, metricsMode, services, true);
        var served = new ArrayList<String>();
        for (var b : bases) {
            while (true) {
                var response = HTTP.send(HttpRequest.newBuilder(b.resolve("/v1/configuration/datasets")).build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200 && lastTag.equals(response.headers().firstValue("X-Configuration-Tag").orElse(""))) {
                    served.add(String.format("%.1f", (System.nanoTime() - restartStart) / 1e9));
                    break;
                }
                Thread.sleep(100);
            }
        }
        double restartSeconds = (System.nanoTime() - restartStart) / 1e9;

        System.out.printf("%n## Control service benchmark: %d datasets, %d agents, %d replica(s), %d s at %d reads/s + %d conditional writes/s,"
                + " metrics %s%n%n", seeded.size(), nodes.size(), replicas, seconds, readsPerSecond, writesPerSecond, mode);
        if (!SERVICE_OPTS.isBlank()) {
            System.out.println("Replicas' JVM options beyond -Xmx2g (FLOCKER_BENCH_SERVICE_OPTS): " + SERVICE_OPTS + "\n");
        }
        P99.put(mode, new double[] {p99(reads), p99(stateReads), p99(writes)});
        System.out.println("| measure | n | p50 ms | p99 ms | max ms | target |");
        System.out.println("|---|---|---|---|---|---|");
        row("GET /v1/configuration/datasets", reads, "p99 < 100");
        row("GET /v1/state/datasets", stateReads, "p99 < 100");
        row("conditional POST /v1/configuration/datasets", writes, "");
        row("change -> the agent it concerns has it", propagation, "p99 < 1000");
        if (serverWritesBefore.get() != null && serverWritesAfter.containsKey("api")) {
            // The client's times include its own JVM's share of the 2 cores; the replicas' timer starts at their router.
            var before = serverWritesBefore.get();
            System.out.printf("Conditional writes as the replicas' API timed them (router to the answer's end; bucket bounds): p50 <= %.1f ms,"
                    + " p99 <= %.1f ms (the client's row above: p99 %.1f ms)%n", bucketPercentile(before.get("api"), serverWritesAfter.get("api"), 50),
                    bucketPercentile(before.get("api"), serverWritesAfter.get("api"), 99), p99(writes));
            // Every write committed through any replica (the ones that answered 412 included none of these steps).
            for (var step : dev.flocker.control.store.ConfigurationStore.CommitTimes.STEPS) {
                var empty = new java.util.TreeMap<Double, Long>();
                System.out.printf("  its step %s: p50 <= %.1f ms, p99 <= %.1f ms%n", step,
                        bucketPercentile(before.getOrDefault(step, empty), serverWritesAfter.getOrDefault(step, empty), 50),
                        bucketPercentile(before.getOrDefault(step, empty), serverWritesAfter.getOrDefault(step, empty), 99));
            }
        }
        System.out.println("The replicas' /metrics, scraped as the warm-up began, as the minute began and as it ended: " + String.join(", ", SCRAPES));
        System.out.printf("%nMeasured reads received %.0f MB/s (as sent, gzip).%n", readBytes.get() / 1e6 / seconds);
        System.out.printf("Service heap after full GC: %.0f MiB (largest replica; target < 2048). Errors (non-2xx other than 412): %d.%n",
                heap / 1048576.0, errors.get());
        System.out.printf("Every replica stopped and started again (%s the JVM's start-up cache): all serve tag %s after %.1f s (target < 30).%n",
                cached, lastTag, restartSeconds);
        System.out.printf("  each answered /v1/version (in turn) at %s s, served the list at %s s%n", String.join(", ", ANSWERED), String.join(", ", served));
        for (int r = 0; r < replicas; r++) {
            var started = Files.readString(data.resolve("r" + r).resolve("service.log")).lines()
                    .filter(l -> l.startsWith("flocker-control: started: ")).reduce((a, b) -> b).orElse("(no start line)");
            System.out.printf("  replica %d %s%n", r, started.replace("flocker-control: ", ""));
        }
        if (!OVER_TARGET.isEmpty()) {
            System.out.println("Reads over 100 ms: " + OVER_TARGET.values().stream().mapToInt(Integer::intValue).sum() + " in "
                    + OVER_TARGET.size() + " seconds of the minute (asked at second: count; the minute began at " + MINUTE_BEGAN + "): "
                    + OVER_TARGET.entrySet().stream().sorted(Map.Entry.<Integer, Integer>comparingByValue().reversed()).limit(12)
                            .map(e -> e.getKey() + ": " + e.getValue()).collect(java.util.stream.Collectors.joining(", ")));
        }
        if (!SLOW.isEmpty()) {
            System.out.println("Reads slower than 500 ms: " + SLOW.size() + ", the first: " + SLOW.get(0) + ", the last: " + SLOW.get(SLOW.size() - 1));
        }
        if (firstError != null) {
            System.out.println("First error: " + firstError);
        }
    }

    /** One read, timed from when it was due ({@code start}) to its last byte; measured when due after the warm-up. */
    private static void read(LeanReads client, int replica, boolean state, long start, long measureFrom, List<Double> reads,
                             List<Double> stateReads, java.util.concurrent.atomic.AtomicLong readBytes, java.util.concurrent.atomic.AtomicInteger errors) {
        // Every byte is received and counted, not kept: aggregating each 5 MB answer into one buffer (copied as it grew)
        // was half of this process's time, on the cores the service is measured on.
        client.get(replica, state ? "/v1/state/datasets" : "/v1/configuration/datasets")
            .whenComplete((answer, failure) -> {
                if (start >= measureFrom) {
                    if (answer != null) {
                        readBytes.addAndGet(answer.bytes());
                    }
                    long took = System.nanoTime() - start;
                    (state ? stateReads : reads).add(took / 1e6);
                    if (took > 100_000_000L) {
                        OVER_TARGET.merge((int) ((start - measureFrom) / 1_000_000_000L), 1, Integer::sum);
                    }
                    if (took > 500_000_000L) {
                        SLOW.add(String.format("%.1f s: %s took %.0f ms", (start - measureFrom) / 1e9, state ? "state" : "config",
                                took / 1e6));
                    }
                }
                if (failure != null || answer.status() != 200) {
                    errors.incrementAndGet();
                    if (failure != null) {
                        FIRST_ERROR.compareAndSet(null, failure.toString());
                    }
                }
            });
    }

    /**
     * A WebSocket agent that reads the configuration version of each push and nothing else. All of them share one Vert.x
     * WebSocket client (its event loops, BoringSSL): 1,000 agents as JDK WebSocket clients were 1,000 HTTP clients, each with
     * a selector thread of its own and the JDK's TLS, and the benchmark's JVM used as much CPU as the replica it measured.
     */
    static final class LightAgent {
        private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile("\"version\":(\\d+)");
        final java.util.concurrent.CompletableFuture<Long> first = new java.util.concurrent.CompletableFuture<>();
        private final io.vertx.core.http.WebSocket socket;
        private volatile io.vertx.core.Future<Void> sending = io.vertx.core.Future.succeededFuture();

        LightAgent(io.vertx.core.http.WebSocketClient client, URI uri, dev.flocker.api.tls.TlsFiles tls, java.util.function.LongConsumer onVersion)
                throws java.util.concurrent.TimeoutException {
            var socket = client.webSocket();
            // Set before connecting: the service sends the agent's first view as soon as it is connected.
            socket.textMessageHandler(text -> {
                var matcher = VERSION.matcher(text);
                if (matcher.find()) {
                    long version = Long.parseLong(matcher.group(1));
                    onVersion.accept(version);
                    first.complete(version);
                }
            });
            var options = new io.vertx.core.http.WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort()).setURI(uri.getPath())
                    .setSsl(true).setSslOptions(new io.vertx.core.net.ClientSSLOptions()
                            .setKeyCertOptions(io.vertx.core.net.KeyCertOptions.wrap(tls.keyManagers()))
                            .setTrustOptions(io.vertx.core.net.TrustOptions.wrap(tls.trustManagers())));
            socket.connect(options).await(60, TimeUnit.SECONDS);
            this.socket = socket;
        }

        /** The client all agents share, on {@code vertx}. */
        static io.vertx.core.http.WebSocketClient client(io.vertx.core.Vertx vertx, int agents) {
            return vertx.createWebSocketClient(new io.vertx.core.http.WebSocketClientOptions().setSsl(true).setVerifyHost(true)
                    .setSslEngineOptions(new io.vertx.core.net.OpenSSLEngineOptions()).setMaxConnections(agents)
                    .setMaxFrameSize(64 << 20).setMaxMessageSize(64 << 20)); // a first view lists every node of the cluster
        }

        void send(String text) throws java.util.concurrent.TimeoutException {
            sending = socket.writeTextMessage(text);
            sending.await(60, TimeUnit.SECONDS);
        }

        /** A ping, as real agents send every second (their liveness); skipped while the last send is still going. */
        void ping() {
            if (sending.isComplete()) {
                sending = socket.writeTextMessage(PING);
            }
        }

        private static final String PING = "{\"type\":\"ping\"}";

        void close() {
            socket.close();
        }
    }

    private static void row(String name, List<Double> values, String target) {
        var sorted = values.stream().sorted().toList();
        if (sorted.isEmpty()) {
            System.out.printf("| %s | 0 | - | - | - | %s |%n", name, target);
            return;
        }
        System.out.printf("| %s | %d | %.1f | %.1f | %.1f | %s |%n", name, sorted.size(), pct(sorted, 50), pct(sorted, 99),
                sorted.get(sorted.size() - 1), target);
    }

    private static double p99(List<Double> values) {
        var sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? Double.NaN : pct(sorted, 99);
    }

    private static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    /** Reads slower than 500 ms, with when they started (seconds into the measurement): when the service stalled. */
    private static final List<String> SLOW = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Reads over the target (100 ms) by the second of the minute they were asked in: bursts or spread out? */
    private static volatile String MINUTE_BEGAN = "";
    private static final Map<Integer, Integer> OVER_TARGET = new java.util.concurrent.ConcurrentSkipListMap<>();

    private static final java.util.concurrent.atomic.AtomicReference<String> FIRST_ERROR = new java.util.concurrent.atomic.AtomicReference<>();

    private static int status(URI base, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            FIRST_ERROR.compareAndSet(null, e.toString());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static int count(URI base, String path) throws Exception {
        var body = HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString()).body();
        return Json.MAPPER.readTree(body).size();
    }

    private static long healthHeap(URI base) throws Exception {
        var body = HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/_health")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return Json.MAPPER.readTree(body).get("heap_used_bytes").asLong();
    }

    private static int agentPort(Path data) throws Exception {
        // The service prints "API on host:port, agents on host:port" once it listens.
        for (int i = 0; i < 100; i++) {
            var log = Files.readString(data.resolve("service.log"));
            var marker = "agents on 127.0.0.1:";
            int at = log.indexOf(marker);
            if (at >= 0) {
                return Integer.parseInt(log.substring(at + marker.length()).split("[\\s,]")[0]);
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no agent port in " + data.resolve("service.log"));
    }

    private static void runJcmd(long pid, String command) throws Exception {
        var jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        new ProcessBuilder(jcmd, Long.toString(pid), command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor(30, TimeUnit.SECONDS);
    }

    /** Each replica's metrics port (plain HTTP, /metrics), chosen once per run. */
    private static final Map<Integer, Integer> METRICS_PORTS = new ConcurrentHashMap<>();

    private static int metricsPort(int replica) {
        return METRICS_PORTS.computeIfAbsent(replica, r -> freePort());
    }

    /** How long each replica took to answer the benchmark's scrapes of /metrics, in order. */
    private static final List<String> SCRAPES = Collections.synchronizedList(new ArrayList<>());

    /**
     * The replicas' own timers of successful conditional writes, summed over replicas: {@code api} (from the API's router
     * to the answer's end) and the store's steps of every committed write ({@code prepare}, {@code register}, {@code entries},
     * {@code disk}); each as Prometheus buckets, upper bound in ms -> cumulative count; empty when metrics are off.
     */
    private static Map<String, java.util.TreeMap<Double, Long>> writeBuckets() {
        var series = new java.util.HashMap<String, java.util.TreeMap<Double, Long>>();
        if (mode.equals("off")) {
            return series;
        }
        var line = java.util.regex.Pattern.compile("^flocker_api_requests_seconds_bucket\\{(.*)} ([0-9.E+-]+)$");
        var stepLine = java.util.regex.Pattern.compile("^flocker_configuration_commit_seconds_bucket\\{(.*)} ([0-9.E+-]+)$");
        var stepName = java.util.regex.Pattern.compile("step=\"([^\"]+)\"");
        var le = java.util.regex.Pattern.compile("le=\"([^\"]+)\"");
        for (int r = 0; r < replicas; r++) {
            try {
                long asked = System.nanoTime();
                var body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort(r) + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                SCRAPES.add(String.format("replica %d %.0f ms (%d kB)", r, (System.nanoTime() - asked) / 1e6, body.length() / 1000));
                for (var text : body.lines().toList()) {
                    var m = line.matcher(text);
                    String name;
                    if (m.matches()) {
                        if (!m.group(1).contains("method=\"POST\"") || !m.group(1).contains("route=\"/v1/configuration/datasets\"")
                                || !m.group(1).contains("status=\"201\"")) {
                            continue;
                        }
                        name = "api";
                    } else if ((m = stepLine.matcher(text)).matches()) {
                        var step = stepName.matcher(m.group(1));
                        if (!step.find()) {
                            continue;
                        }
                        name = step.group(1);
                    } else {
                        continue;
                    }
                    var bound = le.matcher(m.group(1));
                    if (bound.find()) {
                        double ms = bound.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound.group(1)) * 1000;
                        series.computeIfAbsent(name, n -> new java.util.TreeMap<>()).merge(ms, (long) Double.parseDouble(m.group(2)), Long::sum);
                    }
                }
            } catch (Exception e) {
                System.out.println("cannot read replica " + r + "'s metrics: " + e);
            }
        }
        return series;
    }

    /** The bucket bound (ms) under which {@code percent} of the writes between two scrapes fall, or NaN. */
    static double bucketPercentile(java.util.TreeMap<Double, Long> before, java.util.TreeMap<Double, Long> after, double percent) {
        long total = after.getOrDefault(Double.POSITIVE_INFINITY, 0L) - before.getOrDefault(Double.POSITIVE_INFINITY, 0L);
        if (total <= 0) {
            return Double.NaN;
        }
        for (var entry : after.entrySet()) {
            if (entry.getValue() - before.getOrDefault(entry.getKey(), 0L) >= Math.ceil(total * percent / 100)) {
                return entry.getKey();
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    private static int freePort() {
        return dev.flocker.lab.FreePorts.next();
    }
}
