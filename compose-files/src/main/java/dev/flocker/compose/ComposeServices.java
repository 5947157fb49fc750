package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import dev.flocker.api.model.Application;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Compose files (versions 2 and 3, or the versionless specification): services under a top-level {@code services}
 * map. Every problem of every service is reported at once; a key is either deployed, refused with the reason and what
 * to do instead ({@link ComposeKeys}), or (Compose's {@code x-} extensions, {@code expose}) has no effect by the
 * specification's own definition. Nothing is dropped silently.
 */
final class ComposeServices {
    private static final Pattern COMPOSE_VERSION = Pattern.compile("^[23](\\.[0-9]+)?$");

    private ComposeServices() {
    }

    static Map<String, AppSpec> parseCompose(Map<?, ?> root) {
        var problems = new ArrayList<String>();
        for (var key : new TreeSet<>(root.keySet().stream().map(String::valueOf).toList())) {
            if (!ComposeKeys.TOP.contains(key) && !key.startsWith("x-")) {
                problems.add("Compose file has an error. " + ComposeKeys.refusal(key, ComposeKeys.TOP_REASONS, ComposeKeys.TOP));
            }
        }
        if (root.containsKey("version") && !COMPOSE_VERSION.matcher(String.valueOf(root.get("version"))).matches()) {
            problems.add("Compose file has an error. Unsupported version '" + root.get("version")
                    + "': use 2, 2.x, 3, 3.x, or leave 'version' out.");
        }
        var declared = root.get("services");
        if (declared != null && !(declared instanceof Map<?, ?>)) {
            throw ConfigurationError.of(append(problems, "Compose file has an error. 'services' must be a map of service names to their"
                    + " settings, not " + typeName(declared) + "."));
        }
        var services = declared == null ? Map.of() : asMap(declared);
        if (services.isEmpty()) {
            throw ConfigurationError.of(append(problems, "Compose file has an error. 'services' is empty."));
        }
        var volumes = ComposeVolumes.declared(root.get("volumes"), problems);
        var files = Map.of("configs", ComposeFiles.declared(root.get("configs"), "configs", problems),
                "secrets", ComposeFiles.declared(root.get("secrets"), "secrets", problems));
        var networks = ComposeNetworks.declared(root.get("networks"), problems);
        var names = applicationNames(services);
        var result = new LinkedHashMap<String, AppSpec>();
        services.forEach((key, value) -> {
            var service = new Service(String.valueOf(key), names, volumes, files, networks, problems);
            var spec = service.read(value);
            if (spec != null) {
                result.put(String.valueOf(key), spec);
            }
        });
        if (problems.isEmpty()) {
            checkDependencies(result, problems);
        }
        return ApplicationFile.complete(result, problems);
    }

    private static List<String> append(List<String> problems, String problem) {
        problems.add(problem);
        return problems;
    }

    /** Each service's application name: its {@code container_name} when it has one, else the service's name. */
    private static Map<String, String> applicationNames(Map<?, ?> services) {
        var names = new HashMap<String, String>();
        services.forEach((key, value) -> {
            var containerName = value instanceof Map<?, ?> map ? map.get("container_name") : null;
            names.put(String.valueOf(key), containerName instanceof String s ? s : String.valueOf(key));
        });
        return names;
    }

    /** Two services with one name, a dependency on itself through others, or on the health of a service without a check. */
    private static void checkDependencies(Map<String, AppSpec> specs, List<String> problems) {
        var byName = new HashMap<String, AppSpec>();
        for (var entry : specs.entrySet()) {
            var other = byName.put(entry.getValue().name(), entry.getValue());
            if (other != null) {
                problems.add("Application '" + entry.getValue().name() + "' has a config error. Two services have the application name '"
                        + entry.getValue().name() + "' ('container_name'): give each its own.");
            }
        }
        for (var spec : specs.values()) {
            for (var dependency : spec.dependsOn()) {
                var target = byName.get(dependency.name());
                if (dependency.condition().equals("healthy") && target != null && target.healthcheck() == null) {
                    problems.add("Application '" + spec.name() + "' has a config error. 'depends_on' asks for '" + dependency.name()
                            + "' to be healthy, but it has no 'healthcheck' here: add one to it, or use condition: service_started.");
                }
            }
            var path = cycle(spec.name(), spec.name(), byName, new ArrayList<>());
            if (path != null) {
                problems.add("Application '" + spec.name() + "' has a config error. 'depends_on' goes round in a circle: "
                        + String.join(" -> ", path) + "; nothing in it could ever start.");
            }
        }
    }

    private static List<String> cycle(String start, String at, Map<String, AppSpec> byName, List<String> path) {
        path.add(at);
        var spec = byName.get(at);
        if (spec != null && path.size() <= byName.size()) {
            for (var dependency : spec.dependsOn()) {
                if (dependency.name().equals(start)) {
                    var found = new ArrayList<>(path);
                    found.add(start);
                    return found;
                }
                if (!path.contains(dependency.name())) {
                    var found = cycle(start, dependency.name(), byName, path);
                    if (found != null) {
                        return found;
                    }
                }
            }
        }
        path.remove(path.size() - 1);
        return null;
    }

    /** One service, read key by key: every key's problem is collected, so one run reports them all. */
    private static final class Service {
        private final String key;
        private final Map<String, String> names;
        private final Map<String, ComposeVolumes.Declared> volumes;
        private final Map<String, Map<String, byte[]>> files;
        private final Map<String, String> networks;
        private final List<String> problems;
        private String prefix;
        private boolean failed;

        Service(String key, Map<String, String> names, Map<String, ComposeVolumes.Declared> volumes, Map<String, Map<String, byte[]>> files,
                Map<String, String> networks, List<String> problems) {
            this.key = key;
            this.names = names;
            this.volumes = volumes;
            this.files = files;
            this.networks = networks;
            this.problems = problems;
            this.prefix = "Application '" + key + "' has a config error. ";
        }

        AppSpec read(Object value) {
            if (!(value instanceof Map<?, ?> app)) {
                problem("A service must be a map of settings, not " + typeName(value) + ".");
                return null;
            }
            var name = names.get(key);
            prefix = "Application '" + name + "' has a config error. ";
            attempt(() -> {
                checkName(name);
                return null;
            });
            var refused = new TreeSet<String>();
            for (var k : app.keySet()) {
                var s = String.valueOf(k);
                if (!ComposeKeys.SERVICE.contains(s) && !s.startsWith("x-")) {
                    refused.add(s);
                }
            }
            refused.forEach(k -> problem(ComposeKeys.refusal(k, ComposeKeys.SERVICE_REASONS, ComposeKeys.SERVICE)));
            if (!app.containsKey("image")) {
                problem(app.containsKey("build") ? "'image' is needed too: name the image that 'build' would make, built and loaded on"
                        + " every node." : "Missing 'image' key.");
            }
            if (app.containsKey("env_file")) {
                problem("'env_file' is read by flocker-deploy, from beside the Compose file: deploy with flocker-deploy, or write the"
                        + " variables under 'environment'.");
            }
            var image = attempt(() -> app.get("image") == null ? null : string(app.get("image"), "image"));
            var ports = attempt(() -> {
                var list = new ArrayList<Application.Port>();
                for (var port : asList(app.get("ports"), "ports")) {
                    list.add(composePort(port));
                }
                return list;
            });
            attempt(() -> {
                asList(app.get("expose"), "expose").forEach(ComposeServices::exposed);
                return null;
            });
            attempt(() -> asList(app.get("profiles"), "profiles").stream().map(p -> string(p, "profiles")).toList());
            var links = attempt(() -> ApplicationFile.figLinks(app));
            var inMemory = new ArrayList<String>(); // tmpfs given as volumes of type tmpfs
            var mounts = attempt(() -> {
                var entries = asList(app.get("volumes"), "volumes");
                if (entries.size() > Application.MAX_VOLUMES) {
                    throw new ConfigurationError("At most " + Application.MAX_VOLUMES + " volumes per service; found " + entries.size() + ".");
                }
                var list = new ArrayList<AppSpec.VolumeSpec>();
                var targets = new java.util.HashSet<String>();
                var named = new java.util.HashSet<String>();
                for (var entry : entries) {
                    var mount = ComposeVolumes.mount(entry, volumes);
                    if (mount == null) {
                        inMemory.add(mountpoint(asMap(entry).get("target")));
                        continue;
                    }
                    if (!targets.add(mount.mountpoint())) {
                        throw new ConfigurationError("Two volumes are mounted at " + mount.mountpoint() + ": give each its own path.");
                    }
                    if (mount.name() != null && !named.add(mount.name())) {
                        throw new ConfigurationError("Volume '" + mount.name() + "' is mounted twice: mount it once.");
                    }
                    list.add(mount);
                }
                return list;
            });
            var replicas = attempt(() -> flockerReplicas(app.get("x-flocker")));
            if (replicas != null && mounts != null) {
                mounts.replaceAll(m -> m.withReplicas(replicas));
            }
            var environment = attempt(() -> figEnvironment(app.get("environment")));
            var restart = attempt(() -> composeRestart(app.get("restart")));
            var command = attempt(() -> words(app.get("command"), "command"));
            var entrypoint = attempt(() -> app.get("entrypoint") == null ? null : words(app.get("entrypoint"), "entrypoint"));
            var shares = attempt(() -> app.get("cpu_shares") == null ? null : cpuShares(app.get("cpu_shares")));
            var memory = attempt(() -> app.get("mem_limit") == null ? null : memory(app.get("mem_limit"), "mem_limit"));
            var cpus = attempt(() -> app.get("cpus") == null ? null : ComposeDeploy.cpus(app.get("cpus")));
            var init = attempt(() -> app.get("init") == null ? null : bool(app.get("init"), "init"));
            var healthcheck = attempt(() -> ComposeDeploy.healthcheck(app.get("healthcheck")));
            var dependsOn = attempt(() -> ComposeDeploy.dependsOn(app.get("depends_on"), names));
            var deploy = attempt(() -> ComposeDeploy.deploy(app.get("deploy")));
            var mounted = attempt(() -> {
                var list = new ArrayList<>(ComposeFiles.mounts(app.get("configs"), "configs", files.get("configs")));
                list.addAll(ComposeFiles.mounts(app.get("secrets"), "secrets", files.get("secrets")));
                return list;
            });
            var joined = attempt(() -> {
                var found = ComposeNetworks.joined(app.get("networks"), key, networks);
                // On a network, a container is also reached by its container_name, as Docker resolves it.
                found.values().forEach(aliases -> {
                    if (!aliases.contains(name)) {
                        aliases.add(name);
                    }
                });
                return found;
            });
            var docker = attempt(() -> ComposeDeploy.dockerOptions(app, inMemory, mounted, joined));
            if (failed) {
                return null;
            }
            if (deploy.memory() != null && memory != null && !deploy.memory().equals(memory)) {
                problem("'mem_limit' and 'deploy.resources.limits.memory' differ: keep one.");
            }
            if (deploy.cpus() != null && cpus != null && !deploy.cpus().equals(cpus)) {
                problem("'cpus' and 'deploy.resources.limits.cpus' differ: keep one.");
            }
            if (deploy.restart() != null && restart != null && !deploy.restart().equals(restart)) {
                problem("'restart' and 'deploy.restart_policy' differ: keep one.");
            }
            if (failed) {
                return null;
            }
            return new AppSpec(name, image, ports, environment, restart != null ? restart : deploy.restart(), command, shares,
                    memory != null ? memory : deploy.memory(), links, mounts, entrypoint, init, healthcheck, dependsOn,
                    cpus != null ? cpus : deploy.cpus(), docker);
        }

        /** A service's {@code x-flocker} (our extension): {@code replicas}, standby copies of each of its volumes; null when absent. */
        private static Integer flockerReplicas(Object section) {
            if (section == null) {
                return null;
            }
            var map = asMap(section);
            var unknown = new TreeSet<String>();
            map.keySet().forEach(k -> {
                if (!String.valueOf(k).equals("replicas")) {
                    unknown.add(String.valueOf(k));
                }
            });
            if (!unknown.isEmpty()) {
                throw new ConfigurationError("'x-flocker' has unknown keys " + unknown + "; it takes 'replicas' (standby copies of the"
                        + " service's volumes on other nodes).");
            }
            return map.get("replicas") == null ? null : replicas(map.get("replicas"), "x-flocker.replicas");
        }

        private <T> T attempt(Supplier<T> read) {
            try {
                return read.get();
            } catch (ConfigurationError e) {
                e.problems().forEach(this::problem);
            } catch (IllegalArgumentException | ArithmeticException e) {
                problem(e.getMessage());
            }
            return null;
        }

        private void problem(String message) {
            problems.add(prefix + message);
            failed = true;
        }
    }

    /** A list of words, or one string split as a shell would (quotes kept together, nothing expanded). */
    static List<String> words(Object value, String what) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list.stream().map(item -> string(item, what)).toList();
        }
        return ShellWords.split(string(value, what), what);
    }

    static boolean bool(Object value, String what) {
        if (value instanceof Boolean b) {
            return b;
        }
        throw new ConfigurationError("'" + what + "' must be true or false, found " + typeName(value) + ".");
    }

    /** {@code expose}: ports (or ranges) reachable by other containers; documentation only, as in Compose. */
    static void exposed(Object entry) {
        var text = String.valueOf(entry);
        if (!text.matches("[0-9]{1,5}(-[0-9]{1,5})?(/tcp)?")) {
            throw new ConfigurationError("Invalid 'expose' entry '" + text + "': use a port or a range, e.g. 8080 or 8000-8010.");
        }
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
        if (text.startsWith("on-failure:") && text.substring(11).matches("[1-9][0-9]{0,8}")) {
            return new Application.RestartPolicy("on-failure", Integer.parseInt(text.substring(11)));
        }
        throw new ConfigurationError("Invalid restart '" + text + "': use no, always, unless-stopped, on-failure or on-failure:N.");
    }

    /** Compose memory: bytes, or a number with b, k, m, g (binary), e.g. 512m. */
    static long memory(Object value, String what) {
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
            throw new ConfigurationError("Invalid " + what + " '" + value + "': use bytes or a number with k, m or g, e.g. 512m.");
        }
        if (bytes < 1 << 20 || bytes > 1L << 50) {
            throw new ConfigurationError(what + " '" + value + "' is out of range: from 1 MiB (1m) to 1 PiB.");
        }
        return bytes;
    }
}
