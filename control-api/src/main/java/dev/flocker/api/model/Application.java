package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** An application (Flocker's "container") in the desired configuration, with Flocker's JSON names. */
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
        @JsonProperty("links") List<Link> links) {

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
        if (volumes.size() > 1) {
            throw new IllegalArgumentException("application " + name + " has " + volumes.size() + " volumes; at most one is supported");
        }
    }

    public Application withNode(NodeId newNode) {
        return new Application(newNode, name, image, ports, environment, restartPolicy, commandLine, volumes, cpuShares, memoryLimit, links);
    }

    /** Whether {@code dataset} is this application's volume. */
    public boolean usesDataset(DatasetId dataset) {
        return volumes.stream().anyMatch(v -> v.datasetId().equals(dataset));
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

    public record Volume(@JsonProperty("dataset_id") DatasetId datasetId, @JsonProperty("mountpoint") String mountpoint) {
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
}
