package dev.flocker.agent;

import dev.flocker.api.model.NodeId;
import dev.flocker.api.tls.TlsFiles;
import dev.flocker.plugin.PluginEndpoint;
import dev.flocker.plugin.VolumePlugin;
import dev.flocker.proxy.ProxySettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * An agent's settings, read from {@code agent.yml} in Flocker's layout plus our own keys:
 *
 * <pre>
 * version: 1
 * control-service: {hostname: 10.0.0.1, port: 4524, api_port: 4523}   # api_port: the HTTP API (default: plugin.api_port)
 * dataset: {backend: zfs, pool: flocker, mount_root: /flocker}      # optional: pool_file, pool_size
 * node: {address: 10.0.0.11, uuid: ..., state_path: /var/lib/flocker/agent}
 * docker: {host: unix:///var/run/docker.sock, sandbox_image: busybox:1.36}   # sandbox_image: optional, see below
 * ssh: {identity: /etc/flocker/id_ed25519, known_hosts: /etc/flocker/known_hosts, port: 22, user: root}
 * moves: {precopy_threshold: 16777216, precopy_rounds: 8, stop_timeout: 30, drain_ms: 1000}
 * proxy: {max_hold_seconds: 30, max_held: 1000, idle_timeout_seconds: 600, connect_timeout_ms: 2000, kernel_forwarding: true}
 * tls: {ca: /etc/flocker/cluster.crt, node_cert: /etc/flocker/node.crt, node_key: /etc/flocker/node.key,
 *       plugin_cert: /etc/flocker/plugin.crt, plugin_key: /etc/flocker/plugin.key}
 * plugin: {name: flocker, listen: unix:///run/docker/plugins/flocker.sock, api_port: 4523, lease_seconds: 60, mount_timeout_seconds: 100,
 *          lease_wait_seconds: 20, mount_grace_seconds: 60}     # listen: tcp://127.0.0.1:4525 with a spec file, or off
 * </pre>
 *
 * @param nodeId         null: taken from (or created in) {@code state_path/node.uuid}
 * @param address        the IPv4 address other hosts reach this one at (SSH, routes)
 * @param precopyBytes   the pre-copy ends once an increment is smaller than this
 * @param precopyRounds  at most this many pre-copy sends before the handoff
 * @param stopTimeout    how long an application gets to stop before it is killed
 * @param drain          how long a handoff waits for the requests in flight to its applications before it stops them
 * @param proxy          limits of the routing proxy (held connections, idle timeout)
 * @param plugin         where the Docker volume plugin listens (null: off), and its timings
 * @param tls            the cluster CA and this node's certificate (its CN, node-&lt;uuid&gt;, is the node's identity)
 * @param pluginTls      the cluster CA and the Docker plugin's API user certificate (CN user-plugin)
 * @param metrics        where Prometheus metrics are served over plain HTTP ({@code /metrics}), or null: off
 * @param sandboxImage   an image on this host whose {@code sleep} holds each application's network namespace, or null: none
 *                       (each container gets its own; see {@link Containers})
 * @param replication    how often datasets with standbys are shipped to them, and this node's lease on writing them
 */
public record AgentConfig(String controlHost, int controlPort, int controlApiPort, String pool, Path mountRoot, Path poolFile, long poolSize,
                          String address, NodeId nodeId, Path statePath, String dockerHost, Path sshIdentity, Path knownHosts,
                          int sshPort, String sshUser, long precopyBytes, int precopyRounds, Duration stopTimeout, Duration drain,
                          Duration interval, ProxySettings proxy, Plugin plugin, TlsFiles tls, TlsFiles pluginTls,
                          java.net.InetSocketAddress metrics, Replication replication, String sandboxImage) {

    /**
     * Continuous replication to standbys.
     *
     * @param interval   at most this often an increment is shipped to a dataset's standbys
     * @param fenceAfter a node that had no acknowledgement from the control service for this long stops the applications
     *                   of its datasets with standbys and makes those read-only; keep it below the control service's
     *                   {@code --failover-after} by more than an application's stop time
     */
    public record Replication(Duration interval, Duration fenceAfter) {
        public static final Replication DEFAULT = new Replication(Duration.ofSeconds(1), Duration.ofSeconds(5));
    }

    /**
     * The Docker volume plugin's settings.
     *
     * @param name    the driver name Docker knows the plugin by (its socket's or spec file's name)
     * @param apiPort the control service's HTTP API port, which the plugin uses as Flocker's plugin did
     */
    public record Plugin(String name, PluginEndpoint listen, int apiPort, VolumePlugin.Settings settings) {
    }

    /** A configuration file that cannot be used, with the file, the key and what would be valid. */
    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }
    }

    private static final Set<String> TOP = Set.of("version", "control-service", "dataset", "node", "docker", "ssh", "moves", "interval",
            "proxy", "plugin", "tls", "metrics", "replication");

    public static AgentConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file + ": no such file; pass the agent configuration with --config (see docs/OPERATIONS.md, 'The convergence agent')");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the agent configuration: " + e);
        }
        return parse(file.toString(), text);
    }

    public static AgentConfig parse(String fileName, String text) {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (MarkedYAMLException e) {
            var mark = e.getProblemMark();
            throw new ConfigException(fileName + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1) + ": not valid YAML: " + e.getProblem());
        } catch (RuntimeException e) {
            throw new ConfigException(fileName + ": not valid YAML: " + e.getMessage());
        }
        var reader = new Reader(fileName);
        if (!(root instanceof Map<?, ?> top)) {
            throw new ConfigException(fileName + ": expected a mapping with keys version, control-service, dataset, node, ...");
        }
        reader.known(top, "", TOP);
        var version = reader.integer(top, "version", null);
        if (version != 1) {
            throw new ConfigException(fileName + ": version " + version + " is not supported; use version: 1");
        }
        var control = reader.section(top, "control-service", true);
        reader.known(control, "control-service.", Set.of("hostname", "port", "api_port"));
        var dataset = reader.section(top, "dataset", true);
        reader.known(dataset, "dataset.", Set.of("backend", "pool", "mount_root", "pool_file", "pool_size"));
        var backend = reader.string(dataset, "dataset.backend", "zfs");
        if (!backend.equals("zfs")) {
            throw new ConfigException(fileName + ": dataset.backend '" + backend + "' is not supported; valid: zfs");
        }
        var node = reader.section(top, "node", true);
        reader.known(node, "node.", Set.of("address", "uuid", "state_path"));
        var docker = reader.section(top, "docker", false);
        reader.known(docker, "docker.", Set.of("host", "sandbox_image"));
        var ssh = reader.section(top, "ssh", false);
        reader.known(ssh, "ssh.", Set.of("identity", "known_hosts", "port", "user"));
        var moves = reader.section(top, "moves", false);
        reader.known(moves, "moves.", Set.of("precopy_threshold", "precopy_rounds", "stop_timeout", "drain_ms"));
        var proxy = reader.section(top, "proxy", false);
        reader.known(proxy, "proxy.", Set.of("max_hold_seconds", "max_held", "idle_timeout_seconds", "connect_timeout_ms",
                "kernel_forwarding"));
        var tls = reader.section(top, "tls", false);
        reader.known(tls, "tls.", Set.of("ca", "node_cert", "node_key", "plugin_cert", "plugin_key"));
        var ca = reader.path(tls, "tls.ca", "/etc/flocker/cluster.crt");
        var nodeTls = new TlsFiles(ca, reader.path(tls, "tls.node_cert", "/etc/flocker/node.crt"), reader.path(tls, "tls.node_key", "/etc/flocker/node.key"));
        var pluginTls = new TlsFiles(ca, reader.path(tls, "tls.plugin_cert", "/etc/flocker/plugin.crt"),
                reader.path(tls, "tls.plugin_key", "/etc/flocker/plugin.key"));
        var plugin = reader.section(top, "plugin", false);
        reader.known(plugin, "plugin.", Set.of("name", "listen", "api_port", "lease_seconds", "mount_timeout_seconds", "lease_wait_seconds",
                "mount_grace_seconds"));
        var listen = reader.string(plugin, "plugin.listen", "unix:///run/docker/plugins/flocker.sock");
        PluginEndpoint endpoint = null;
        if (!listen.equals("off")) {
            try {
                endpoint = PluginEndpoint.parse(listen);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(fileName + ": plugin.listen " + e.getMessage() + ", or off");
            }
        }

        var address = reader.string(node, "node.address", null);
        if (!address.matches("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$")) {
            throw new ConfigException(fileName + ": node.address '" + address + "' must be this host's IPv4 address, e.g. 10.0.0.11");
        }
        var uuidText = reader.string(node, "node.uuid", "");
        NodeId uuid = null;
        if (!uuidText.isEmpty()) {
            try {
                uuid = NodeId.of(uuidText);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(fileName + ": node.uuid: " + e.getMessage());
            }
        }
        var poolFile = reader.string(dataset, "dataset.pool_file", "");
        var dockerHost = reader.string(docker, "docker.host", "unix:///var/run/docker.sock");
        if (!dockerHost.matches("^(unix|tcp)://.+")) {
            throw new ConfigException(fileName + ": docker.host '" + dockerHost + "' must be unix:///path/to/docker.sock or tcp://host:port");
        }
        var metricsSection = reader.section(top, "metrics", false);
        reader.known(metricsSection, "metrics.", Set.of("listen"));
        var metrics = metricsListen(reader, reader.string(metricsSection, "metrics.listen", address + ":4528"));
        var replicationSection = reader.section(top, "replication", false);
        reader.known(replicationSection, "replication.", Set.of("interval_ms", "fence_after_seconds"));
        var replication = new Replication(Duration.ofMillis(reader.atLeastOne(replicationSection, "replication.interval_ms", 1000)),
                Duration.ofSeconds(reader.atLeastOne(replicationSection, "replication.fence_after_seconds", 5)));
        return new AgentConfig(
                reader.string(control, "control-service.hostname", null),
                reader.port(control, "control-service.port", 4524),
                // The HTTP API, where built images are loaded from; the plugin's api_port is the same port.
                reader.port(control, "control-service.api_port", reader.port(plugin, "plugin.api_port", 4523)),
                reader.string(dataset, "dataset.pool", "flocker"),
                reader.path(dataset, "dataset.mount_root", "/flocker"),
                poolFile.isEmpty() ? null : reader.path(dataset, "dataset.pool_file", null),
                reader.longValue(dataset, "dataset.pool_size", 10L << 30),
                address, uuid,
                reader.path(node, "node.state_path", "/var/lib/flocker/agent"),
                dockerHost,
                reader.path(ssh, "ssh.identity", "/etc/flocker/id_ed25519"),
                reader.path(ssh, "ssh.known_hosts", "/etc/flocker/known_hosts"),
                reader.port(ssh, "ssh.port", 22),
                reader.string(ssh, "ssh.user", "root"),
                reader.longValue(moves, "moves.precopy_threshold", 16L << 20),
                reader.integer(moves, "moves.precopy_rounds", 8),
                Duration.ofSeconds(reader.integer(moves, "moves.stop_timeout", 30)),
                Duration.ofMillis(reader.integer(moves, "moves.drain_ms", (int) dev.flocker.agent.plan.Planner.MoveSettings.DRAIN.toMillis())),
                Duration.ofMillis(reader.longValue(top, "interval", 2000L)),
                new ProxySettings(Duration.ofSeconds(reader.atLeastOne(proxy, "proxy.max_hold_seconds", 30)),
                        reader.atLeastOne(proxy, "proxy.max_held", 1000),
                        Duration.ofMillis(reader.atLeastOne(proxy, "proxy.connect_timeout_ms", 2000)),
                        Duration.ofSeconds(reader.atLeastOne(proxy, "proxy.idle_timeout_seconds", 600)),
                        reader.bool(proxy, "proxy.kernel_forwarding", true)),
                endpoint == null ? null : new Plugin(pluginName(reader, plugin, endpoint), endpoint, reader.port(plugin, "plugin.api_port", 4523),
                        new VolumePlugin.Settings(Duration.ofSeconds(reader.atLeastOne(plugin, "plugin.lease_seconds", 60)),
                                Duration.ofSeconds(mountTimeout(reader, plugin)),
                                Duration.ofSeconds(reader.integer(plugin, "plugin.lease_wait_seconds", 20)),
                                VolumePlugin.Settings.DEFAULT.poll(),
                                Duration.ofSeconds(reader.integer(plugin, "plugin.mount_grace_seconds", 60)))),
                nodeTls, pluginTls, metrics, replication, sandboxImage(reader, docker));
    }

    /** {@code host:port} (port 0: any free one), or {@code off}. */
    private static java.net.InetSocketAddress metricsListen(Reader reader, String listen) {
        if (listen.equals("off")) {
            return null;
        }
        var m = java.util.regex.Pattern.compile("^([0-9.]+|[A-Za-z0-9.-]+):([0-9]{1,5})$").matcher(listen);
        if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) {
            throw new ConfigException(reader.file() + ": metrics.listen '" + listen + "' is invalid: use host:port (e.g. 10.0.0.11:4528) or off");
        }
        return new java.net.InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
    }

    /** docker.sandbox_image: an image reference, or absent (no sandboxes). */
    private static String sandboxImage(Reader reader, Map<?, ?> docker) {
        var image = reader.string(docker, "docker.sandbox_image", "");
        if (image.isEmpty()) {
            return null;
        }
        if (!image.matches("^[a-z0-9][a-z0-9._/:@-]*$")) {
            throw new ConfigException(reader.file() + ": docker.sandbox_image '" + image + "' must be an image reference such as busybox:1.36"
                    + " (lower-case letters, digits and . _ / : @ -)");
        }
        return image;
    }

    /** The driver name: plugin.name, or the socket's file name without ".sock", or "flocker". */
    private static String pluginName(Reader reader, Map<?, ?> plugin, PluginEndpoint endpoint) {
        var fallback = endpoint.socket() == null ? "flocker" : endpoint.socket().getFileName().toString().replaceFirst("\\.sock$", "");
        var name = reader.string(plugin, "plugin.name", fallback);
        if (!name.matches("[a-z0-9][a-z0-9_.-]{0,63}")) {
            throw new ConfigException(reader.file() + ": plugin.name '" + name + "' is invalid: use 1-64 of a-z 0-9 _ . -");
        }
        return name;
    }

    private static int mountTimeout(Reader reader, Map<?, ?> plugin) {
        int seconds = reader.atLeastOne(plugin, "plugin.mount_timeout_seconds", 100);
        if (seconds > 115) {
            throw new ConfigException(reader.file() + ": plugin.mount_timeout_seconds is " + seconds
                    + "; Docker gives up on a mount after 120 s, so use at most 115 to answer it with the reason");
        }
        return seconds;
    }

    /** Reads typed values, each failure naming the file, the key and what would be valid. */
    private record Reader(String file) {
        int atLeastOne(Map<?, ?> map, String key, int fallback) {
            int value = integer(map, key, fallback);
            if (value < 1) {
                throw new ConfigException(file + ": " + key + " is " + value + "; it must be a whole number of at least 1");
            }
            return value;
        }

        void known(Map<?, ?> map, String prefix, Set<String> keys) {
            var unknown = new ArrayList<String>();
            for (var key : map.keySet()) {
                if (!keys.contains(String.valueOf(key))) {
                    unknown.add(prefix + key);
                }
            }
            if (!unknown.isEmpty()) {
                throw new ConfigException(file + ": unknown key " + String.join(", ", unknown) + "; valid here: "
                        + String.join(", ", keys.stream().sorted().map(k -> prefix + k).toList()));
            }
        }

        Map<?, ?> section(Map<?, ?> top, String key, boolean required) {
            var value = top.get(key);
            if (value == null) {
                if (required) {
                    throw new ConfigException(file + ": " + key + " is required");
                }
                return new LinkedHashMap<>();
            }
            if (!(value instanceof Map<?, ?> map)) {
                throw new ConfigException(file + ": " + key + " must be a mapping, not '" + value + "'");
            }
            return map;
        }

        private Object value(Map<?, ?> map, String key) {
            return map.get(key.substring(key.lastIndexOf('.') + 1));
        }

        String string(Map<?, ?> map, String key, String fallback) {
            var value = value(map, key);
            if (value == null) {
                if (fallback == null) {
                    throw new ConfigException(file + ": " + key + " is required");
                }
                return fallback;
            }
            if (value instanceof Map || value instanceof List) {
                throw new ConfigException(file + ": " + key + " must be a single value, not '" + value + "'");
            }
            return String.valueOf(value);
        }

        long longValue(Map<?, ?> map, String key, Long fallback) {
            var value = value(map, key);
            if (value == null && fallback != null) {
                return fallback;
            }
            if (value instanceof Integer || value instanceof Long) {
                long number = ((Number) value).longValue();
                if (number >= 0) {
                    return number;
                }
            }
            throw new ConfigException(file + ": " + key + " must be a whole number of at least 0, not '" + value + "'");
        }

        boolean bool(Map<?, ?> map, String key, boolean fallback) {
            var value = value(map, key);
            if (value == null) {
                return fallback;
            }
            if (value instanceof Boolean flag) {
                return flag;
            }
            throw new ConfigException(file + ": " + key + " must be true or false, not '" + value + "'");
        }

        int integer(Map<?, ?> map, String key, Integer fallback) {
            long value = longValue(map, key, fallback == null ? null : fallback.longValue());
            if (value > Integer.MAX_VALUE) {
                throw new ConfigException(file + ": " + key + " is too large: " + value);
            }
            return (int) value;
        }

        int port(Map<?, ?> map, String key, int fallback) {
            long value = longValue(map, key, (long) fallback);
            if (value < 1 || value > 65535) {
                throw new ConfigException(file + ": " + key + " " + value + " is out of range 1-65535");
            }
            return (int) value;
        }

        Path path(Map<?, ?> map, String key, String fallback) {
            var text = string(map, key, fallback);
            var path = Path.of(text);
            if (!path.isAbsolute() || text.contains("\0")) {
                throw new ConfigException(file + ": " + key + " '" + text + "' must be an absolute path");
            }
            return path.normalize();
        }
    }
}
