package dev.flocker.agent;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import dev.flocker.agent.plan.ApplicationHash;
import dev.flocker.agent.plan.LocalState.LocalContainer;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The containers this agent manages, through docker-java. A managed container carries labels saying so, which
 * application it is, the digest of the configuration it was made from and the dataset bound into it: discovery reads
 * everything back from Docker.
 */
public final class Containers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Containers.class);
    static final String MANAGED = "dev.flocker.managed";
    static final String APP = "dev.flocker.app";
    static final String CONFIG = "dev.flocker.config";
    static final String DATASET = "dev.flocker.dataset";
    /** The application's stop grace period in seconds, when it sets one. */
    static final String STOP_TIMEOUT = "dev.flocker.stop-timeout";
    /** The networks a container joined (comma-separated): those left without containers go when it stops. */
    static final String NETWORKS = "dev.flocker.networks";
    /** On an application's container: the name of the sandbox whose network it joined. On a sandbox: the application's name. */
    static final String SANDBOX = "dev.flocker.sandbox";
    /** A sandbox older than this whose application has no container any more is removed (one left by a crash). */
    private static final Duration ORPHAN_AFTER = Duration.ofMinutes(2);

    private final DockerClient docker;
    /** The usual calls' time-out: the agent's stop time-out plus this. */
    private static final int USUAL_TIMEOUT_MARGIN_SECONDS = 60;
    /** For calls whose answer may take minutes: image loads, stops with a long grace period. */
    private final DockerClient slow;
    private final String hostAddress;
    private final Duration stopTimeout;
    private final ContainerSettings settings;
    private final String sandboxImage;
    private volatile Boolean sandboxImagePresent;
    private volatile String apiVersion;

    /**
     * @param hostAddress the address links point at: this host's routing proxy serves every application's external port
     */
    public Containers(String dockerHost, String hostAddress, Duration stopTimeout) {
        this(dockerHost, hostAddress, stopTimeout, null);
    }

    /**
     * @param filesRoot where the files of applications' configs and secrets are written (a directory per application,
     *                  bound read-only into its container), or null when none may be
     */
    public Containers(String dockerHost, String hostAddress, Duration stopTimeout, Path filesRoot) {
        this(dockerHost, hostAddress, stopTimeout, filesRoot, null);
    }

    /**
     * @param sandboxImage an image whose {@code sleep} holds the network namespace of each application that can use one
     *                     (see {@link #create}), or null: every container gets a network of its own
     */
    public Containers(String dockerHost, String hostAddress, Duration stopTimeout, Path filesRoot, String sandboxImage) {
        var config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(dockerHost).build();
        var http = new ZerodepDockerHttpClient.Builder().dockerHost(config.getDockerHost()).maxConnections(32)
                .connectionTimeout(Duration.ofSeconds(10)).responseTimeout(stopTimeout.plusSeconds(USUAL_TIMEOUT_MARGIN_SECONDS)).build();
        this.docker = DockerClientImpl.getInstance(config, http);
        // Loading an image answers only once the whole archive is in (minutes for a large one), and a stop only after its
        // grace period (Compose's stop_grace_period, up to an hour): neither fits the usual calls' time-out.
        this.slow = DockerClientImpl.getInstance(config, new ZerodepDockerHttpClient.Builder().dockerHost(config.getDockerHost())
                .maxConnections(8).connectionTimeout(Duration.ofSeconds(10)).responseTimeout(Duration.ofMinutes(65)).build());
        this.hostAddress = hostAddress;
        this.stopTimeout = stopTimeout;
        this.settings = new ContainerSettings(filesRoot);
        this.sandboxImage = sandboxImage;
    }

    /** Every managed container, running or not. */
    public Map<String, LocalContainer> list() {
        var result = new HashMap<String, LocalContainer>();
        var listed = docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(MANAGED, "true")).exec();
        var sandboxes = new HashMap<String, com.github.dockerjava.api.model.Container>();
        var apps = new java.util.HashSet<String>();
        for (var container : listed) {
            var labels = container.getLabels();
            if (labels.get(APP) != null) {
                apps.add(labels.get(APP));
            } else if (labels.get(SANDBOX) != null) {
                sandboxes.put(sandboxName(labels.get(SANDBOX)), container);
            }
        }
        removeOrphans(sandboxes, apps);
        for (var container : listed) {
            var labels = container.getLabels();
            var name = labels.get(APP);
            if (name == null) {
                continue;
            }
            var datasets = labels.get(DATASET);
            var volumes = datasets == null || datasets.isEmpty() ? List.<DatasetId>of()
                    : java.util.Arrays.stream(datasets.split(",")).map(DatasetId::of).toList();
            boolean running = "running".equals(container.getState());
            var sandbox = labels.get(SANDBOX) == null ? null : sandboxes.get(labels.get(SANDBOX));
            var address = sandbox == null ? address(container) : address(sandbox); // joined: it has no network settings of its own
            boolean created = "created".equals(container.getState());
            // A made container that joins a running sandbox already has the address it will listen at.
            boolean addressed = running || (created && sandbox != null && "running".equals(sandbox.getState()));
            result.put(name, new LocalContainer(name, labels.get(CONFIG), running, volumes, addressed ? address : null,
                    running ? health(container.getStatus()) : null, created));
        }
        return result;
    }

    /** The content ids ({@code sha256:...}) of every image this Docker holds. */
    public java.util.Set<String> imageIds() {
        var ids = new java.util.HashSet<String>();
        for (var image : docker.listImagesCmd().withShowAll(true).exec()) {
            ids.add(image.getId());
        }
        return ids;
    }

    /** Loads a {@code docker save} archive, as {@code docker load} does. */
    public void loadImage(java.io.InputStream archive) {
        slow.loadImageCmd(archive).exec();
    }

    /** Docker's health status from a listed container's status ("Up 5 seconds (health: starting)"), or null when it has none. */
    static String health(String status) {
        if (status == null) {
            return null;
        }
        if (status.contains("(health: starting)")) {
            return "starting";
        }
        if (status.contains("(healthy)")) {
            return "healthy";
        }
        return status.contains("(unhealthy)") ? "unhealthy" : null;
    }

    /** The container's address on its Docker network, or null when it has none. */
    private static String address(com.github.dockerjava.api.model.Container container) {
        var settings = container.getNetworkSettings();
        if (settings == null || settings.getNetworks() == null) {
            return null;
        }
        return settings.getNetworks().values().stream().map(n -> n.getIpAddress()).filter(ip -> ip != null && !ip.isEmpty())
                .findFirst().orElse(null);
    }

    /**
     * Creates and starts the application's container; {@code paths} has each of its datasets' mountpoint on this host. Its ports
     * are not published: the host's routing proxy owns the external ports and forwards to the container's address
     * (Docker's own publishing also showed ~1 s stalls for clients that connect while a container starts).
     */
    public void start(Application app, Map<DatasetId, Path> paths) {
        start(app, paths, false);
    }

    /**
     * The same; with {@code made} (discovery found the container made and current, with its sandbox when it has one),
     * only starts it, without looking at it first. If that fails (it was removed meanwhile, or its sandbox stopped), it
     * goes the whole way as without.
     */
    public void start(Application app, Map<DatasetId, Path> paths, boolean made) {
        if (made) {
            long starting = System.nanoTime();
            try {
                docker.startContainerCmd(app.name()).exec();
                logStarted(app, starting);
                return;
            } catch (NotModifiedException running) {
                return; // started meanwhile
            } catch (com.github.dockerjava.api.exception.DockerException e) {
                LOG.atInfo().addKeyValue("application", app.name()).log("starting the made container failed (" + String.valueOf(e.getMessage()).strip()
                        + "); making sure of it and its sandbox");
            }
        }
        var hash = ApplicationHash.of(app);
        String id = null;
        try {
            var existing = docker.inspectContainerCmd(app.name()).exec();
            var labels = existing.getConfig().getLabels();
            if ("created".equals(existing.getState().getStatus()) && labels != null && hash.equals(labels.get(CONFIG))) {
                id = existing.getId(); // made during the move's pre-copy: only started now
            }
        } catch (NotFoundException absent) {
            // made now
        }
        if (id == null) {
            id = create(app, paths);
        } else if (sandboxable(app)) {
            ensureSandbox(app.name()); // made with the container; running unless Docker restarted or someone stopped it
        }
        long starting = System.nanoTime();
        docker.startContainerCmd(id).exec();
        logStarted(app, starting);
    }

    private static void logStarted(Application app, long startingNanos) {
        LOG.atInfo().addKeyValue("application", app.name()).addKeyValue("image", app.imageWithTag()).addKeyValue("datasets", app.datasets())
                .addKeyValue("docker_start_ms", (System.nanoTime() - startingNanos) / 1_000_000).log("started application");
    }

    /** Makes the application's container without starting it (see {@link #start}); returns its id. */
    public String create(Application app, Map<DatasetId, Path> paths) {
        var labels = new HashMap<String, String>();
        labels.put(MANAGED, "true");
        labels.put(APP, app.name());
        labels.put(CONFIG, ApplicationHash.of(app));
        labels.put(DATASET, String.join(",", app.datasets().stream().map(DatasetId::toString).toList()));

        var sandbox = sandboxable(app) ? ensureSandbox(app.name()) : null;
        var exposed = new ArrayList<ExposedPort>();
        for (var port : app.ports()) {
            exposed.add(ExposedPort.tcp(port.internal()));
        }
        var host = HostConfig.newHostConfig().withInit(app.init() == null || app.init()).withRestartPolicy(restartPolicy(app));
        if (sandbox != null) {
            host.withNetworkMode("container:" + sandbox);
            labels.put(SANDBOX, sandbox);
            exposed.clear(); // Docker refuses exposed ports on a joined network; they were only ever documentation here
        }
        var binds = new ArrayList<Bind>();
        for (var mount : app.allVolumes()) {
            binds.add(new Bind(paths.get(mount.datasetId()).toString(), new com.github.dockerjava.api.model.Volume(mount.mountpoint()),
                    mount.readOnly() ? AccessMode.ro : AccessMode.rw));
        }
        var options = app.docker();
        if (options != null && !options.files().isEmpty()) {
            binds.addAll(settings.writeFiles(app));
        }
        if (!binds.isEmpty()) {
            host.withBinds(binds);
        }
        if (app.cpus() != null) {
            host.withNanoCPUs(Math.round(app.cpus() * 1e9));
        }
        if (app.memoryLimit() != null) {
            host.withMemory(app.memoryLimit());
        }
        if (app.cpuShares() != null) {
            host.withCpuShares(app.cpuShares());
        }
        var create = docker.createContainerCmd(app.imageWithTag()).withName(app.name())
                .withEnv(environment(app)).withExposedPorts(exposed).withHostConfig(host);
        if (options != null) {
            labels.putAll(options.labels());
            if (options.stopGracePeriodMs() != null) {
                labels.put(STOP_TIMEOUT, Long.toString((options.stopGracePeriodMs() + 999) / 1000));
            }
            ContainerSettings.apply(options, create, host);
        }
        var networks = options == null ? Map.<String, List<String>>of() : options.networks();
        if (!networks.isEmpty()) {
            labels.put(NETWORKS, String.join(",", networks.keySet()));
        }
        create.withLabels(labels);
        if (!app.commandLine().isEmpty()) {
            create.withCmd(app.commandLine());
        }
        if (app.entrypoint() != null) {
            create.withEntrypoint(app.entrypoint());
        }
        if (app.healthcheck() != null) {
            create.withHealthcheck(ContainerSettings.healthCheck(app.healthcheck()));
            warnIfStartIntervalIgnored(app);
        }
        if (!networks.isEmpty()) {
            networks.keySet().forEach(this::ensureNetwork);
            var first = networks.keySet().iterator().next();
            host.withNetworkMode(first);
            create.withAliases(networks.get(first));
        }
        var id = create.exec().getId();
        for (var network : networks.entrySet().stream().skip(1).toList()) {
            docker.connectToNetworkCmd().withNetworkId(network.getKey()).withContainerId(id)
                    .withContainerNetwork(new com.github.dockerjava.api.model.ContainerNetwork().withAliases(network.getValue())).exec();
        }
        LOG.atInfo().addKeyValue("application", app.name()).addKeyValue("image", app.imageWithTag()).log("created container");
        return id;
    }

    /**
     * Stops (its stop signal, SIGTERM by default, then SIGKILL after its grace period or the agent's stop timeout) and
     * removes the container; nothing to do when it is gone.
     */
    public void stop(String name) {
        Map<String, String> labels;
        try {
            labels = docker.inspectContainerCmd(name).exec().getConfig().getLabels();
        } catch (NotFoundException gone) {
            return;
        }
        stop(name, labels, null);
    }

    private void stop(String name, Map<String, String> labels, Duration atMost) {
        if (!stopOnly(name, labels, atMost)) {
            return;
        }
        try {
            docker.removeContainerCmd(name).withForce(true).exec();
        } catch (NotFoundException gone) {
            // fine
        } catch (com.github.dockerjava.api.exception.ConflictException beingRemoved) {
            // Another change removes it at this moment (the handoffs of an application's datasets each stop their users):
            // it is stopped already, since the stop above returned, and its removal is under way.
            LOG.atDebug().addKeyValue("application", name).log("already being removed: " + beingRemoved.getMessage());
        }
        if (labels != null && labels.get(SANDBOX) != null) {
            removeSandbox(labels.get(SANDBOX));
        }
        if (labels != null && labels.get(NETWORKS) != null) {
            removeUnused(List.of(labels.get(NETWORKS).split(",")));
        }
        try {
            settings.deleteFiles(name);
        } catch (java.io.IOException e) {
            LOG.atWarn().addKeyValue("application", name).log("could not remove its configs and secrets: " + e.getMessage());
        }
        LOG.atInfo().addKeyValue("application", name).log("removed application");
    }

    /**
     * Whether the application's container joins a sandbox's network namespace instead of getting one of its own. A
     * sandbox (Kubernetes' pause container, with {@code sleep} from the configured image) is made and started with the
     * container, during a move's pre-copy on the target: Docker then neither wires a network at the container's start
     * nor tears one down at its stop, about a tenth of a second each here, both inside a move's outage. Only for
     * applications without network settings of their own (user networks, hostname, DNS, extra hosts, sysctls), which
     * Docker would refuse on a joined network; and only when the image is on this host.
     */
    private boolean sandboxable(Application app) {
        if (sandboxImage == null) {
            return false;
        }
        var options = app.docker();
        if (options != null && (!options.networks().isEmpty() || options.hostname() != null || !options.dns().isEmpty()
                || !options.dnsSearch().isEmpty() || !options.extraHosts().isEmpty() || !options.sysctls().isEmpty())) {
            return false;
        }
        var present = sandboxImagePresent;
        if (present == null) {
            try {
                docker.inspectImageCmd(sandboxImage).exec();
                present = true;
            } catch (NotFoundException absent) {
                present = false;
                LOG.atWarn().addKeyValue("image", sandboxImage).log("the sandbox image is not on this host; applications get networks of their"
                        + " own, which adds Docker's network set-up to every move's outage (load the image, then restart the agent)");
            }
            sandboxImagePresent = present;
        }
        return present;
    }

    static String sandboxName(String app) {
        return "flocker-sandbox-" + app;
    }

    /** Makes and starts the application's sandbox unless it runs; its name. */
    private String ensureSandbox(String app) {
        var name = sandboxName(app);
        try {
            var existing = docker.inspectContainerCmd(name).exec();
            if (!Boolean.TRUE.equals(existing.getState().getRunning())) {
                docker.startContainerCmd(name).exec();
            }
            return name;
        } catch (NotFoundException absent) {
            // made now
        }
        var host = HostConfig.newHostConfig().withInit(true).withRestartPolicy(RestartPolicy.unlessStoppedRestart());
        try {
            docker.createContainerCmd(sandboxImage).withName(name).withCmd("sleep", "2147483647").withHostConfig(host)
                    .withLabels(Map.of(MANAGED, "true", SANDBOX, app)).exec();
        } catch (com.github.dockerjava.api.exception.ConflictException madeMeanwhile) {
            // another change made it a moment ago
        }
        try {
            docker.startContainerCmd(name).exec();
        } catch (NotModifiedException running) {
            // started meanwhile
        }
        LOG.atInfo().addKeyValue("application", app).addKeyValue("sandbox", name).log("made the application's network sandbox");
        return name;
    }

    private void removeSandbox(String name) {
        try {
            docker.removeContainerCmd(name).withForce(true).exec();
        } catch (NotFoundException | com.github.dockerjava.api.exception.ConflictException gone) {
            // removed already, or being removed
        }
    }

    /** Removes sandboxes whose application has had no container for a while (an agent killed between the two removals). */
    private void removeOrphans(Map<String, com.github.dockerjava.api.model.Container> sandboxes, java.util.Set<String> apps) {
        long now = System.currentTimeMillis() / 1000;
        sandboxes.forEach((name, container) -> {
            var app = container.getLabels().get(SANDBOX);
            if (!apps.contains(app) && container.getCreated() != null && now - container.getCreated() > ORPHAN_AFTER.toSeconds()) {
                LOG.atInfo().addKeyValue("sandbox", name).log("removing a network sandbox whose application has no container");
                removeSandbox(name);
            }
        });
    }

    /** Stops the container within its grace period (at most {@code atMost}); false when it does not exist. */
    private boolean stopOnly(String name, Map<String, String> labels, Duration atMost) {
        var grace = labels == null ? null : labels.get(STOP_TIMEOUT);
        int seconds = grace == null ? (int) stopTimeout.toSeconds() : Integer.parseInt(grace);
        if (atMost != null) {
            seconds = (int) Math.min(seconds, Math.max(0, atMost.toSeconds()));
        }
        try {
            forStop(seconds).stopContainerCmd(name).withTimeout(seconds).exec();
        } catch (NotModifiedException alreadyStopped) {
            // fine
        } catch (NotFoundException gone) {
            return false;
        }
        LOG.atInfo().addKeyValue("application", name).log("stopped application");
        return true;
    }

    /** The client whose time-out outlasts a stop of {@code seconds}: the usual one, unless the grace period nears its time-out. */
    private DockerClient forStop(int seconds) {
        return seconds + 30 < stopTimeout.toSeconds() + USUAL_TIMEOUT_MARGIN_SECONDS ? docker : slow;
    }

    /**
     * Makes a bridge network of that name unless it exists; labelled as Flocker's, so it goes once no container uses it.
     * One at a time: Docker lets two networks have one name when two creations race (its duplicate check is best-effort),
     * and a name that matches two is unusable. Such twins (from an agent killed meanwhile) are removed but for the oldest.
     */
    private synchronized void ensureNetwork(String name) {
        var same = docker.listNetworksCmd().withNameFilter(name).exec().stream().filter(n -> name.equals(n.getName()))
                .sorted(java.util.Comparator.comparing(n -> n.getCreated() == null ? new java.util.Date(0) : n.getCreated())).toList();
        if (same.isEmpty()) {
            docker.createNetworkCmd().withName(name).withDriver("bridge").withCheckDuplicate(true).withLabels(Map.of(MANAGED, "true")).exec();
            LOG.atInfo().addKeyValue("network", name).log("created network");
            return;
        }
        for (var twin : same.subList(1, same.size())) {
            try {
                docker.removeNetworkCmd(twin.getId()).exec();
                LOG.atWarn().addKeyValue("network", name).addKeyValue("id", twin.getId()).log("removed a second network of the same name");
            } catch (RuntimeException inUse) {
                LOG.atWarn().addKeyValue("network", name).log("two networks have this name and the second is in use: " + inUse.getMessage());
            }
        }
    }

    /** Removes those of {@code names} that Flocker made and no container uses any more. */
    private void removeUnused(List<String> names) {
        for (var name : names) {
            try {
                var network = docker.inspectNetworkCmd().withNetworkId(name).exec();
                if (network.getLabels() != null && "true".equals(network.getLabels().get(MANAGED))
                        && (network.getContainers() == null || network.getContainers().isEmpty())) {
                    docker.removeNetworkCmd(name).exec();
                    LOG.atInfo().addKeyValue("network", name).log("removed network: no container uses it");
                }
            } catch (NotFoundException | com.github.dockerjava.api.exception.ConflictException goneOrInUse) {
                // removed already, or joined meanwhile
            }
        }
    }

    /** The running managed containers that have {@code dataset} as their volume, by name. */
    public List<String> runningWith(DatasetId dataset) {
        return list().values().stream().filter(c -> c.running() && c.uses(dataset)).map(LocalContainer::name).sorted().toList();
    }

    public List<String> stopUsing(DatasetId dataset) {
        return stopUsing(dataset, null);
    }

    /**
     * As {@link #stopUsing(DatasetId)}, giving each container at most {@code grace} after its stop signal (null: its own
     * grace period): fencing must end every write well within the control service's failover time.
     */
    public List<String> stopUsing(DatasetId dataset, Duration grace) {
        return stopUsing(dataset, grace, true);
    }

    /**
     * As {@link #stopUsing(DatasetId, Duration)}; without {@code remove} the stopped containers stay (a handoff removes
     * them once the outage is over: removing one takes Docker tens of milliseconds).
     */
    public List<String> stopUsing(DatasetId dataset, Duration grace, boolean remove) {
        var stopped = new ArrayList<String>();
        for (var container : docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(MANAGED, "true")).exec()) {
            var labels = container.getLabels();
            if (usesDataset(labels, dataset)) {
                if (remove) {
                    stop(labels.get(APP), labels, grace);
                } else if (!"exited".equals(container.getState()) && !"created".equals(container.getState())) {
                    stopOnly(labels.get(APP), labels, grace);
                }
                stopped.add(labels.get(APP));
            }
        }
        return stopped;
    }

    /** Whether a managed container with these labels is an application's that uses {@code dataset}. */
    private static boolean usesDataset(Map<String, String> labels, DatasetId dataset) {
        var datasets = labels.get(DATASET);
        return labels.get(APP) != null && datasets != null && List.of(datasets.split(",")).contains(dataset.toString());
    }

    /** Each application's main process seen last, as {pid, its start time in clock ticks}: {@link #process} validates it. */
    private final Map<String, long[]> processes = new java.util.concurrent.ConcurrentHashMap<>();

    /** Looks up the main process of each running container that uses {@code dataset} (Docker calls), for {@link #process}. */
    public void findProcessesUsing(DatasetId dataset) {
        for (var container : docker.listContainersCmd().withStatusFilter(List.of("running")).withLabelFilter(Map.of(MANAGED, "true")).exec()) {
            var labels = container.getLabels();
            if (usesDataset(labels, dataset)) {
                inspectProcess(labels.get(APP), container.getId());
            }
        }
    }

    /**
     * The main process of application {@code app}'s running container, or none: the one found last
     * ({@link #findProcessesUsing}, run ahead of a handoff) while it still runs, else asked of Docker now.
     */
    public java.util.Optional<Long> process(String app) {
        var known = knownProcess(app);
        return known.isPresent() ? known : inspectProcess(app, app);
    }

    /** The main process of application {@code app} found last, while it still runs; no Docker call. */
    public java.util.Optional<Long> knownProcess(String app) {
        var known = processes.get(app);
        return known != null && known[1] >= 0 && startTicks(known[0]) == known[1] ? java.util.Optional.of(known[0]) : java.util.Optional.empty();
    }

    private java.util.Optional<Long> inspectProcess(String app, String container) {
        try {
            var pid = docker.inspectContainerCmd(container).exec().getState().getPidLong();
            if (pid == null || pid <= 0) {
                processes.remove(app);
                return java.util.Optional.empty();
            }
            processes.put(app, new long[] {pid, startTicks(pid)});
            return java.util.Optional.of(pid);
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            processes.remove(app);
            return java.util.Optional.empty();
        }
    }

    /** When process {@code pid} started, in clock ticks since boot ({@code /proc/<pid>/stat}, field 22), or -1 when it is gone. */
    static long startTicks(long pid) {
        try {
            var stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // after the command name, which may hold spaces
            return Long.parseLong(fields[19]); // field 22 of the whole line; the 20th after the name
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The daemon's API version, asked once: a daemon is not upgraded under a running agent's feet often enough to ask per start. */
    private String apiVersion() {
        var known = apiVersion;
        if (known == null) {
            known = docker.versionCmd().exec().getApiVersion();
            apiVersion = known;
        }
        return known;
    }

    /** Docker's API version 1.44 (Docker 25) is the first to honour a health check's start interval; older ones drop it. */
    private void warnIfStartIntervalIgnored(Application app) {
        if (app.healthcheck() == null || app.healthcheck().startIntervalMs() == null) {
            return;
        }
        var version = apiVersion();
        var parts = version == null ? new String[0] : version.split("\\.");
        if (parts.length == 2 && (Integer.parseInt(parts[0]) > 1 || Integer.parseInt(parts[1]) >= 44)) {
            return;
        }
        LOG.atWarn().addKeyValue("application", app.name()).addKeyValue("docker_api", version)
                .log("this Docker daemon ignores the health check's start_interval (it needs API 1.44, Docker 25)");
    }

    private static RestartPolicy restartPolicy(Application app) {
        var policy = app.restartPolicy();
        return switch (policy.name()) {
            case "always" -> RestartPolicy.alwaysRestart();
            case "on-failure" -> RestartPolicy.onFailureRestart(policy.maximumRetryCount() == null ? 0 : policy.maximumRetryCount());
            default -> RestartPolicy.noRestart();
        };
    }

    /** The application's environment plus Docker-style link variables pointing at the routed address of each link. */
    List<String> environment(Application app) {
        var env = new ArrayList<String>();
        app.environment().forEach((k, v) -> env.add(k + "=" + v));
        for (var link : app.links()) {
            var alias = link.alias().toUpperCase(Locale.ROOT).replace('-', '_');
            var prefix = alias + "_PORT_" + link.localPort() + "_TCP";
            var url = "tcp://" + hostAddress + ":" + link.remotePort();
            env.add(prefix + "=" + url);
            env.add(prefix + "_ADDR=" + hostAddress);
            env.add(prefix + "_PORT=" + link.remotePort());
            env.add(prefix + "_PROTO=tcp");
            env.add(alias + "_PORT=" + url);
        }
        return env;
    }

    /**
     * Makes dockerd list volume driver {@code driver} among its plugins. A driver announced by a spec file or socket
     * is only looked up (and listed, and reported to Swarm, whose scheduler leaves tasks "Pending: missing plugin" on
     * nodes without it) once something names it; listing the volumes of that driver does. True when it is listed.
     */
    public boolean announceVolumeDriver(String driver) {
        if (volumeDrivers().contains(driver)) {
            return true;
        }
        docker.listVolumesCmd().withFilter("driver", List.of(driver)).exec();
        return volumeDrivers().contains(driver);
    }

    /**
     * The names of volume driver {@code driver}'s volumes that live containers use: running, paused, restarting, or
     * created (one being started waits for its volumes' mounts before it runs). Exited and dead ones hold no mount.
     */
    public java.util.Set<String> volumesInUse(String driver) {
        var names = new java.util.HashSet<String>();
        for (var container : docker.listContainersCmd().withShowAll(true).exec()) {
            if (container.getMounts() == null || !java.util.Set.of("running", "paused", "restarting", "created").contains(container.getState())) {
                continue;
            }
            for (var mount : container.getMounts()) {
                if (driver.equals(mount.getDriver()) && mount.getName() != null) {
                    names.add(mount.getName());
                }
            }
        }
        return names;
    }

    private List<String> volumeDrivers() {
        var plugins = docker.infoCmd().exec().getPlugins();
        var volume = plugins == null ? null : plugins.get("Volume");
        return volume == null ? List.of() : volume;
    }

    @Override
    public void close() {
        for (var client : List.of(docker, slow)) {
            try {
                client.close();
            } catch (java.io.IOException e) {
                LOG.atDebug().log("closing the Docker client: " + e.getMessage());
            }
        }
    }
}
