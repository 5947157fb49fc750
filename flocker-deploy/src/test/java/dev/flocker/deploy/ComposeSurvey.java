package dev.flocker.deploy;

import dev.flocker.compose.ApplicationFile;
import dev.flocker.compose.ConfigurationError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads every Compose file under a directory as flocker-deploy would (YAML, variables, env_file, profiles) and says,
 * per file, whether it would deploy or every problem that stops it; then which keys stop the most files. For
 * measuring how many files people already have deploy unchanged (e.g. a snapshot of docker/awesome-compose).
 * Usage: {@code scripts/compose-survey.sh DIR}.
 */
public final class ComposeSurvey {
    private static final Pattern KEY = Pattern.compile("'([a-z_.]+)' is (not supported|read by)|(Host paths) cannot be volumes"
            + "|(Named volume) '[^']+' is not declared|(Missing 'image' key)|'(image)' is needed too");

    private ComposeSurvey() {
    }

    public static void main(String[] args) throws IOException {
        var root = Path.of(args.length > 0 ? args[0] : ".");
        var files = new ArrayList<Path>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(p -> p.getFileName().toString().matches("(docker-)?compose\\.ya?ml")).sorted().forEach(files::add);
        }
        int accepted = 0;
        var stoppedBy = new TreeMap<String, Integer>();
        for (var file : files) {
            var name = root.relativize(file).toString();
            try {
                var yaml = YamlFile.read(file);
                var resolved = ComposeInputs.resolve(yaml.value, file, Set.of(), Set.of());
                // As flocker-deploy: each build is checked (context, Dockerfile, keys) and stands for its image; Docker is not run.
                if (resolved instanceof Map<?, ?> top && top.get("services") instanceof Map<?, ?> services) {
                    services.forEach((service, settings) -> {
                        if (settings instanceof Map<?, ?> map && map.containsKey("build")) {
                            ImageBuilds.arguments(file, String.valueOf(service), map);
                        }
                    });
                }
                ApplicationFile.parse(ImageBuilds.withoutBuilds(resolved));
                accepted++;
                System.out.println("ok       " + name);
            } catch (ConfigurationError e) {
                var reasons = new java.util.TreeSet<String>();
                for (var problem : e.problems()) {
                    var matcher = KEY.matcher(problem);
                    if (matcher.find()) {
                        for (int g = 1; g <= matcher.groupCount(); g++) {
                            if (matcher.group(g) != null && !matcher.group(g).startsWith("not supported") && !matcher.group(g).equals("read by")) {
                                reasons.add(matcher.group(g));
                                break;
                            }
                        }
                    } else {
                        reasons.add("other");
                    }
                }
                reasons.forEach(r -> stoppedBy.merge(r, 1, Integer::sum));
                System.out.println("refused  " + name + " (" + e.problems().size() + " problems: " + String.join(", ", reasons) + ")");
                e.problems().forEach(p -> System.out.println("           " + p));
            } catch (DeployException e) {
                stoppedBy.merge("file", 1, Integer::sum);
                System.out.println("refused  " + name + ": " + e.getMessage());
            }
        }
        System.out.printf("%n%d of %d files would deploy unchanged%n", accepted, files.size());
        stoppedBy.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> System.out.printf("  stopped by %-22s %d files%n", e.getKey(), e.getValue()));
    }
}
