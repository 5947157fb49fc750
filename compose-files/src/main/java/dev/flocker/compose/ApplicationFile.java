package dev.flocker.compose;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads an application file, already parsed from YAML or JSON into maps and lists: Fig (a top-level map of
 * services, one of which has {@code image} or {@code build}) is tried first, then Flocker's native format
 * ({@code version: 1, applications: {...}}), as Flocker's {@code _compose} did.
 */
public final class ApplicationFile {
    static final Set<String> NATIVE_KEYS = Set.of("image", "ports", "links", "volume", "environment", "mem_limit", "cpu_shares",
            "restart_policy");
    static final Set<String> FIG_KEYS = Set.of("image", "build", "environment", "ports", "links", "volumes", "mem_limit", "cpu_shares");
    static final Set<String> FIG_UNSUPPORTED = Set.of("working_dir", "entrypoint", "user", "hostname", "domainname", "privileged", "dns",
            "net", "volumes_from", "expose", "command");
    static final Set<String> COMPOSE_KEYS = Set.of("image", "environment", "ports", "links", "volumes", "mem_limit", "cpu_shares", "restart",
            "command");
    static final Set<String> COMPOSE_TOP = Set.of("version", "services", "volumes");
    private static final Pattern COMPOSE_VERSION = Pattern.compile("^[23](\\.[0-9]+)?$");
    private static final Pattern SIZE = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)([KMGT]?)$");

    private ApplicationFile() {
    }

    public static Map<String, AppSpec> parse(Object root) {
        if (isCompose(root)) {
            return parseCompose(asMap(root));
        }
        if (isFig(root)) {
            return parseFig(asMap(root));
        }
        return parseNative(root);
    }

    /** A Compose file (versions 2 and 3, or the versionless spec): services under a top-level {@code services} map. */
    static boolean isCompose(Object root) {
        return root instanceof Map<?, ?> map && map.get("services") instanceof Map<?, ?> services
                && !services.containsKey("image") && !services.containsKey("build");
    }

    static boolean isFig(Object root) {
        if (!(root instanceof Map<?, ?> map) || map.isEmpty()) {
            return false;
        }
        return map.values().stream().anyMatch(v -> v instanceof Map<?, ?> app && (app.containsKey("image") || app.containsKey("build")));
    }

    // ---- Flocker's native format ----------------------------------------------------------------

    static Map<String, AppSpec> parseNative(Object root) {
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigurationError("Application configuration has an error. Missing 'applications' key.");
        }
        if (!map.containsKey("applications")) {
            throw new ConfigurationError("Application configuration has an error. Missing 'applications' key.");
        }
        if (!map.containsKey("version")) {
            throw new ConfigurationError("Application configuration has an error. Missing 'version' key.");
        }
        if (!Integer.valueOf(1).equals(map.get("version"))) {
            throw new ConfigurationError("Application configuration has an error. Incorrect version specified.");
        }
        if (!(map.get("applications") instanceof Map<?, ?> apps)) {
            throw new ConfigurationError("Application configuration has an error. 'applications' must be a map of names to applications.");
        }
        var result = new LinkedHashMap<String, AppSpec>();
        apps.forEach((name, value) -> result.put(String.valueOf(name), nativeApp(String.valueOf(name), value)));
        return result;
    }

    private static AppSpec nativeApp(String name, Object value) {
        try {
            checkName(name);
            if (!(value instanceof Map<?, ?> app)) {
                throw new ConfigurationError("Application must be a map of keys, not " + typeName(value) + ".");
            }
            unrecognised(app, NATIVE_KEYS);
            if (!app.containsKey("image")) {
                throw new ConfigurationError("Missing 'image' key.");
            }
            var ports = new ArrayList<Application.Port>();
            for (var port : asList(app.get("ports"), "ports")) {
                var p = asMap(port);
                unrecognised(p, Set.of("internal", "external"));
                ports.add(new Application.Port(integer(p.get("internal"), "ports internal"), integer(p.get("external"), "ports external")));
            }
            var links = new ArrayList<AppSpec.LinkSpec>();
            for (var link : asList(app.get("links"), "links")) {
                var l = asMap(link);
                unrecognised(l, Set.of("local_port", "remote_port", "alias"));
                links.add(new AppSpec.LinkSpec(string(l.get("alias"), "links alias"), integer(l.get("local_port"), "links local_port"),
                        integer(l.get("remote_port"), "links remote_port"), null));
            }
            AppSpec.VolumeSpec volume = null;
            if (app.get("volume") != null) {
                var v = asMap(app.get("volume"));
                unrecognised(v, Set.of("mountpoint", "maximum_size", "dataset_id"));
                volume = new AppSpec.VolumeSpec(mountpoint(v.get("mountpoint")), size(v.get("maximum_size")),
                        v.get("dataset_id") == null ? null : DatasetId.of(String.valueOf(v.get("dataset_id"))));
            }
            Application.RestartPolicy restart = null;
            if (app.get("restart_policy") != null) {
                var r = asMap(app.get("restart_policy"));
                unrecognised(r, Set.of("name", "maximum_retry_count"));
                restart = new Application.RestartPolicy(string(r.get("name"), "restart_policy name"),
                        r.get("maximum_retry_count") == null ? null : integer(r.get("maximum_retry_count"), "restart_policy maximum_retry_count"));
            }
            return new AppSpec(name, string(app.get("image"), "image"), ports, environment(app.get("environment")), restart, List.of(),
                    app.get("cpu_shares") == null ? null : integer(app.get("cpu_shares"), "cpu_shares"),
                    app.get("mem_limit") == null ? null : (long) integer(app.get("mem_limit"), "mem_limit"), links, volume);
        } catch (ConfigurationError | IllegalArgumentException e) {
            throw new ConfigurationError("Application '" + name + "' has a config error. " + e.getMessage());
        }
    }

    // ---- Fig ------------------------------------------------------------------------------------

    static Map<String, AppSpec> parseFig(Map<?, ?> root) {
        var result = new LinkedHashMap<String, AppSpec>();
        root.forEach((key, value) -> {
            var name = String.valueOf(key);
            try {
                checkName(name);
                var app = asMap(value);
                var unsupported = new TreeSet<String>();
                var unknown = new TreeSet<String>();
                for (var k : app.keySet()) {
                    var s = String.valueOf(k);
                    if (FIG_UNSUPPORTED.contains(s)) {
                        unsupported.add(s);
                    } else if (!FIG_KEYS.contains(s)) {
                        unknown.add(s);
                    }
                }
                if (!unsupported.isEmpty()) {
                    throw new ConfigurationError("Unsupported fig keys found: " + String.join(", ", unsupported) + ".");
                }
                if (!unknown.isEmpty()) {
                    throw new ConfigurationError("Unrecognised keys: " + String.join(", ", unknown) + ".");
                }
                if (app.containsKey("image") && app.containsKey("build")) {
                    throw new ConfigurationError("Application configuration must contain either an 'image' or 'build' key, not both.");
                }
                if (app.containsKey("build")) {
                    throw new ConfigurationError("'build' is not supported yet: build the image and name it with 'image'.");
                }
                if (!app.containsKey("image")) {
                    throw new ConfigurationError("Application configuration must contain either an 'image' or 'build' key.");
                }
                var ports = new ArrayList<Application.Port>();
                for (var port : asList(app.get("ports"), "ports")) {
                    var parts = String.valueOf(port).split(":");
                    if (parts.length != 2) {
                        throw new ConfigurationError("Invalid ports specification: '" + port + "'. Use \"host:container\", e.g. \"8080:80\".");
                    }
                    ports.add(new Application.Port(parsePort(parts[1], port), parsePort(parts[0], port)));
                }
                var links = figLinks(app);
                var volume = oneVolume(app, target -> target);
                result.put(name, new AppSpec(name, string(app.get("image"), "image"), ports, figEnvironment(app.get("environment")), null,
                        List.of(), app.get("cpu_shares") == null ? null : integer(app.get("cpu_shares"), "cpu_shares"),
                        app.get("mem_limit") == null ? null : (long) integer(app.get("mem_limit"), "mem_limit"), links, volume));
            } catch (ConfigurationError | IllegalArgumentException e) {
                throw new ConfigurationError("Application '" + name + "' has a config error. " + e.getMessage());
            }
        });
        checkLinkTargets(result);
        return result;
    }

    // ---- Compose --------------------------------------------------------------------------------

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
        var services = asMap(root.get("services"));
        if (services.isEmpty()) {
            throw new ConfigurationError("Compose file has an error. 'services' is empty.");
        }
        var result = new LinkedHashMap<String, AppSpec>();
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
                var links = figLinks(app);
                var volume = oneVolume(app, ApplicationFile::composeVolumeTarget);
                result.put(name, new AppSpec(name, string(app.get("image"), "image"), ports, figEnvironment(app.get("environment")),
                        composeRestart(app.get("restart")), composeCommand(app.get("command")),
                        app.get("cpu_shares") == null ? null : integer(app.get("cpu_shares"), "cpu_shares"),
                        app.get("mem_limit") == null ? null : memory(app.get("mem_limit")), links, volume));
            } catch (ConfigurationError | IllegalArgumentException e) {
                throw new ConfigurationError("Application '" + name + "' has a config error. " + e.getMessage());
            }
        });
        checkLinkTargets(result);
        return result;
    }

    /** {@code "8080:80"}, or the long form {@code {target: 80, published: 8080}}; every port needs its external number. */
    private static Application.Port composePort(Object port) {
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
    private static Object composeVolumeTarget(Object volume) {
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

    private static Application.RestartPolicy composeRestart(Object value) {
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
    private static List<String> composeCommand(Object value) {
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
    private static long memory(Object value) {
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        var text = String.valueOf(value).strip();
        if (text.matches("(?i)^[0-9.]+[kmg]b$")) {
            text = text.substring(0, text.length() - 1); // Compose also writes 512mb
        } else if (text.matches("(?i)^[0-9]+b$")) {
            text = text.substring(0, text.length() - 1);
        }
        try {
            return size(text);
        } catch (ConfigurationError e) {
            throw new ConfigurationError("Invalid mem_limit '" + value + "': use bytes or a number with k, m or g, e.g. 512m.");
        }
    }

    /** Fig's and Compose's {@code links}: {@code "app"} or {@code "app:alias"}. */
    private static List<AppSpec.LinkSpec> figLinks(Map<?, ?> app) {
        var links = new ArrayList<AppSpec.LinkSpec>();
        for (var link : asList(app.get("links"), "links")) {
            links.add(figLink(link));
        }
        return links;
    }

    /** Fig's and Compose's {@code volumes}: at most one, whose container path {@code target} extracts from an entry. */
    private static AppSpec.VolumeSpec oneVolume(Map<?, ?> app, java.util.function.UnaryOperator<Object> target) {
        var volumes = asList(app.get("volumes"), "volumes");
        if (volumes.size() > 1) {
            throw new ConfigurationError("Only one volume per application is supported; found " + volumes.size() + ".");
        }
        return volumes.isEmpty() ? null : new AppSpec.VolumeSpec(mountpoint(target.apply(volumes.get(0))), null, null);
    }

    private static AppSpec.LinkSpec figLink(Object link) {
        var parts = String.valueOf(link).split(":");
        if (parts.length > 2 || parts[0].isEmpty()) {
            throw new ConfigurationError("Invalid link specification: '" + link + "'. Use \"app\" or \"app:alias\".");
        }
        return new AppSpec.LinkSpec(parts.length == 2 ? parts[1] : parts[0], null, null, parts[0]);
    }

    private static void checkLinkTargets(Map<String, AppSpec> apps) {
        for (var app : apps.values()) {
            for (var link : app.links()) {
                if (!apps.containsKey(link.target())) {
                    throw new ConfigurationError("Application '" + app.name() + "' has a config error. Link target '" + link.target()
                            + "' is not an application in this file.");
                }
            }
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static void checkName(String name) {
        if (!Application.NAME.matcher(name).matches()) {
            throw new ConfigurationError("Invalid application name: use letters, digits, _ . - (at least 2), starting with a letter or digit.");
        }
    }

    private static void unrecognised(Map<?, ?> map, Set<String> allowed) {
        var unknown = new TreeSet<String>();
        map.keySet().forEach(k -> {
            if (!allowed.contains(String.valueOf(k))) {
                unknown.add(String.valueOf(k));
            }
        });
        if (!unknown.isEmpty()) {
            throw new ConfigurationError("Unrecognised keys: " + String.join(", ", unknown) + ".");
        }
    }

    private static Map<String, String> environment(Object value) {
        if (value == null) {
            return Map.of();
        }
        var result = new LinkedHashMap<String, String>();
        asMap(value).forEach((k, v) -> {
            if (v instanceof Map || v instanceof List) {
                throw new ConfigurationError("environment variable '" + k + "' must have a string value.");
            }
            result.put(String.valueOf(k), String.valueOf(v));
        });
        return result;
    }

    private static Map<String, String> figEnvironment(Object value) {
        if (value instanceof List<?> list) {
            var result = new LinkedHashMap<String, String>();
            for (var item : list) {
                var text = String.valueOf(item);
                int eq = text.indexOf('=');
                if (eq <= 0) {
                    throw new ConfigurationError("environment entry '" + text + "' must be KEY=VALUE.");
                }
                result.put(text.substring(0, eq), text.substring(eq + 1));
            }
            return result;
        }
        return environment(value);
    }

    static String mountpoint(Object value) {
        var text = value == null ? null : String.valueOf(value);
        if (text == null || !text.startsWith("/") || !text.matches("\\p{ASCII}+")) {
            throw new ConfigurationError("Mountpoint '" + text + "' must be an absolute ASCII path.");
        }
        return text;
    }

    /** Flocker's sizes: bytes, or a number with K, M, G or T (binary), rounded up to whole bytes. */
    static Long size(Object value) {
        if (value == null) {
            return null;
        }
        var matcher = SIZE.matcher(String.valueOf(value).trim().toUpperCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new ConfigurationError("Invalid maximum_size '" + value + "': use bytes or a number with K, M, G or T, e.g. 500M or 2.5G.");
        }
        int shift = switch (matcher.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        var bytes = new java.math.BigDecimal(matcher.group(1)).multiply(java.math.BigDecimal.valueOf(1L << shift))
                .setScale(0, java.math.RoundingMode.CEILING);
        return bytes.longValueExact();
    }

    private static int parsePort(String text, Object spec) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationError("Invalid ports specification: '" + spec + "'. Ports must be numbers.");
        }
    }

    static Map<?, ?> asMap(Object value) {
        if (value instanceof Map<?, ?> map) {
            return map;
        }
        throw new ConfigurationError("Expected a map, found " + typeName(value) + ".");
    }

    static List<?> asList(Object value, String what) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list;
        }
        throw new ConfigurationError("'" + what + "' must be a list, found " + typeName(value) + ".");
    }

    private static int integer(Object value, String what) {
        if (value instanceof Integer i) {
            return i;
        }
        if (value instanceof Long l && l <= Integer.MAX_VALUE && l >= Integer.MIN_VALUE) {
            return (int) (long) l;
        }
        throw new ConfigurationError("'" + what + "' must be an integer, found " + typeName(value) + ".");
    }

    private static String string(Object value, String what) {
        if (value == null || value instanceof Map || value instanceof List) {
            throw new ConfigurationError("'" + what + "' must be a string, found " + typeName(value) + ".");
        }
        return String.valueOf(value);
    }

    static String typeName(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Map) {
            return "map";
        }
        if (value instanceof List) {
            return "list";
        }
        if (value instanceof String) {
            return "str";
        }
        return value instanceof Number ? "number" : value.getClass().getSimpleName();
    }
}
