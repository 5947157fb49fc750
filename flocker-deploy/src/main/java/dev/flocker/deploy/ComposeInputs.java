package dev.flocker.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What only flocker-deploy can do to a Compose file before it is parsed (here) and sent (to the control service): read
 * each service's {@code env_file} from beside the file into its {@code environment} (whose own entries win, as in
 * Compose), read configs' and secrets' {@code file:} and {@code environment:} into their content, and leave out the
 * services of profiles that are not active and that the deployment file does not name, so their problems do not stop
 * the others. Other files pass unchanged.
 */
final class ComposeInputs {
    private ComposeInputs() {
    }

    /** {@code COMPOSE_PROFILES} (comma-separated) plus the {@code --profile} options. */
    static Set<String> activeProfiles(Collection<String> options) {
        var active = new java.util.TreeSet<>(options);
        var variable = System.getenv("COMPOSE_PROFILES");
        if (variable != null) {
            for (var name : variable.split(",")) {
                if (!name.isBlank()) {
                    active.add(name.strip());
                }
            }
        }
        return active;
    }

    static Object resolve(Object root, Path file, Set<String> activeProfiles, Set<String> named) {
        if (!(root instanceof Map<?, ?> map) || !(map.get("services") instanceof Map<?, ?> services)) {
            return root;
        }
        var kept = new LinkedHashMap<Object, Object>();
        services.forEach((name, value) -> {
            if (!(value instanceof Map<?, ?> service)) {
                kept.put(name, value);
                return;
            }
            if (service.get("profiles") instanceof List<?> profiles && !profiles.isEmpty() && !named.contains(String.valueOf(name))
                    && profiles.stream().noneMatch(p -> activeProfiles.contains(String.valueOf(p)))) {
                return; // not active: left out, as Compose leaves it out
            }
            kept.put(name, service.containsKey("env_file") ? withEnvFiles(String.valueOf(name), service, file) : service);
        });
        var result = new LinkedHashMap<Object, Object>(map);
        result.put("services", kept);
        for (var kind : List.of("configs", "secrets")) {
            if (map.get(kind) instanceof Map<?, ?> declared) {
                result.put(kind, withContents(kind, declared, file));
            }
        }
        return result;
    }

    /**
     * Configs and secrets with their {@code file:} (beside the Compose file) or {@code environment:} (a variable of
     * this environment) read into {@code x-content-base64}, as {@code docker stack deploy} uploads them.
     */
    private static Map<Object, Object> withContents(String kind, Map<?, ?> declared, Path file) {
        var result = new LinkedHashMap<Object, Object>();
        declared.forEach((name, value) -> {
            if (!(value instanceof Map<?, ?> entry) || (!entry.containsKey("file") && !entry.containsKey("environment"))) {
                result.put(name, value); // the parser says what is wrong with it, or it is inline content
                return;
            }
            byte[] content;
            if (entry.get("file") instanceof String path) {
                var source = file.toAbsolutePath().resolveSibling(path);
                try {
                    if (Files.size(source) > dev.flocker.api.model.DockerOptions.MAX_FILE_BYTES) {
                        throw new DeployException(file + ": " + kind + " '" + name + "': " + source + " is larger than "
                                + dev.flocker.api.model.DockerOptions.MAX_FILE_BYTES + " bytes; keep large data in a volume");
                    }
                    content = Files.readAllBytes(source);
                } catch (java.nio.file.NoSuchFileException e) {
                    throw new DeployException(file + ": " + kind + " '" + name + "': file " + source + " does not exist");
                } catch (java.io.IOException e) {
                    throw new DeployException(file + ": " + kind + " '" + name + "': cannot read " + source + ": " + e.getMessage());
                }
            } else if (entry.get("environment") instanceof String variable) {
                var text = System.getenv(variable);
                if (text == null) {
                    throw new DeployException(file + ": " + kind + " '" + name + "': environment variable " + variable + " is not set");
                }
                content = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            } else {
                throw new DeployException(file + ": " + kind + " '" + name + "': 'file' and 'environment' must be text");
            }
            var resolved = new LinkedHashMap<Object, Object>(entry);
            resolved.remove("file");
            resolved.remove("environment");
            resolved.put("x-content-base64", java.util.Base64.getEncoder().encodeToString(content));
            result.put(name, resolved);
        });
        return result;
    }

    private static Map<Object, Object> withEnvFiles(String service, Map<?, ?> settings, Path file) {
        var environment = new LinkedHashMap<String, Object>();
        for (var entry : envFiles(service, settings.get("env_file"))) {
            var path = file.toAbsolutePath().resolveSibling(entry.path());
            if (!Files.isRegularFile(path)) {
                if (entry.required()) {
                    throw new DeployException(file + ": service '" + service + "': env_file " + path + " does not exist (add it, or mark"
                            + " it 'required: false')");
                }
                continue;
            }
            environment.putAll(Interpolation.readDotEnv(path));
        }
        var own = settings.get("environment");
        if (own instanceof Map<?, ?> map) {
            map.forEach((k, v) -> environment.put(String.valueOf(k), v));
        } else if (own instanceof List<?> list) {
            for (var item : list) {
                var text = String.valueOf(item);
                int eq = text.indexOf('=');
                if (eq <= 0) {
                    throw new DeployException(file + ": service '" + service + "': environment entry '" + text + "' must be KEY=VALUE");
                }
                environment.put(text.substring(0, eq), text.substring(eq + 1));
            }
        } else if (own != null) {
            return new LinkedHashMap<>(settings); // the parser says what is wrong with it
        }
        var result = new LinkedHashMap<Object, Object>(settings);
        result.remove("env_file");
        result.put("environment", environment);
        return result;
    }

    private record EnvFile(String path, boolean required) {
    }

    private static List<EnvFile> envFiles(String service, Object value) {
        var result = new ArrayList<EnvFile>();
        for (var item : value instanceof List<?> list ? list : List.of(value)) {
            if (item instanceof Map<?, ?> map && map.get("path") instanceof String path) {
                result.add(new EnvFile(path, !Boolean.FALSE.equals(map.get("required"))));
            } else if (item instanceof String path) {
                result.add(new EnvFile(path, true));
            } else {
                throw new DeployException("service '" + service + "': env_file must be a path, a list of paths, or a list of {path,"
                        + " required}");
            }
        }
        return result;
    }
}
