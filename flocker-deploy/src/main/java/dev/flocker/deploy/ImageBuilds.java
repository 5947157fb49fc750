package dev.flocker.deploy;

import dev.flocker.api.client.FlockerClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Compose file's {@code build:} without a registry, done by flocker-deploy: each service that has one is built with the
 * {@code docker} CLI (against {@code --docker-host}, e.g. a node's dockerd, or the local one), tagged by content
 * ({@code <image or project-service>:<first 12 digits of its id>}), and sent on as that image with its full id
 * ({@code x-flocker-image-id}). Before the configuration is sent, each image the control service does not hold yet is
 * uploaded to it ({@code docker save}, streamed); every agent that is to run the application loads it from there, a move's
 * target during the pre-copy. The image's name changes whenever its content does, so an application is replaced exactly
 * when a rebuild changed something.
 */
final class ImageBuilds {
    private static final Set<String> KEYS = Set.of("context", "dockerfile", "args", "target", "labels");

    /** An image built for a service. */
    record Built(String service, String image, String id) {
    }

    /** The Compose tree with every {@code build:} replaced by the image built from it, and what was built. */
    record Result(Object root, List<Built> built) {
    }

    private final String dockerHost;
    private final PrintStream out;

    /** @param dockerHost the Docker daemon to build with ({@code -H}), or null for the docker CLI's own default ({@code DOCKER_HOST}) */
    ImageBuilds(String dockerHost, PrintStream out) {
        this.dockerHost = dockerHost;
        this.out = out;
    }

    Result build(Object root, Path file) {
        var built = new ArrayList<Built>();
        var result = withBuildsReplaced(root, (name, service, copy) -> {
            var image = build(file, project((Map<?, ?>) root, file), name, service);
            built.add(image);
            copy.put("image", image.image());
            copy.put(dev.flocker.compose.ApplicationFile.BUILT_IMAGE_ID, image.id());
        });
        return new Result(result, List.copyOf(built));
    }

    /** The file as checked before building: each {@code build} stands for an image, so only the rest is checked. */
    static Object withoutBuilds(Object root) {
        return withBuildsReplaced(root, (name, service, copy) -> copy.putIfAbsent("image", "build-pending"));
    }

    /** Completes the copy of a service that had {@code build} (given its name and its settings as written). */
    private interface Rewrite {
        void apply(String name, Map<?, ?> service, Map<Object, Object> copy);
    }

    /**
     * {@code root} with each service that has {@code build} replaced by a copy without it, which {@code rewrite} then
     * completes; {@code root} itself when no service has one.
     */
    private static Object withBuildsReplaced(Object root, Rewrite rewrite) {
        if (!(root instanceof Map<?, ?> map) || !(map.get("services") instanceof Map<?, ?> services)
                || services.values().stream().noneMatch(v -> v instanceof Map<?, ?> s && s.containsKey("build"))) {
            return root;
        }
        var kept = new LinkedHashMap<Object, Object>();
        services.forEach((name, value) -> {
            if (value instanceof Map<?, ?> service && service.containsKey("build")) {
                var copy = new LinkedHashMap<Object, Object>(service);
                copy.remove("build");
                rewrite.apply(String.valueOf(name), service, copy);
                kept.put(name, copy);
            } else {
                kept.put(name, value);
            }
        });
        var result = new LinkedHashMap<Object, Object>(map);
        result.put("services", kept);
        return result;
    }

    /** Compose's project name: the file's {@code name}, else its directory's name, in Docker's image-name letters. */
    static String project(Map<?, ?> root, Path file) {
        var name = root.get("name") instanceof String given ? given
                : String.valueOf(file.toAbsolutePath().getParent().getFileName());
        var cleaned = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "");
        return cleaned.isEmpty() ? "flocker" : cleaned;
    }

    private Built build(Path file, String project, String service, Map<?, ?> settings) {
        var where = file + ": service '" + service + "': build: ";
        var command = docker("build", "-q");
        command.addAll(arguments(file, service, settings));
        out.println("building image of " + service + " from " + command.get(command.size() - 1));
        var output = run(command, where + "docker build failed");
        var lines = output.strip().lines().toList();
        var id = lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
        if (!id.matches("sha256:[0-9a-f]{64}")) {
            throw new DeployException(where + "docker build printed no image id: " + output.strip());
        }
        var repository = settings.get("image") instanceof String named ? repository(named) : project + "-" + service.toLowerCase(Locale.ROOT);
        var image = repository + ":" + id.substring(7, 19);
        run(docker("tag", id, image), where + "docker tag failed");
        out.println("built    " + service + ": " + image);
        return new Built(service, image, id);
    }

    /**
     * {@code docker build}'s arguments for a service's {@code build:}, the context last; a {@link DeployException} naming
     * the file, the service and what is valid when the build cannot work (checked before Docker runs).
     */
    static List<String> arguments(Path file, String service, Map<?, ?> settings) {
        var where = file + ": service '" + service + "': build: ";
        var spec = settings.get("build");
        Map<?, ?> options = spec instanceof String context ? Map.of("context", context) : spec instanceof Map<?, ?> m ? m : null;
        if (options == null) {
            throw new DeployException(where + "must be a directory (the build context) or a mapping with " + String.join(", ", KEYS.stream().sorted().toList()));
        }
        for (var key : options.keySet()) {
            if (!KEYS.contains(String.valueOf(key))) {
                throw new DeployException(where + "'" + key + "' is not supported; supported: " + String.join(", ", KEYS.stream().sorted().toList()));
            }
        }
        var context = file.toAbsolutePath().resolveSibling(String.valueOf(options.get("context") == null ? "." : options.get("context"))).normalize();
        if (!Files.isDirectory(context)) {
            throw new DeployException(where + "the context " + context + " is not a directory");
        }
        var command = new ArrayList<String>();
        if (options.get("dockerfile") != null) {
            var dockerfile = context.resolve(String.valueOf(options.get("dockerfile")));
            if (!Files.isRegularFile(dockerfile)) {
                throw new DeployException(where + "the dockerfile " + dockerfile + " does not exist");
            }
            command.addAll(List.of("-f", dockerfile.toString()));
        } else if (!Files.isRegularFile(context.resolve("Dockerfile"))) {
            throw new DeployException(where + context.resolve("Dockerfile") + " does not exist (or name another file with 'dockerfile')");
        }
        for (var arg : pairs(where + "args", options.get("args"))) {
            command.addAll(List.of("--build-arg", arg));
        }
        for (var label : pairs(where + "labels", options.get("labels"))) {
            command.addAll(List.of("--label", label));
        }
        if (options.get("target") != null) {
            command.addAll(List.of("--target", String.valueOf(options.get("target"))));
        }
        command.add(context.toString());
        return command;
    }

    /** An image name without its tag or digest ({@code registry:5000/app:1.0} -> {@code registry:5000/app}). */
    static String repository(String image) {
        var at = image.indexOf('@');
        var name = at < 0 ? image : image.substring(0, at);
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        return colon > slash ? name.substring(0, colon) : name;
    }

    /** Uploads each built image the control service does not hold yet. */
    void upload(List<Built> built, FlockerClient client) {
        for (var image : built) {
            if (DeployMain.call(() -> client.hasImage(image.id()))) {
                continue;
            }
            long started = System.nanoTime();
            Process save;
            try {
                save = new ProcessBuilder(docker("save", image.image())).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                throw new DeployException("cannot run docker save: " + e.getMessage());
            }
            try {
                DeployMain.call(() -> {
                    client.uploadImage(image.id(), save::getInputStream);
                    return null;
                });
                if (!save.waitFor(60, TimeUnit.SECONDS) || save.exitValue() != 0) {
                    throw new DeployException("docker save " + image.image() + " failed (exit " + (save.isAlive() ? "none" : save.exitValue()) + ")");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeployException("interrupted while uploading " + image.image());
            } catch (dev.flocker.api.client.FlockerApiException e) {
                throw new DeployException("the control service refused image " + image.image() + ": " + e.description());
            } finally {
                save.destroy();
            }
            out.printf("uploaded image %s to the control service in %.1f s%n", image.image(), (System.nanoTime() - started) / 1e9);
        }
    }

    private List<String> docker(String... args) {
        var command = new ArrayList<String>();
        command.add("docker");
        if (dockerHost != null) {
            command.addAll(List.of("-H", dockerHost));
        }
        command.addAll(List.of(args));
        return command;
    }

    /** A Compose mapping or KEY=VALUE list, as KEY=VALUE strings (a key alone takes its value from this environment, as Compose does). */
    private static List<String> pairs(String where, Object value) {
        var result = new ArrayList<String>();
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> result.add(k + "=" + (v == null ? "" : v)));
        } else if (value instanceof List<?> list) {
            for (var item : list) {
                var text = String.valueOf(item);
                result.add(text.contains("=") ? text : text + "=" + java.util.Objects.requireNonNullElse(System.getenv(text), ""));
            }
        } else if (value != null) {
            throw new DeployException(where + " must be a mapping or a list of KEY=VALUE");
        }
        return result;
    }

    private static String run(List<String> command, String failure) {
        try {
            var process = new ProcessBuilder(command).redirectErrorStream(true).start();
            var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0) {
                var tail = output.strip().lines().skip(Math.max(0, output.strip().lines().count() - 15)).toList();
                throw new DeployException(failure + ":\n" + String.join("\n", tail));
            }
            return output;
        } catch (IOException e) {
            throw new DeployException(failure + ": cannot run the docker CLI (" + e.getMessage() + "); install it, or build and push the image"
                    + " yourself and name it with 'image'");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeployException(failure + ": interrupted");
        }
    }
}
