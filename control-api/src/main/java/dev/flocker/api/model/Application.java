package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An application (Flocker's "container") in the desired configuration, with Flocker's JSON names. The last five
 * fields are our extensions (what Compose files say beyond Flocker's model); they are absent from JSON when unset, so
 * Flocker's clients see nothing new and existing applications keep their digests.
 *
 * @param entrypoint the container's entrypoint, or null for the image's
 * @param init       whether an init process reaps the container's children (null: yes)
 * @param healthcheck Docker's health check for the container, or null for the image's
 * @param dependsOn  applications that must run (or be healthy) before this one starts
 * @param cpus       the CPU limit in cores (Docker's --cpus), or null for none
 * @param extraVolumes volumes beyond the first (Flocker's model has one, in {@code volumes}): all of an
 *                   application's datasets move together, as one consistency group
 * @param docker     further options of the container, passed to Docker as they are (null: none)
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Application(
        @JsonProperty("node_uuid") NodeId node,
        @JsonProperty("name") String name,
        @JsonProperty("image") String image,
        @JsonProperty("ports") List<Port> ports,
        @JsonProperty("environment") Map<String, String> environment,
        @JsonProperty("restart_policy") RestartPolicy restartPolicy,
        @JsonProperty("command_line") List<String> commandLine,
        @JsonProperty("volumes") List<Volume> volumes,
        @JsonProperty("cpu_shares") Integer cpuShares,
        @JsonProperty("memory_limit") Long memoryLimit,
        @JsonProperty("links") List<Link> links,
        @JsonProperty("entrypoint") List<String> entrypoint,
        @JsonProperty("init") Boolean init,
        @JsonProperty("healthcheck") HealthCheck healthcheck,
        @JsonProperty("depends_on") List<Dependency> dependsOn,
        @JsonProperty("cpus") Double cpus,
        @JsonProperty("extra_volumes") List<Volume> extraVolumes,
        @JsonProperty("docker") DockerOptions docker) {

    /** At most this many volumes per application. */
    public static final int MAX_VOLUMES = 16;

    public static final Pattern NAME = Pattern.compile("^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
    /** Docker's image references: [registry[:port]/]repository[:tag][@digest]. */
    public static final Pattern IMAGE = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9._/:@+-]{0,1023}$");
    private static final Pattern ENV_KEY = Pattern.compile("^[^=\\x00-\\x1f]{1,4096}$");

    public Application {
        if (node == null) {
            throw new IllegalArgumentException("node_uuid is required for application " + name);
        }
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("application name '" + name + "' is invalid: use letters, digits, _ . - (at least 2), starting with a letter or digit");
        }
        name = name.startsWith("/") ? name.substring(1) : name;
        if (image == null || image.isBlank()) {
            throw new IllegalArgumentException("image is required for application " + name);
        }
        if (!IMAGE.matcher(image).matches()) {
            throw new IllegalArgumentException("image '" + image + "' of application " + name
                    + " is not an image reference (e.g. postgres:15, registry:5000/team/app@sha256:...)");
        }
        if (environment != null) {
            for (var entry : environment.entrySet()) {
                if (entry.getKey() == null || !ENV_KEY.matcher(entry.getKey()).matches() || entry.getValue() == null
                        || entry.getValue().indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("environment variable '" + entry.getKey() + "' of application " + name
                            + " is invalid: names have no '=' or control characters, values no NUL");
                }
            }
        }
        ports = ports == null ? List.of() : List.copyOf(ports);
        environment = environment == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(environment));
        restartPolicy = restartPolicy == null ? RestartPolicy.NEVER : restartPolicy;
        commandLine = commandLine == null ? List.of() : List.copyOf(commandLine);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        links = links == null ? List.of() : List.copyOf(links);
        entrypoint = entrypoint == null || entrypoint.isEmpty() ? null : List.copyOf(entrypoint);
        dependsOn = dependsOn == null ? List.of() : List.copyOf(dependsOn);
        var own = name;
        if (dependsOn.stream().anyMatch(d -> d.name().equals(own))) {
            throw new IllegalArgumentException("application " + name + " depends on itself");
        }
        if (cpus != null && !(cpus >= 0.01 && cpus <= 1024)) {
            throw new IllegalArgumentException("cpus " + cpus + " of application " + name + " is out of range: from 0.01 to 1024 cores");
        }
        extraVolumes = extraVolumes == null ? List.of() : List.copyOf(extraVolumes);
        docker = docker == null || docker.isEmpty() ? null : docker;
        if (volumes.size() > 1) {
            throw new IllegalArgumentException("application " + name + " has " + volumes.size() + " volumes in 'volumes'; Flocker's"
                    + " model has one: put the others in 'extra_volumes'");
        }
        if (volumes.isEmpty() && !extraVolumes.isEmpty()) {
            throw new IllegalArgumentException("application " + name + " has 'extra_volumes' but no 'volumes': the first goes in 'volumes'");
        }
        if (volumes.size() + extraVolumes.size() > MAX_VOLUMES) {
            throw new IllegalArgumentException("application " + name + " has " + (volumes.size() + extraVolumes.size())
                    + " volumes; at most " + MAX_VOLUMES);
        }
        var datasets = new java.util.HashSet<DatasetId>();
        var mountpoints = new java.util.HashSet<String>();
        for (var volume : java.util.stream.Stream.concat(volumes.stream(), extraVolumes.stream()).toList()) {
            if (!datasets.add(volume.datasetId())) {
                throw new IllegalArgumentException("application " + name + " mounts dataset " + volume.datasetId() + " twice");
            }
            if (!mountpoints.add(volume.mountpoint())) {
                throw new IllegalArgumentException("application " + name + " mounts two volumes at " + volume.mountpoint());
            }
        }
    }

    /** An application with Flocker's fields only. */
    public Application(NodeId node, String name, String image, List<Port> ports, Map<String, String> environment,
                       RestartPolicy restartPolicy, List<String> commandLine, List<Volume> volumes, Integer cpuShares, Long memoryLimit,
                       List<Link> links) {
        this(node, name, image, ports, environment, restartPolicy, commandLine, volumes, cpuShares, memoryLimit, links, null, null, null,
                null, null, null, null);
    }

    /** Every volume: the first (Flocker's {@code volumes}), then the extra ones. */
    public List<Volume> allVolumes() {
        if (extraVolumes.isEmpty()) {
            return volumes;
        }
        var all = new java.util.ArrayList<>(volumes);
        all.addAll(extraVolumes);
        return List.copyOf(all);
    }

    /** The datasets of every volume, in order. */
    public List<DatasetId> datasets() {
        return allVolumes().stream().map(Volume::datasetId).toList();
    }

    /** The same application with {@code all} as its volumes: the first in {@code volumes}, the rest in {@code extra_volumes}. */
    public Application withVolumes(List<Volume> all) {
        return new Application(node, name, image, ports, environment, restartPolicy, commandLine, all.isEmpty() ? List.of() : all.subList(0, 1),
                cpuShares, memoryLimit, links, entrypoint, init, healthcheck, dependsOn, cpus, all.size() > 1 ? all.subList(1, all.size()) : null,
                docker);
    }

    public Application withNode(NodeId newNode) {
        return new Application(newNode, name, image, ports, environment, restartPolicy, commandLine, volumes, cpuShares, memoryLimit, links,
                entrypoint, init, healthcheck, dependsOn, cpus, extraVolumes, docker);
    }

    /** The same application with its image named "repo:tag", as Flocker stores it. */
    public Application withImageTagged() {
        return new Application(node, name, imageWithTag(), ports, environment, restartPolicy, commandLine, volumes, cpuShares, memoryLimit,
                links, entrypoint, init, healthcheck, dependsOn, cpus, extraVolumes, docker);
    }

    /** Whether {@code dataset} is one of this application's volumes. */
    public boolean usesDataset(DatasetId dataset) {
        return volumes.stream().anyMatch(v -> v.datasetId().equals(dataset)) || extraVolumes.stream().anyMatch(v -> v.datasetId().equals(dataset));
    }

    /** Flocker's image form is "repo:tag"; a bare repository means ":latest". */
    public String imageWithTag() {
        int slash = image.lastIndexOf('/');
        return image.indexOf(':', slash + 1) >= 0 ? image : image + ":latest";
    }

    public record Port(@JsonProperty("internal") int internal, @JsonProperty("external") int external) {
        public Port {
            if (internal < 1 || internal > 65535 || external < 1 || external > 65535) {
                throw new IllegalArgumentException("port " + external + ":" + internal + " (external:internal) is out of range: ports are 1-65535");
            }
        }
    }

    public record Link(@JsonProperty("alias") String alias, @JsonProperty("local_port") int localPort,
                       @JsonProperty("remote_port") int remotePort) {
        public Link {
            if (alias == null || !alias.matches("^[a-zA-Z0-9_-]+$")) {
                throw new IllegalArgumentException("link alias '" + alias + "' is invalid: use letters, digits, _ and -");
            }
            if (localPort < 1 || localPort > 65535 || remotePort < 1 || remotePort > 65535) {
                throw new IllegalArgumentException("link " + alias + " ports " + localPort + "/" + remotePort + " are out of range 1-65535");
            }
        }
    }

    /** A dataset mounted into the container; {@code read_only} is our extension, absent when false. */
    public record Volume(@JsonProperty("dataset_id") DatasetId datasetId, @JsonProperty("mountpoint") String mountpoint,
                         @JsonProperty("read_only") @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean readOnly) {
        public Volume(DatasetId datasetId, String mountpoint) {
            this(datasetId, mountpoint, false);
        }

        public Volume {
            if (datasetId == null) {
                throw new IllegalArgumentException("volume dataset_id is required");
            }
            if (mountpoint == null || !mountpoint.matches("/[\\x20-\\x7e]{0,4095}") || mountpoint.matches("(.*/)?\\.\\.(/.*)?")) {
                throw new IllegalArgumentException("volume mountpoint '" + mountpoint + "' must be an absolute path of printable ASCII"
                        + " without '..'");
            }
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RestartPolicy(@JsonProperty("name") String name, @JsonProperty("maximum_retry_count") Integer maximumRetryCount) {
        public static final RestartPolicy NEVER = new RestartPolicy("never", null);

        public RestartPolicy {
            if (!List.of("never", "always", "on-failure").contains(name)) {
                throw new IllegalArgumentException("restart_policy name '" + name + "' is invalid: use never, always or on-failure");
            }
            if (maximumRetryCount != null && (!name.equals("on-failure") || maximumRetryCount < 1)) {
                throw new IllegalArgumentException("restart_policy maximum_retry_count is only valid, and at least 1, with on-failure");
            }
        }
    }

    /**
     * Docker's health check: {@code test} as Docker takes it ({@code ["CMD", ...]}, {@code ["CMD-SHELL", "..."]} or
     * {@code ["NONE"]}), durations in milliseconds (null: Docker's defaults).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HealthCheck(@JsonProperty("test") List<String> test, @JsonProperty("interval_ms") Long intervalMs,
                              @JsonProperty("timeout_ms") Long timeoutMs, @JsonProperty("start_period_ms") Long startPeriodMs,
                              @JsonProperty("retries") Integer retries, @JsonProperty("start_interval_ms") Long startIntervalMs) {
        public HealthCheck(List<String> test, Long intervalMs, Long timeoutMs, Long startPeriodMs, Integer retries) {
            this(test, intervalMs, timeoutMs, startPeriodMs, retries, null);
        }

        public HealthCheck {
            if (test == null || test.isEmpty() || !List.of("CMD", "CMD-SHELL", "NONE").contains(test.get(0))
                    || (test.get(0).equals("CMD-SHELL") && test.size() != 2) || (test.get(0).equals("CMD") && test.size() < 2)) {
                throw new IllegalArgumentException("healthcheck test " + test + " is invalid: use [\"CMD\", program, args...], "
                        + "[\"CMD-SHELL\", \"shell command\"] or [\"NONE\"]");
            }
            test = List.copyOf(test);
            for (var duration : new Long[]{intervalMs, timeoutMs, startPeriodMs, startIntervalMs}) {
                if (duration != null && (duration < 1 || duration > 86_400_000L)) {
                    throw new IllegalArgumentException("healthcheck duration " + duration + " ms is out of range: from 1 ms to 24 h");
                }
            }
            if (retries != null && (retries < 1 || retries > 1000)) {
                throw new IllegalArgumentException("healthcheck retries " + retries + " is out of range: from 1 to 1000");
            }
        }

        /** Whether this check turns the image's own check off. */
        public boolean disabled() {
            return test.get(0).equals("NONE");
        }
    }

    /**
     * Another application this one waits for before it starts (Compose's {@code depends_on}).
     *
     * @param condition "started" (it runs) or "healthy" (its health check passed)
     */
    public record Dependency(@JsonProperty("name") String name, @JsonProperty("condition") String condition) {
        public Dependency {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("depends_on name '" + name + "' is not an application name");
            }
            condition = condition == null ? "started" : condition;
            if (!condition.equals("started") && !condition.equals("healthy")) {
                throw new IllegalArgumentException("depends_on condition '" + condition + "' is invalid: use started or healthy");
            }
        }
    }
}
