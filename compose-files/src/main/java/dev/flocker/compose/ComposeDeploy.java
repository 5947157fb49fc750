package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DockerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Compose's run-time settings of a service: health check, start order, CPU limit and the {@code deploy} section. */
final class ComposeDeploy {
    private static final Pattern DURATION_PART = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h)");

    /** What {@code deploy} sets: each null when not set. */
    record Settings(Long memory, Double cpus, Application.RestartPolicy restart) {
    }

    private ComposeDeploy() {
    }

    /** Docker's {@code --cpus}: a number of cores, e.g. 0.5 or "1.5". */
    static Double cpus(Object value) {
        double cores;
        try {
            cores = Double.parseDouble(String.valueOf(value).strip());
        } catch (NumberFormatException e) {
            throw new ConfigurationError("Invalid cpus '" + value + "': use a number of cores, e.g. 0.5 or 2.");
        }
        if (!(cores >= 0.01 && cores <= 1024)) {
            throw new ConfigurationError("cpus '" + value + "' is out of range: from 0.01 to 1024 cores.");
        }
        return cores;
    }

    /** Compose's {@code healthcheck}, as Docker takes it; null when there is none. */
    static Application.HealthCheck healthcheck(Object value) {
        if (value == null) {
            return null;
        }
        var check = asMap(value);
        unrecognised(check, Set.of("test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"));
        if (Boolean.TRUE.equals(check.get("disable"))) {
            return new Application.HealthCheck(List.of("NONE"), null, null, null, null);
        }
        var test = check.get("test");
        if (test == null) {
            throw new ConfigurationError("'healthcheck' needs 'test', e.g. [\"CMD\", \"pg_isready\"] or \"curl -f http://localhost\".");
        }
        List<String> command;
        if (test instanceof List<?> list) {
            command = list.stream().map(item -> string(item, "healthcheck test")).toList();
            if (command.isEmpty() || !List.of("CMD", "CMD-SHELL", "NONE").contains(command.get(0))) {
                throw new ConfigurationError("'healthcheck test' as a list starts with CMD, CMD-SHELL or NONE, e.g. [\"CMD\", \"pg_isready\"].");
            }
            if (command.get(0).equals("CMD-SHELL") && command.size() > 2) {
                command = List.of("CMD-SHELL", String.join(" ", command.subList(1, command.size())));
            }
        } else {
            command = List.of("CMD-SHELL", string(test, "healthcheck test"));
        }
        var retries = check.get("retries") == null ? null : integer(check.get("retries"), "healthcheck retries");
        return new Application.HealthCheck(command, duration(check.get("interval"), "healthcheck interval"),
                duration(check.get("timeout"), "healthcheck timeout"), duration(check.get("start_period"), "healthcheck start_period"),
                retries, duration(check.get("start_interval"), "healthcheck start_interval"));
    }

    /** A Go duration ("1m30s", "500ms", "10s") in milliseconds; null when absent. */
    static Long duration(Object value, String what) {
        if (value == null) {
            return null;
        }
        var text = String.valueOf(value).strip();
        var matcher = DURATION_PART.matcher(text);
        double ms = 0;
        int end = 0;
        while (matcher.find() && matcher.start() == end) {
            double amount = Double.parseDouble(matcher.group(1));
            ms += amount * switch (matcher.group(2)) {
                case "ns" -> 1e-6;
                case "us", "µs" -> 1e-3;
                case "ms" -> 1;
                case "s" -> 1_000;
                case "m" -> 60_000;
                default -> 3_600_000;
            };
            end = matcher.end();
        }
        if (text.isEmpty() || end != text.length()) {
            throw new ConfigurationError("Invalid " + what + " '" + value + "': use a duration such as 10s, 1m30s or 500ms.");
        }
        if (ms < 1 || ms > 86_400_000) {
            throw new ConfigurationError(what + " '" + value + "' is out of range: from 1ms to 24h.");
        }
        return Math.round(ms);
    }

    /** {@code depends_on}: a list of services, or a map of services to their condition; by application name. */
    static List<Application.Dependency> dependsOn(Object value, Map<String, String> names) {
        var result = new ArrayList<Application.Dependency>();
        if (value == null) {
            return result;
        }
        if (value instanceof List<?> list) {
            for (var item : list) {
                result.add(new Application.Dependency(target(string(item, "depends_on"), names), "started"));
            }
            return result;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new ConfigurationError("'depends_on' must be a list of services or a map of services to {condition: ...}, found "
                    + typeName(value) + ".");
        }
        for (var entry : map.entrySet()) {
            var service = String.valueOf(entry.getKey());
            var condition = "started";
            if (entry.getValue() != null) {
                var settings = asMap(entry.getValue());
                unrecognised(settings, Set.of("condition", "restart", "required"));
                if (Boolean.TRUE.equals(settings.get("restart"))) {
                    throw new ConfigurationError("'depends_on' " + service + " 'restart: true' is not supported: an application is not"
                            + " restarted when what it depends on is.");
                }
                if (Boolean.FALSE.equals(settings.get("required"))) {
                    throw new ConfigurationError("'depends_on' " + service + " 'required: false' is not supported: every dependency must"
                            + " be in the file.");
                }
                var text = settings.get("condition") == null ? "service_started" : String.valueOf(settings.get("condition"));
                condition = switch (text) {
                    case "service_started" -> "started";
                    case "service_healthy" -> "healthy";
                    case "service_completed_successfully" -> throw new ConfigurationError("'depends_on' " + service + " condition "
                            + text + " is not supported: applications are kept running, none is a one-shot job.");
                    default -> throw new ConfigurationError("Invalid 'depends_on' condition '" + text
                            + "': use service_started or service_healthy.");
                };
            }
            result.add(new Application.Dependency(target(service, names), condition));
        }
        return result;
    }

    private static String target(String service, Map<String, String> names) {
        var name = names.get(service);
        if (name == null) {
            throw new ConfigurationError("'depends_on' names '" + service + "', which is not a service in this file.");
        }
        return name;
    }

    /**
     * The options Docker applies as they are: user, working_dir, hostname, labels, read_only, tmpfs (plus volumes of
     * type tmpfs, {@code memory}), shm_size, extra_hosts, stop_signal, stop_grace_period, and the configs and secrets
     * ({@code files}) it mounts.
     */
    static DockerOptions dockerOptions(Map<?, ?> app, List<String> memory, List<DockerOptions.FileMount> files,
                                       Map<String, List<String>> networks) {
        var tmpfs = new ArrayList<String>(memory);
        for (var text : strings(app.get("tmpfs"), "tmpfs")) {
            if (text.contains(":")) {
                throw new ConfigurationError("'tmpfs' '" + text + "': mount options are not supported; give the path only.");
            }
            tmpfs.add(text);
        }
        var readOnly = app.get("read_only");
        return new DockerOptions(
                app.get("user") == null ? null : string(app.get("user"), "user"),
                app.get("working_dir") == null ? null : string(app.get("working_dir"), "working_dir"),
                app.get("hostname") == null ? null : string(app.get("hostname"), "hostname"),
                pairs(app.get("labels"), "labels", '='),
                readOnly == null ? null : ComposeServices.bool(readOnly, "read_only"),
                tmpfs,
                app.get("shm_size") == null ? null : ComposeServices.memory(app.get("shm_size"), "shm_size"),
                pairs(app.get("extra_hosts"), "extra_hosts", ':'),
                app.get("stop_signal") == null ? null : string(app.get("stop_signal"), "stop_signal"),
                duration0(app.get("stop_grace_period")), files,
                app.get("tty") == null ? null : ComposeServices.bool(app.get("tty"), "tty"),
                app.get("stdin_open") == null ? null : ComposeServices.bool(app.get("stdin_open"), "stdin_open"),
                strings(app.get("dns"), "dns"), strings(app.get("dns_search"), "dns_search"), ulimits(app.get("ulimits")),
                pairs(app.get("sysctls"), "sysctls", '='), networks,
                app.get(ApplicationFile.BUILT_IMAGE_ID) == null ? null : string(app.get(ApplicationFile.BUILT_IMAGE_ID), ApplicationFile.BUILT_IMAGE_ID));
    }


    /** One string or a list of them. */
    private static List<String> strings(Object value, String what) {
        if (value == null) {
            return List.of();
        }
        return (value instanceof List<?> list ? list : List.of(value)).stream().map(item -> string(item, what)).toList();
    }

    /** {@code ulimits}: {@code nofile: 65535} (soft = hard) or {@code nofile: {soft: 1024, hard: 65535}}. */
    private static Map<String, DockerOptions.Ulimit> ulimits(Object value) {
        var result = new java.util.LinkedHashMap<String, DockerOptions.Ulimit>();
        if (value == null) {
            return result;
        }
        asMap(value).forEach((name, limit) -> {
            if (limit instanceof Map<?, ?> map) {
                unrecognised(map, Set.of("soft", "hard"));
                result.put(String.valueOf(name), new DockerOptions.Ulimit(longValue(map.get("soft"), "ulimits " + name + " soft"),
                        longValue(map.get("hard"), "ulimits " + name + " hard")));
            } else {
                long both = longValue(limit, "ulimits " + name);
                result.put(String.valueOf(name), new DockerOptions.Ulimit(both, both));
            }
        });
        return result;
    }

    private static long longValue(Object value, String what) {
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        throw new ConfigurationError("'" + what + "' must be an integer, found " + typeName(value) + ".");
    }

    /** A map, or a list of {@code key<separator>value} ({@code extra_hosts} also takes {@code host=address}). */
    private static Map<String, String> pairs(Object value, String what, char separator) {
        var result = new java.util.LinkedHashMap<String, String>();
        if (value == null) {
            return result;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> result.put(String.valueOf(k), string(v, what + " " + k)));
            return result;
        }
        for (var item : asList(value, what)) {
            var text = string(item, what);
            int at = separator == ':' && text.indexOf('=') > 0 ? text.indexOf('=') : text.indexOf(separator);
            if (at <= 0) {
                throw new ConfigurationError("Invalid '" + what + "' entry '" + text + "': use " + (separator == ':' ? "host:address" : "key=value")
                        + ".");
            }
            result.put(text.substring(0, at), text.substring(at + 1));
        }
        return result;
    }

    /** A duration that may be zero (a stop grace period of 0s kills at once). */
    private static Long duration0(Object value) {
        if (value == null) {
            return null;
        }
        var text = String.valueOf(value).strip();
        return text.matches("0+(\\.0+)?(ns|us|µs|ms|s|m|h)?") ? 0L : duration(value, "stop_grace_period");
    }

    /** Compose's {@code deploy}: resource limits and the restart policy; what belongs to a scheduler is refused. */
    static Settings deploy(Object value) {
        if (value == null) {
            return new Settings(null, null, null);
        }
        var deploy = asMap(value);
        for (var key : deploy.keySet()) {
            var k = String.valueOf(key);
            if (Set.of("placement", "update_config", "rollback_config", "endpoint_mode", "labels").contains(k)) {
                throw new ConfigurationError("'deploy." + k + "' is not supported: where an application runs is the deployment file's"
                        + " choice, and it is replaced in place.");
            }
        }
        unrecognised(deploy, Set.of("resources", "replicas", "mode", "restart_policy"));
        if (deploy.get("replicas") != null && !Integer.valueOf(1).equals(deploy.get("replicas"))) {
            throw new ConfigurationError("'deploy.replicas' " + deploy.get("replicas") + " is not supported: one container per"
                    + " application; write another service for another copy.");
        }
        if (deploy.get("mode") != null && !"replicated".equals(deploy.get("mode"))) {
            throw new ConfigurationError("'deploy.mode' " + deploy.get("mode") + " is not supported: an application runs on the one node"
                    + " the deployment file names.");
        }
        Long memory = null;
        Double cpus = null;
        if (deploy.get("resources") != null) {
            var resources = asMap(deploy.get("resources"));
            if (resources.containsKey("reservations")) {
                throw new ConfigurationError("'deploy.resources.reservations' is not supported: nodes are chosen in the deployment"
                        + " file, not by a scheduler; use limits.");
            }
            unrecognised(resources, Set.of("limits"));
            if (resources.get("limits") != null) {
                var limits = asMap(resources.get("limits"));
                unrecognised(limits, Set.of("memory", "cpus"));
                memory = limits.get("memory") == null ? null : ComposeServices.memory(limits.get("memory"), "deploy.resources.limits.memory");
                cpus = limits.get("cpus") == null ? null : cpus(limits.get("cpus"));
            }
        }
        return new Settings(memory, cpus, restartPolicy(deploy.get("restart_policy")));
    }

    private static Application.RestartPolicy restartPolicy(Object value) {
        if (value == null) {
            return null;
        }
        var policy = asMap(value);
        unrecognised(policy, Set.of("condition", "max_attempts"));
        var condition = policy.get("condition") == null ? "any" : String.valueOf(policy.get("condition"));
        var attempts = policy.get("max_attempts") == null ? null : integer(policy.get("max_attempts"), "deploy.restart_policy.max_attempts");
        if (attempts != null && !condition.equals("on-failure")) {
            throw new ConfigurationError("'deploy.restart_policy.max_attempts' only counts with condition: on-failure.");
        }
        return switch (condition) {
            case "none" -> Application.RestartPolicy.NEVER;
            case "any" -> new Application.RestartPolicy("always", null);
            case "on-failure" -> new Application.RestartPolicy("on-failure", attempts);
            default -> throw new ConfigurationError("Invalid 'deploy.restart_policy.condition' '" + condition + "': use none, on-failure or any.");
        };
    }
}
