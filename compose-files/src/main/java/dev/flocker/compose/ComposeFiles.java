package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DockerOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compose's configs and secrets, as {@code docker stack deploy} gives them to a swarm: their contents travel with the
 * application (flocker-deploy reads {@code file:} and {@code environment:} ones where the Compose file is, into
 * {@code x-content-base64}), and each service that names one gets it as a read-only file: a config at
 * {@code /<name>}, a secret at {@code /run/secrets/<name>}, or at its {@code target}.
 */
final class ComposeFiles {
    /** The key flocker-deploy puts a file's or a variable's content under (an {@code x-} key: Compose's own ignore it). */
    static final String CONTENT = "x-content-base64";

    private ComposeFiles() {
    }

    /** The top-level {@code configs} or {@code secrets} ({@code kind}): each name's content; problems added to {@code problems}. */
    static Map<String, byte[]> declared(Object top, String kind, List<String> problems) {
        return declarations(top, kind, problems, (name, value) -> {
            var entry = asMap(value);
            if (Boolean.TRUE.equals(entry.get("external"))) {
                throw new ConfigurationError("'external' " + kind + " are not supported: there is no swarm to hold them; give 'file'.");
            }
            if (entry.containsKey("file") || entry.containsKey("environment")) {
                throw new ConfigurationError("'file' and 'environment' are read by flocker-deploy, where the Compose file is: deploy"
                        + " with flocker-deploy.");
            }
            unrecognised(entry, Set.of("content", CONTENT, "name"));
            if (entry.get(CONTENT) != null) {
                try {
                    return Base64.getDecoder().decode(string(entry.get(CONTENT), CONTENT));
                } catch (IllegalArgumentException e) {
                    throw new ConfigurationError("Its content is not base64: " + e.getMessage());
                }
            }
            if (entry.get("content") != null) {
                return string(entry.get("content"), "content").getBytes(StandardCharsets.UTF_8);
            }
            throw new ConfigurationError("It needs 'file' (a path beside the Compose file) or 'content'.");
        });
    }

    /** A permission written as text, e.g. "0440" (Compose's YAML number 0440 is octal too, and arrives as 288). */
    private static int octal(String text) {
        if (!text.matches("0?[0-7]{1,3}")) {
            throw new ConfigurationError("Invalid mode '" + text + "': use an octal permission such as 0440.");
        }
        return Integer.parseInt(text, 8);
    }

    /** A service's {@code configs} or {@code secrets}: names, or {@code {source, target, mode}}. */
    static List<DockerOptions.FileMount> mounts(Object value, String kind, Map<String, byte[]> declared) {
        var result = new ArrayList<DockerOptions.FileMount>();
        for (var item : asList(value, kind)) {
            String source;
            String target = null;
            Integer mode = null;
            if (item instanceof Map<?, ?> map) {
                unrecognised(map, Set.of("source", "target", "mode"));
                source = string(map.get("source"), kind + " source");
                target = map.get("target") == null ? null : string(map.get("target"), kind + " target");
                if (map.get("mode") != null) {
                    mode = map.get("mode") instanceof Integer i ? i : octal(string(map.get("mode"), kind + " mode"));
                }
            } else {
                source = string(item, kind);
            }
            var content = declared.get(source);
            if (content == null) {
                throw new ConfigurationError("'" + kind + "' names '" + source + "', which is not declared under the top-level '" + kind + "'.");
            }
            if (target == null) {
                target = kind.equals("secrets") ? "/run/secrets/" + source : "/" + source;
            } else if (kind.equals("secrets") && !target.startsWith("/")) {
                target = "/run/secrets/" + target;
            }
            result.add(new DockerOptions.FileMount(target, content, mode));
        }
        return result;
    }
}
