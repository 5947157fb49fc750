package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of malformed and hostile requests to the API, each invalid in at least one field (path traversal, shell
 * and JSON injection, control characters, huge and wrong-typed values, unknown keys): every one gets a 4xx with a JSON
 * description, never a 5xx; the service keeps answering; the configuration does not change; nothing is written
 * outside the service's data directory.
 */
@Tag("integration")
class ApiFuzzTest {
    static final String NODE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
    static final List<String> HOSTILE = List.of("\"../../etc/passwd\"", "\"/etc/shadow\"", "\"$(reboot)\"", "\"`id`\"", "\"; rm -rf /\"",
            "\"a\\u0000b\"", "\"\\n\\r\"", "\"" + "x".repeat(70_000) + "\"", "null", "true", "-1", "1e999", "[]", "{}", "{\"$ne\":1}",
            "\"%2e%2e%2f\"", "\"..\"", "\"\\u202e\"", "\"<script>\"", "9223372036854775808", "\"" + "🙂".repeat(300) + "\"");
    /** Metadata values are free text (a name like "/etc/shadow" is only a name), but not these. */
    static final List<String> BAD_METADATA = List.of("\"a\\u0000b\"", "\"\\n\\r\"", "\"" + "y".repeat(257) + "\"", "null", "1", "[]", "{}",
            "\"tab\\there\"");
    static final List<String> PATHS = List.of("/v1/configuration/datasets", "/v1/configuration/datasets/%s", "/v1/configuration/containers",
            "/v1/configuration/containers/%s", "/v1/configuration/leases", "/v1/configuration/leases/%s", "/v1/configuration/_compose",
            "/v1/state/nodes/by_era/%s");

    @TempDir
    static Path dir;
    static RunningService svc;

    @BeforeAll
    static void start() {
        svc = RunningService.start(dir.resolve("data"), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        svc.close();
    }

    @Test
    void hostileRequestsGetA4xxAndChangeNothing() throws IOException {
        var tag = svc.call("GET", "/v1/configuration/datasets", null).tag();
        var outside = files(dir, dir.resolve("data"));
        var random = new Random(7);
        var failures = new ArrayList<String>();
        for (int i = 0; i < 3000; i++) {
            var path = PATHS.get(random.nextInt(PATHS.size()));
            if (path.contains("%s")) {
                path = path.formatted(hostileSegment(random));
            }
            var method = random.nextInt(10) == 0 ? "DELETE" : random.nextInt(10) == 0 ? "PUT" : "POST";
            var body = body(random, path);
            var answer = call(method, path, body);
            if (answer == null) {
                failures.add(method + " " + abbreviate(path) + ": no answer");
                continue;
            }
            boolean described = answer.body() != null && answer.body().has("description");
            if (answer.status() < 400 || answer.status() >= 500 || !described) {
                failures.add(method + " " + abbreviate(path) + " " + abbreviate(body) + " -> " + answer.status() + " " + abbreviate(answer.raw()));
            }
        }
        assertThat(failures).as("requests not answered with a 4xx and a description").isEmpty();
        assertThat(svc.call("GET", "/v1/version", null).status()).isEqualTo(200);
        assertThat(svc.call("GET", "/v1/configuration/datasets", null).tag()).as("configuration tag").isEqualTo(tag);
        assertThat(files(dir, dir.resolve("data"))).as("files outside the data directory").isEqualTo(outside);
    }

    /**
     * A kept-alive connection the server closed meanwhile is found closed by the JDK client, which does not retry a
     * POST; one retry on a fresh connection tells that apart from a server that did not answer.
     */
    private static RunningService.Answer call(String method, String path, String body) {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                return svc.call(method, path, body);
            } catch (IllegalStateException e) {
                if (!String.valueOf(e.getMessage()).contains("received no bytes")) {
                    return null;
                }
            }
        }
        return null;
    }

    /** A path segment no id or name may be: traversal, encoded traversal, control characters, overlong. */
    private static String hostileSegment(Random random) {
        return List.of("..%2F..%2Fetc%2Fpasswd", "%2e%2e", "x%00y", "a%0Ab", "$(id)", "x".repeat(5000), "%20", "null", "-1",
                "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4", "6F1C2D3E-4B5A-1C6D-8E7F-9A0B1C2D3E4F").get(random.nextInt(11));
    }

    /** A request body with at least one invalid field, shaped like a real request to {@code path}. */
    private static String body(Random random, String path) {
        var hostile = HOSTILE.get(random.nextInt(HOSTILE.size()));
        return switch (random.nextInt(8)) {
            case 0 -> "{\"primary\":" + hostile + "}";
            case 1 -> "{\"primary\":\"" + NODE + "\",\"maximum_size\":" + (hostile.equals("null") ? "-1" : hostile) + "}"; // null: no limit
            case 2 -> "{\"primary\":\"" + NODE + "\",\"metadata\":{\"name\":" + BAD_METADATA.get(random.nextInt(BAD_METADATA.size())) + "}}";
            case 3 -> "{\"node_uuid\":\"" + NODE + "\",\"name\":" + hostile + ",\"image\":\"busybox\"}";
            case 4 -> "{\"node_uuid\":\"" + NODE + "\",\"name\":\"web\",\"image\":" + hostile + "}";
            case 5 -> "{\"node_uuid\":\"" + NODE + "\",\"name\":\"web\",\"image\":\"busybox\",\"volumes\":[{\"dataset_id\":\"" + NODE
                    + "\",\"mountpoint\":" + hostile + "}]}";
            case 6 -> "{\"applications\":" + hostile + ",\"deployment\":{\"version\":1,\"nodes\":{}}}";
            default -> garbage(random);
        };
    }

    private static String garbage(Random random) {
        var bytes = new byte[random.nextInt(300)];
        random.nextBytes(bytes);
        return "{" + new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static Set<String> files(Path root, Path except) throws IOException {
        try (var walk = Files.walk(root)) {
            return walk.filter(p -> !p.startsWith(except)).map(Path::toString).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static String abbreviate(String text) {
        return text == null ? "null" : text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
