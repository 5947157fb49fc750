package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads an application file, already parsed from YAML or JSON into maps and lists: Fig (a top-level map of
 * services, one of which has {@code image} or {@code build}) is tried first, then Flocker's native format
 * ({@code version: 1, applications: {...}}), as Flocker's {@code _compose} did.
 */
public final class ApplicationFile {
    /**
     * The key flocker-deploy sets on a Compose service whose {@code build:} it built and uploaded to the control service:
     * the image's content id, which agents that lack the image load it by.
     */
    public static final String BUILT_IMAGE_ID = "x-flocker-image-id";
    static final Set<String> NATIVE_KEYS = Set.of("image", "ports", "links", "volume", "environment", "mem_limit", "cpu_shares",
            "restart_policy");
    static final Set<String> FIG_KEYS = Set.of("image", "build", "environment", "ports", "links", "volumes", "mem_limit", "cpu_shares");
    static final Set<String> FIG_UNSUPPORTED = Set.of("working_dir", "entrypoint", "user", "hostname", "domainname", "privileged", "dns",
            "net", "volumes_from", "expose", "command");

    private ApplicationFile() {
    }

    public static Map<String, AppSpec> parse(Object root) {
        if (isCompose(root)) {
            return ComposeServices.parseCompose(asMap(root));
        }
        if (isFig(root)) {
            return parseFig(asMap(root));
        }
        return parseNative(root);
    }

    /**
     * A Compose file (versions 2 and 3, or the versionless spec): a top-level {@code services}, unless it is a Fig
     * application named "services" (whose {@code image} or {@code build} is text, where a Compose service named
     * "image" would be a map of its settings).
     */
    static boolean isCompose(Object root) {
        if (!(root instanceof Map<?, ?> map) || !map.containsKey("services")) {
            return false;
        }
        if (map.containsKey("version") || !(map.get("services") instanceof Map<?, ?> services)) {
            return true;
        }
        return services.values().stream().allMatch(v -> v == null || v instanceof Map<?, ?>);
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
        var problems = new ArrayList<String>();
        apps.forEach((name, value) -> {
            try {
                result.put(String.valueOf(name), nativeApp(String.valueOf(name), value));
            } catch (ConfigurationError e) {
                problems.addAll(e.problems());
            }
        });
        if (!problems.isEmpty()) {
            throw ConfigurationError.of(problems); // native links name ports, not applications: nothing more to check
        }
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
                unrecognised(v, Set.of("mountpoint", "maximum_size", "dataset_id", "replicas"));
                volume = new AppSpec.VolumeSpec(mountpoint(v.get("mountpoint")), size(v.get("maximum_size")),
                        v.get("dataset_id") == null ? null : DatasetId.of(String.valueOf(v.get("dataset_id"))))
                        .withReplicas(v.get("replicas") == null ? null : replicas(v.get("replicas"), "volume replicas"));
            }
            Application.RestartPolicy restart = null;
            if (app.get("restart_policy") != null) {
                var r = asMap(app.get("restart_policy"));
                unrecognised(r, Set.of("name", "maximum_retry_count"));
                restart = new Application.RestartPolicy(string(r.get("name"), "restart_policy name"),
                        r.get("maximum_retry_count") == null ? null : integer(r.get("maximum_retry_count"), "restart_policy maximum_retry_count"));
            }
            return new AppSpec(name, string(app.get("image"), "image"), ports, environment(app.get("environment")), restart, List.of(),
                    app.get("cpu_shares") == null ? null : cpuShares(app.get("cpu_shares")),
                    app.get("mem_limit") == null ? null : (long) integer(app.get("mem_limit"), "mem_limit"), links, volume);
        } catch (ConfigurationError | IllegalArgumentException e) {
            throw new ConfigurationError("Application '" + name + "' has a config error. " + e.getMessage());
        }
    }

    // ---- Fig ------------------------------------------------------------------------------------

    static Map<String, AppSpec> parseFig(Map<?, ?> root) {
        var result = new LinkedHashMap<String, AppSpec>();
        var problems = new ArrayList<String>();
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
                        List.of(), app.get("cpu_shares") == null ? null : cpuShares(app.get("cpu_shares")),
                        app.get("mem_limit") == null ? null : (long) integer(app.get("mem_limit"), "mem_limit"), links, volume));
            } catch (ConfigurationError | IllegalArgumentException e) {
                problems.add("Application '" + name + "' has a config error. " + e.getMessage());
            }
        });
        return complete(result, problems);
    }

    /**
     * The applications, once every one has been read: the problems of all of them at once (links are checked only
     * when there are none, since a link to an application with a problem would be one more).
     */
    static Map<String, AppSpec> complete(Map<String, AppSpec> applications, List<String> problems) {
        if (!problems.isEmpty()) {
            throw ConfigurationError.of(problems);
        }
        checkLinkTargets(applications);
        return applications;
    }

    /** Fig's and Compose's {@code links}: {@code "app"} or {@code "app:alias"}. */
    static List<AppSpec.LinkSpec> figLinks(Map<?, ?> app) {
        var links = new ArrayList<AppSpec.LinkSpec>();
        for (var link : asList(app.get("links"), "links")) {
            links.add(figLink(link));
        }
        return links;
    }

    /** Fig's and Compose's {@code volumes}: at most one, whose container path {@code target} extracts from an entry. */
    static AppSpec.VolumeSpec oneVolume(Map<?, ?> app, java.util.function.UnaryOperator<Object> target) {
        var volumes = asList(app.get("volumes"), "volumes");
        if (volumes.size() > 1) {
            throw new ConfigurationError("Only one volume per application is supported; found " + volumes.size() + ".");
        }
        return volumes.isEmpty() ? null : new AppSpec.VolumeSpec(mountpoint(target.apply(volumes.get(0))), null, null);
    }

    private static AppSpec.LinkSpec figLink(Object link) {
        var parts = String.valueOf(link).split(":", -1);
        if (parts.length > 2 || parts[0].isEmpty() || (parts.length == 2 && parts[1].isEmpty())) {
            throw new ConfigurationError("Invalid link specification: '" + link + "'. Use \"app\" or \"app:alias\".");
        }
        return new AppSpec.LinkSpec(parts.length == 2 ? parts[1] : parts[0], null, null, parts[0]);
    }

    static void checkLinkTargets(Map<String, AppSpec> apps) {
        for (var app : apps.values()) {
            for (var link : app.links()) {
                if (!apps.containsKey(link.target())) {
                    throw new ConfigurationError("Application '" + app.name() + "' has a config error. Link target '" + link.target()
                            + "' is not an application in this file.");
                }
                if (apps.get(link.target()).ports().isEmpty()) {
                    // A link is variables pointing at the target's external ports on this host's proxy: with none, it
                    // would reach nothing, and the application would be deployed unable to reach what it names.
                    throw new ConfigurationError("Application '" + app.name() + "' has a config error. Link target '" + link.target()
                            + "' has no 'ports': a link reaches another application through its external ports (every host's proxy"
                            + " serves them), so give '" + link.target() + "' a port, e.g. \"15432:5432\".");
                }
            }
        }
    }

}
