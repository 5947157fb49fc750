package dev.flocker.compose;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What Compose keys mean here: those deployed, and for those refused, why and what to write instead. A key in
 * neither is refused as not supported (yet), with the list of those that are.
 */
final class ComposeKeys {
    static final Set<String> TOP = Set.of("version", "name", "services", "volumes", "configs", "secrets", "networks");
    static final Set<String> SERVICE = Set.of("image", "environment", "env_file", "ports", "expose", "links", "volumes", "mem_limit",
            "cpu_shares", "cpus", "restart", "command", "entrypoint", "healthcheck", "depends_on", "container_name", "init", "profiles",
            "deploy", "user", "working_dir", "hostname", "labels", "read_only", "tmpfs", "shm_size", "extra_hosts", "stop_signal",
            "stop_grace_period", "configs", "secrets", "tty", "stdin_open", "dns", "dns_search", "ulimits", "sysctls", "networks");

    private static final String NETWORK_MODE = "not supported: an application joins networks with 'networks' (bridges on its node, shared with"
            + " the services on it), or reaches others through 'links' (each host's routing proxy serves every application's"
            + " external port, wherever the other application runs).";
    private static final String HOST = "not supported: an application must be able to run, and move, on any node, so it gets no"
            + " host-level privileges, devices or namespaces.";

    static final Map<String, String> TOP_REASONS = Map.of(
            "include", "not supported: put the services in one file.");

    static final Map<String, String> SERVICE_REASONS = Map.ofEntries(
            Map.entry("build", "for flocker-deploy: it builds the image with Docker and uploads it to the control service, where nodes"
                    + " load it from. A configuration sent to the API directly names an 'image' every node has or can pull."),
            Map.entry("network_mode", NETWORK_MODE),
            Map.entry("volumes_from", "not supported: share a named volume instead (both services list 'name:/path', with 'name'"
                    + " under the top-level 'volumes')."),
            Map.entry("privileged", HOST),
            Map.entry("cap_add", HOST),
            Map.entry("cap_drop", HOST),
            Map.entry("devices", HOST),
            Map.entry("pid", HOST),
            Map.entry("ipc", HOST),
            Map.entry("userns_mode", HOST),
            Map.entry("security_opt", HOST),
            Map.entry("extends", "not supported: write the service out in full."),
            Map.entry("scale", "not supported: one container per application; write another service for another copy."),
            Map.entry("logging", "not supported: containers log through each node's Docker daemon, as it is configured there."));

    private ComposeKeys() {
    }

    /** Why {@code key} is refused, naming it, and what is supported. */
    static String refusal(String key, Map<String, String> reasons, Set<String> supported) {
        var reason = reasons.get(key);
        if (reason != null) {
            return "'" + key + "' is " + reason;
        }
        return "'" + key + "' is not supported yet. Supported: " + String.join(", ", new TreeSet<>(supported)) + ".";
    }
}
