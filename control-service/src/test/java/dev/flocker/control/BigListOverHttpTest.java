package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Json;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataset list as clients get it over real HTTP while it changes: each version is rendered once and every answer is
 * a view of the same memory, gzipped or not, on several event loops at once. Every answer must be the whole list of its
 * tag: a gzip answer inflates (its CRC and length checked) to exactly the plain answer of the same tag.
 */
@Tag("integration")
class BigListOverHttpTest {
    private static final String NODE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";

    @Test
    void concurrentGzipAndPlainReadsWhileWritingGiveEachTagsWholeList(@TempDir Path data) throws Exception {
        try (var svc = RunningService.start(data, Duration.ofSeconds(30));
             var http = HttpClient.newBuilder().sslContext(RunningService.USER.context()).build();
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                assertThat(svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + NODE + "\",\"metadata\":{\"name\":\"v" + i + "\"}}")
                        .status()).isEqualTo(201);
            }
            var gzipped = new ConcurrentHashMap<String, String>();
            var plain = new ConcurrentHashMap<String, String>();
            var writing = new AtomicBoolean(true);
            var writer = threads.submit(() -> {
                for (int i = 0; i < 60; i++) {
                    assertThat(svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + NODE + "\",\"metadata\":{\"name\":\"w" + i + "\"}}")
                            .status()).isEqualTo(201);
                }
                writing.set(false);
                return null;
            });
            var readers = new ArrayList<java.util.concurrent.Future<Integer>>();
            for (int r = 0; r < 8; r++) {
                boolean gzip = r % 2 == 0;
                readers.add(threads.submit(() -> {
                    int reads = 0;
                    while (writing.get() || reads < 10) {
                        var request = HttpRequest.newBuilder(svc.api().resolve("/v1/configuration/datasets"));
                        if (gzip) {
                            request.header("Accept-Encoding", "gzip");
                        }
                        var response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
                        assertThat(response.statusCode()).isEqualTo(200);
                        var tag = response.headers().firstValue("X-Configuration-Tag").orElseThrow();
                        String text;
                        if (gzip) {
                            assertThat(response.headers().firstValue("Content-Encoding")).contains("gzip");
                            try (var in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
                                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                            }
                            gzipped.merge(tag, text, (a, b) -> check(a, b, tag));
                        } else {
                            text = new String(response.body(), StandardCharsets.UTF_8);
                            plain.merge(tag, text, (a, b) -> check(a, b, tag));
                        }
                        var ids = new HashSet<String>();
                        Json.MAPPER.readTree(text).forEach(d -> ids.add(d.get("dataset_id").asText()));
                        assertThat(ids).hasSizeGreaterThanOrEqualTo(200).hasSize(Json.MAPPER.readTree(text).size());
                        reads++;
                    }
                    return reads;
                }));
            }
            writer.get();
            for (var reader : readers) {
                assertThat(reader.get()).isGreaterThanOrEqualTo(10);
            }
            int compared = 0;
            for (Map.Entry<String, String> entry : gzipped.entrySet()) {
                var other = plain.get(entry.getKey());
                if (other != null) {
                    assertThat(entry.getValue()).as("tag %s, gzip vs plain", entry.getKey()).isEqualTo(other);
                    compared++;
                }
            }
            assertThat(compared).as("tags read both ways").isPositive();
            var last = svc.call("GET", "/v1/configuration/datasets", null);
            assertThat(last.body().size()).isEqualTo(260);
        }
    }

    private static String check(String a, String b, String tag) {
        assertThat(b).as("two answers of tag %s", tag).isEqualTo(a);
        return a;
    }
}
