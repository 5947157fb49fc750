package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import dev.flocker.api.model.Application;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Compose files (versions 2 and 3, or the versionless spec): services under a top-level {@code services} map. */
final class ComposeServices {
    static final Set<String> COMPOSE_KEYS = Set.of("image", "environment", "ports", "links", "volumes", "mem_limit", "cpu_shares", "restart",
            "command");
    static final Set<String> COMPOSE_TOP = Set.of("version", "services", "volumes");
    private static final Pattern COMPOSE_VERSION = Pattern.compile("^[23](\\.[0-9]+)?$");

    private ComposeServices() {
    }

    static Map<String, AppSpec> parseCompose(Map<?, ?> root) {
        var unknownTop = new TreeSet<String>();
        root.keySet().forEach(k -> {
            if (!COMPOSE_TOP.contains(String.valueOf(k))) {
                unknownTop.add(String.valueOf(k));
            }
        });
        if (!unknownTop.isEmpty()) {
            throw new ConfigurationError("Compose file has an error. Unsupported top-level keys: " + String.join(", ", unknownTop)
                    + ". Supported: services, version, volumes.");
        }
        if (root.containsKey("version") && !COMPOSE_VERSION.matcher(String.valueOf(root.get("version"))).matches()) {
            throw new ConfigurationError("Compose file has an error. Unsupported version '" + root.get("version")
                    + "': use 2, 2.x, 3, 3.x, or leave 'version' out.");
        }
        var declared = root.get("services");
        if (declared != null && !(declared instanceof Map<?, ?>)) {
            throw new ConfigurationError("Compose file has an error. 'services' must be a map of service names to their settings, not "
                    + typeName(declared) + ".");
        }
        var services = declared == null ? Map.of() : asMap(declared);
        if (services.isEmpty()) {
            throw new ConfigurationError("Compose file has an error. 'services' is empty.");
        }
        var result = new LinkedHashMap<String, AppSpec>();
        var problems = new ArrayList<String>();
        services.forEach((key, value) -> {
            var name = String.valueOf(key);
            try {
                checkName(name);
                var app = asMap(value);
                var unsupported = new TreeSet<String>();
                app.keySet().forEach(k -> {
                    if (!COMPOSE_KEYS.contains(String.valueOf(k))) {
                        unsupported.add(String.valueOf(k));
                    }
                });
                if (unsupported.contains("build")) {
                    throw new ConfigurationError("'build' is not supported yet: build the image and name it with 'image'.");
                }
                if (!unsupported.isEmpty()) {
                    throw new ConfigurationError("Unsupported compose keys found: " + String.join(", ", unsupported) + ". Supported: "
                            + String.join(", ", new TreeSet<>(COMPOSE_KEYS)) + ".");
                }
                if (!app.containsKey("image")) {
                    throw new ConfigurationError("Missing 'image' key.");
                }
                var ports = new ArrayList<Application.Port>();
                for (var port : asList(app.get("ports"), "ports")) {
                    ports.add(composePort(port));
                }
                var links = ApplicationFile.figLinks(app);
                var volume = ApplicationFile.oneVolume(app, ComposeServices::composeVolumeTarget);
                result.put(name, new AppSpec(name, string(app.get("image"), "image"), ports, figEnvironment(app.get("environment")),
                        composeRestart(app.get("restart")), composeCommand(app.get("command")),
                        app.get("cpu_shares") == null ? null : cpuShares(app.get("cpu_shares")),
                        app.get("mem_limit") == null ? null : memory(app.get("mem_limit")), links, volume));
            } catch (ConfigurationError | IllegalArgumentException e) {
                problems.add("Application '" + name + "' has a config error. " + e.getMessage());
            }
        });
        return ApplicationFile.complete(result, problems);
    }

    /** {@code "8080:80"}, or the long form {@code {target: 80, published: 8080}}; every port needs its external number. */
    static Application.Port composePort(Object port) {
        if (port instanceof Map<?, ?> map) {
            unrecognised(map, Set.of("target", "published", "protocol", "mode"));
            if (map.get("protocol") != null && !"tcp".equals(String.valueOf(map.get("protocol")))) {
                throw new ConfigurationError("Only tcp ports are supported, not '" + map.get("protocol") + "'.");
            }
            if (map.get("published") == null) {
                throw new ConfigurationError("Port " + map.get("target") + " needs 'published': the external port every host serves.");
            }
            return new Application.Port(parsePort(String.valueOf(map.get("target")), port), parsePort(String.valueOf(map.get("published")), port));
        }
        var text = String.valueOf(port);
        if (text.endsWith("/udp")) {
            throw new ConfigurationError("Only tcp ports are supported, not '" + text + "'.");
        }
        text = text.endsWith("/tcp") ? text.substring(0, text.length() - 4) : text;
        var parts = text.split(":");
        if (parts.length == 3) {
            throw new ConfigurationError("Invalid ports specification: '" + port + "'. A host address cannot be chosen: every host serves "
                    + "the external port on its own address. Use \"8080:80\".");
        }
        if (parts.length != 2) {
            throw new ConfigurationError("Invalid ports specification: '" + port + "'. Use \"external:internal\", e.g. \"8080:80\".");
        }
        return new Application.Port(parsePort(parts[1], port), parsePort(parts[0], port));
    }

    /** The container path of {@code "/data"}, {@code "name:/data[:rw]"} or {@code {type: volume, target: /data}}. */
    static Object composeVolumeTarget(Object volume) {
        if (volume instanceof Map<?, ?> map) {
            unrecognised(map, Set.of("type", "source", "target", "read_only"));
            if (map.get("type") != null && !"volume".equals(String.valueOf(map.get("type")))) {
                throw new ConfigurationError("Only volumes of type 'volume' are supported, not '" + map.get("type") + "'.");
            }
            return map.get("target");
        }
        var parts = String.valueOf(volume).split(":");
        if (parts.length == 1) {
            return parts[0];
        }
        if (parts[0].startsWith("/") || parts[0].startsWith(".")) {
            throw new ConfigurationError("Host paths cannot be volumes ('" + volume + "'): a volume is a dataset that moves with the "
                    + "application. Use \"/path/in/container\" or \"name:/path/in/container\".");
        }
        return parts[1];
    }

    static Application.RestartPolicy composeRestart(Object value) {
        if (value == null) {
            return null;
        }
        var text = String.valueOf(value);
        if (text.equals("no")) {
            return new Application.RestartPolicy("never", null);
        }
        if (text.equals("always") || text.equals("unless-stopped")) {
            return new Application.RestartPolicy("always", null);
        }
        if (text.equals("on-failure")) {
            return new Application.RestartPolicy("on-failure", null);
        }
        if (text.startsWith("on-failure:") && text.substring(11).matches("[0-9]+")) {
            return new Application.RestartPolicy("on-failure", Integer.parseInt(text.substring(11)));
        }
        throw new ConfigurationError("Invalid restart '" + text + "': use no, always, unless-stopped, on-failure or on-failure:N.");
    }

    /** A list of words, or a string split at white space (no shell quoting: use the list form for arguments with spaces). */
    static List<String> composeCommand(Object value) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list.stream().map(item -> string(item, "command")).toList();
        }
        var text = string(value, "command").strip();
        if (text.contains("\"") || text.contains("'")) {
            throw new ConfigurationError("'command' with quotes must be written as a list, e.g. [\"sh\", \"-c\", \"echo hi\"].");
        }
        return text.isEmpty() ? List.of() : List.of(text.split("\\s+"));
    }

    /** Compose memory: bytes, or a number with b, k, m, g (binary), e.g. 512m. */
    static long memory(Object value) {
        var text = String.valueOf(value).strip();
        if (text.matches("(?i)^[0-9.]+[kmg]b$")) {
            text = text.substring(0, text.length() - 1); // Compose also writes 512mb
        } else if (text.matches("(?i)^[0-9]+b$")) {
            text = text.substring(0, text.length() - 1);
        }
        long bytes;
        try {
            bytes = value instanceof Integer || value instanceof Long ? ((Number) value).longValue() : size(text);
        } catch (ConfigurationError e) {
            throw new ConfigurationError("Invalid mem_limit '" + value + "': use bytes or a number with k, m or g, e.g. 512m.");
        }
        if (bytes < 1 << 20 || bytes > 1L << 50) {
            throw new ConfigurationError("mem_limit '" + value + "' is out of range: from 1 MiB (1m) to 1 PiB.");
        }
        return bytes;
    }
}
