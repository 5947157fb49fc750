package dev.flocker.agent;

import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.ca.ClusterCertificates;
import dev.flocker.control.ControlService;
import dev.flocker.lab.FreePorts;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabHost;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * A real cluster on a lab: a control service in this JVM listening on the lab's bridge, and one agent process per
 * host inside that host's network namespace, with its own agent.yml, its host's dockerd, pool and sshd.
 */
final class LabCluster implements AutoCloseable {
    final Lab lab;
    final ControlService control;
    final FlockerClient client;
    /** The control service's API. */
    private final URI api;
    /** The cluster's CA and certificates (TLS is always on): the control service's, one per node, the plugin's, a user's. */
    final ClusterCertificates certificates;
    private final Path work;
    private final Map<Integer, Process> agents = new ConcurrentHashMap<>();
    /** The host whose agent records the agents' class archive ({@link AgentClassArchive}), 0 when none here does. */
    private volatile int recording;
    /** Set while {@link #withAgents} starts the agents: only those starts may record the archive. */
    private volatile boolean mayRecord;
    /** The Docker plugin's settings in the agent.yml of the agents started next (short, so tests see leases lapse). */
    /** More lines of YAML for the agents' configuration (e.g. {@code proxy: {kernel_forwarding: false}}), empty by default. */
    volatile String extraAgentConfig = "";
    volatile String pluginSettings = "lease_seconds: 6, lease_wait_seconds: 3, mount_timeout_seconds: 20, mount_grace_seconds: 5";

    /** Short, so tests can see tombstones go. */
    static final Duration DELETED_RETENTION = Duration.ofSeconds(10);

    LabCluster(Lab lab, Path work) {
        this.lab = lab;
        this.work = work;
        this.certificates = ClusterCertificates.in(work.resolve("certificates"), "lab-" + lab.name(), List.of(lab.bridgeIp()));
        this.control = ControlService.start(new ControlService.Settings(work.resolve("control"), lab.bridgeIp(), 0, 0, FreePorts.next(),
                List.of(), Duration.ofSeconds(15), Duration.ofMillis(100), certificates.control()).withDeletedRetention(DELETED_RETENTION)
                .withMetrics(lab.bridgeIp(), 0));
        this.api = URI.create("https://" + lab.bridgeIp() + ":" + control.apiPort());
        this.client = new FlockerClient(api, certificates.user("tester"));
    }

    /**
     * The names of the API's server-sent events ({@code GET /v1/events}: "configuration", "state") as they arrive, read on
     * a daemon thread until the control service closes.
     */
    java.util.concurrent.BlockingQueue<String> events() {
        var names = new java.util.concurrent.LinkedBlockingQueue<String>();
        var http = java.net.http.HttpClient.newBuilder().sslContext(certificates.user("tester").context()).build();
        var request = java.net.http.HttpRequest.newBuilder(api.resolve("/v1/events")).build();
        Thread.ofPlatform().daemon().name("api-events").start(() -> {
            try {
                http.send(request, java.net.http.HttpResponse.BodyHandlers.ofLines()).body()
                        .filter(line -> line.startsWith("event: ")).forEach(line -> names.add(line.substring("event: ".length())));
            } catch (java.io.IOException | InterruptedException | java.io.UncheckedIOException e) {
                // the service closed
            }
        });
        return names;
    }

    /** A cluster on {@code lab} with an agent on each of hosts 1..{@code agents}, once they all report. */
    static LabCluster withAgents(Lab lab, Path work, int agents) throws InterruptedException {
        var cluster = new LabCluster(lab, work);
        cluster.mayRecord = true;
        for (int i = 1; i <= agents; i++) {
            cluster.startAgent(i, "");
        }
        cluster.mayRecord = false;
        cluster.await("all " + agents + " agents report", 60, () -> cluster.client.nodes().size() == agents);
        if (cluster.recording != 0) {
            cluster.startRecorderAgain(agents);
        }
        return cluster;
    }

    /** Stops the agent that recorded the class archive (it writes it as it exits) and starts it again from it. */
    private void startRecorderAgain(int agents) throws InterruptedException {
        int i = recording;
        recording = 0;
        long connected = logLines(i, "connected to the control service");
        long stop = System.nanoTime();
        stopAgent(i);
        long start = System.nanoTime();
        System.err.printf("n%d's agent stopped and %s in %d ms%n", i, AgentClassArchive.written() ? "wrote the agents' class archive"
                : "wrote no class archive (the next cluster's first agent records one)", (start - stop) / 1_000_000);
        startAgent(i, "");
        await("n" + i + "'s agent, started again, reports", 60,
                () -> logLines(i, "connected to the control service") > connected && client.nodes().size() == agents);
        System.err.printf("n%d's agent started from the archive and reported in %d ms%n", i, (System.nanoTime() - start) / 1_000_000);
    }

    /** How many lines of host {@code i}'s agent log (over all its starts) contain {@code text}. */
    long logLines(int i, String text) {
        return linesOfLog(i, text).size();
    }

    /** The lines of host {@code i}'s agent log (over all its starts) that contain {@code text}. */
    List<String> linesOfLog(int i, String text) {
        try {
            return Files.readString(agentLog(i)).lines().filter(l -> l.contains(text)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static NodeId nodeId(int host) {
        return NodeId.of(String.format("%08d-0000-4000-8000-%012d", host, host));
    }

    /** Host {@code i}'s agent's Prometheus metrics (served at its address, port 4528 by default). */
    String agentMetrics(int i) throws Exception {
        return scrape("http://" + host(i).ip() + ":4528/metrics");
    }

    /** The control service's Prometheus metrics. */
    String controlMetrics() throws Exception {
        return scrape("http://" + lab.bridgeIp() + ":" + control.metricsPort() + "/metrics");
    }

    private static String scrape(String url) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(URI.create(url)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + response.statusCode());
        }
        return response.body();
    }

    LabHost host(int i) {
        return lab.host(i);
    }

    /** The agent.yml host n{@code i}'s agent was last started with. */
    Path agentConfig(int i) {
        return work.resolve("agent-n" + i + ".yml");
    }

    /** How long host i's agent holds a dataset's destroy it begins while {@link #holdDeletes}'s file exists. */
    static final long HELD_DELETE_MILLIS = 20_000;

    /** While this file exists, host {@code i}'s agent holds each destroy it begins, as a hung zfs call would. */
    Path holdDeletes(int i) {
        return work.resolve("hold-delete-n" + i);
    }

    Path agentLog(int i) {
        return work.resolve("agent-n" + i + ".log");
    }

    /** Starts host {@code i}'s agent (again); {@code failpoints} as in {@link Failpoints}, or empty. */
    void startAgent(int i, String failpoints) {
        startAgent(i, failpoints, List.of());
    }

    /** As {@link #startAgent(int, String)}, with more JVM options for the agent (e.g. a log level). */
    void startAgent(int i, String failpoints, List<String> jvmOptions) {
        var host = lab.host(i);
        var config = agentConfig(i);
        var nodeTls = certificates.node(nodeId(i));
        var pluginTls = certificates.user("plugin");
        try {
            Files.writeString(config, """
                    version: 1
                    control-service: {hostname: "%s", port: %d}
                    dataset: {backend: zfs, pool: "%s", mount_root: "%s"}
                    node: {address: "%s", uuid: "%s", state_path: "%s"}
                    docker: {host: "%s", sandbox_image: "flocker/busybox:local"}
                    ssh: {identity: "%s", known_hosts: "%s"}
                    moves: {precopy_threshold: 4194304, stop_timeout: 10}
                    interval: 1000
                    plugin: {listen: "%s", api_port: %d, %s}
                    tls: {ca: "%s", node_cert: "%s", node_key: "%s", plugin_cert: "%s", plugin_key: "%s"}
                    %s
                    """.formatted(lab.bridgeIp(), control.agentPort(), host.pool(), host.mountRoot(), host.ip(), nodeId(i),
                    host.dir().resolve("agent"), host.dockerHost(), lab.sshKey(), lab.knownHosts(), Lab.PLUGIN_URL, control.apiPort(), pluginSettings,
                    nodeTls.ca(), nodeTls.certificate(), nodeTls.key(), pluginTls.certificate(), pluginTls.key(), extraAgentConfig));
            // Every agent can be made to hold a destroy (holdDeletes); without that file the point is a no-op.
            var held = "delete-dataset:" + HELD_DELETE_MILLIS + "@" + holdDeletes(i);
            var options = new java.util.ArrayList<>(List.of("-Dflocker.failpoints=" + (failpoints.isEmpty() ? held : failpoints + "," + held)));
            // Each loop's debug line (what woke it, what it read from ZFS, how long it took): what a failed test's kept logs
            // are read for first.
            options.add("-Dflocker.log.debug=dev.flocker.agent.ConvergenceLoop");
            options.addAll(jvmOptions);
            var classPath = AgentClassArchive.classPath();
            options.addAll(AgentClassArchive.options(mayRecord ? () -> recording = i : null));
            var command = Lab.javaCommand(host, options, classPath, AgentMain.class, "--config", config.toString());
            var process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(agentLog(i).toFile())).start();
            agents.put(i, process);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the agent of n" + i, e);
        }
    }

    /** Stops an agent as its service manager would (SIGTERM: it closes down in order). */
    void stopAgent(int i) throws InterruptedException {
        var process = agents.remove(i);
        if (process == null) {
            return;
        }
        process.destroy();
        if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("agent n" + i + " did not stop within 60 s of SIGTERM");
        }
    }

    /** kill -9 of host {@code i}'s agent. */
    void killAgent(int i) throws InterruptedException {
        var process = agents.remove(i);
        if (process != null) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Waits for {@code condition}, failing with the agents' logs' ends after {@code seconds}. */
    void await(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                last = null;
            } catch (RuntimeException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not within " + seconds + " s: " + what + (last == null ? "" : " (last error: " + last + ")") + "\n" + logs(), last);
    }

    String logs() {
        var text = new StringBuilder();
        for (var i : List.of(1, 2, 3)) {
            var log = agentLog(i);
            if (Files.exists(log)) {
                try {
                    var lines = Files.readAllLines(log);
                    text.append("--- agent n").append(i).append('\n');
                    lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(l -> text.append(l).append('\n'));
                } catch (IOException e) {
                    text.append("(unreadable log ").append(log).append(")\n");
                }
            }
        }
        return text.toString();
    }

    /** Runs the docker CLI against host {@code i}'s dockerd; a {@link dev.flocker.lab.LabException} with its stderr on failure. */
    String docker(int i, String... args) {
        var command = new java.util.ArrayList<>(List.of("/usr/bin/docker", "-H", host(i).dockerHost()));
        command.addAll(List.of(args));
        return lab.exec(host(i), command.toArray(String[]::new));
    }

    /** The datasets not deleted whose metadata name is {@code name} (a Docker volume's dataset). */
    List<dev.flocker.api.model.Dataset> named(String name) {
        return client.datasets().value().stream().filter(d -> !d.deleted() && name.equals(d.name())).toList();
    }

    /** The node holding a live lease on {@code dataset}, if any. */
    java.util.Optional<NodeId> leaseHolder(DatasetId dataset) {
        return client.leaseHolder(dataset);
    }

    /** The node that reports {@code dataset}'s writable copy, if any. */
    NodeId primaryOf(DatasetId dataset) {
        return client.datasetState().stream().filter(d -> d.datasetId().equals(dataset) && d.path() != null)
                .map(FlockerClient.DatasetStateView::primary).findFirst().orElse(null);
    }

    /** Where host {@code i} mounts {@code dataset}. */
    Path mountpoint(int i, DatasetId dataset) {
        return lab.host(i).mountRoot().resolve(dataset.toString());
    }

    @Override
    public void close() throws Exception {
        for (var i : List.copyOf(agents.keySet())) {
            killAgent(i);
        }
        for (var i : List.of(1, 2, 3)) {
            Files.deleteIfExists(dev.flocker.volume.transfer.RemoteZfs.wakeFile(nodeId(i))); // a killed agent leaves its wake file
        }
        control.close();
        // Keep the agents' logs where a failed run can be read after the lab is gone.
        var keep = Path.of("target", "agent-logs", lab.name());
        Files.createDirectories(keep);
        for (var i : List.of(1, 2, 3)) {
            if (Files.exists(agentLog(i))) {
                Files.copy(agentLog(i), keep.resolve(agentLog(i).getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
