package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flocker v1 API contract: paths, bodies, status codes and error texts, over real HTTP. */
@Tag("integration")
class FlockerApiContractTest {
    static final String NODE_A = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
    static final String NODE_B = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    static final String SCHEMA = "The provided JSON doesn't match the required schema.";

    @TempDir
    static Path data;
    static RunningService svc;

    @BeforeAll
    static void start() {
        svc = RunningService.start(data, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        svc.close();
    }

    private static RunningService.Answer post(String path, String body, String... headers) {
        return svc.call("POST", path, body, headers);
    }

    private static String createDataset(String primary) {
        var answer = post("/v1/configuration/datasets", "{\"primary\":\"" + primary + "\"}");
        assertThat(answer.status()).isEqualTo(201);
        return answer.body().get("dataset_id").asText();
    }

    private static String errors(RunningService.Answer answer) {
        var text = new StringBuilder();
        answer.body().get("errors").forEach(e -> text.append(e.asText()).append('\n'));
        return text.toString();
    }

    @Test
    void versionAnswers() {
        var answer = svc.call("GET", "/v1/version", null);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().get("flocker").asText()).isNotBlank();
    }

    @Test
    void createdDatasetsAreListedWithATagAndIdsAreLowerCased() {
        var id = "2B1D7D2C-5F3E-4C1A-9D2E-0A1B2C3D4E5F";
        var created = post("/v1/configuration/datasets",
                "{\"primary\":\"" + NODE_A + "\",\"dataset_id\":\"" + id + "\",\"maximum_size\":67108864,\"metadata\":{\"name\":\"db\"}}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().get("dataset_id").asText()).isEqualTo(id.toLowerCase());
        assertThat(created.body().get("deleted").asBoolean()).isFalse();
        assertThat(created.body().get("metadata").get("name").asText()).isEqualTo("db");
        var list = svc.call("GET", "/v1/configuration/datasets", null);
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.tag()).isNotBlank();
        assertThat(list.raw()).contains(id.toLowerCase());
        var again = post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\",\"dataset_id\":\"" + id.toLowerCase() + "\"}");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.body().get("description").asText()).isEqualTo("The provided dataset_id is already in use.");
        // maximum_size null is omitted, as Flocker does.
        var unlimited = post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\",\"maximum_size\":null}");
        assertThat(unlimited.body().has("maximum_size")).isFalse();
    }

    /** A client that polls the configuration gets 304 and no body while its tag is current (an addition to Flocker's API). */
    @Test
    void aReadOfTheConfigurationIsValidatedByItsTag() {
        post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\"}");
        var first = svc.call("GET", "/v1/configuration/datasets", null);
        assertThat(first.etag()).isEqualTo("W/\"" + first.tag() + "\"");
        for (var match : new String[] {first.etag(), "\"" + first.tag() + "\"", "\"0\", " + first.etag(), "*"}) {
            var same = svc.call("GET", "/v1/configuration/datasets", null, "If-None-Match", match);
            assertThat(same.status()).as(match).isEqualTo(304);
            assertThat(same.raw()).as(match).isEmpty();
            assertThat(same.tag()).isEqualTo(first.tag());
        }
        assertThat(svc.call("GET", "/v1/configuration/datasets", null, "If-None-Match", "W/\"0\"").status()).isEqualTo(200);
        post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\"}");
        var changed = svc.call("GET", "/v1/configuration/datasets", null, "If-None-Match", first.etag());
        assertThat(changed.status()).isEqualTo(200);
        assertThat(changed.tag()).isNotEqualTo(first.tag());
        assertThat(changed.etag()).isEqualTo("W/\"" + changed.tag() + "\"");
        // Writes are never answered 304, whatever the request says.
        var write = svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\"}", "If-None-Match", "*");
        assertThat(write.status()).isEqualTo(201);
    }

    @Test
    void schemaFailuresAre400WithEveryErrorListed() {
        var cases = Map.of(
                "{}", "'primary' is a required property",
                "{\"primary\":\"nope\"}", "primary: \"nope\" is not a version-4 UUID",
                "{\"primary\":\"" + NODE_A + "\",\"maximum_size\":1024}", "maximum_size: 1024 must be from 67108864",
                "{\"primary\":\"" + NODE_A + "\",\"maximum_size\":67108865}", "is not a multiple of 1024",
                "{\"primary\":\"" + NODE_A + "\",\"size\":1}", "Additional properties are not allowed ('size' was unexpected)",
                "{\"primary\":\"" + NODE_A + "\",\"metadata\":{\"k\":1}}", "metadata.k: 1 is not of type 'string'",
                "{\"primary\":\"" + NODE_A + "\",\"metadata\":{\"k\":\"" + "v".repeat(257) + "\"}}", "longer than 256",
                "[1,2]", "is not of type 'object'");
        cases.forEach((body, expected) -> {
            var answer = post("/v1/configuration/datasets", body);
            assertThat(answer.status()).as(body).isEqualTo(400);
            assertThat(answer.body().get("description").asText()).isEqualTo(SCHEMA);
            assertThat(errors(answer)).as(body).contains(expected);
        });
        var metadata = new StringBuilder("{");
        for (int i = 0; i < 17; i++) {
            metadata.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
        }
        var tooMany = post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\",\"metadata\":" + metadata + "}}");
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(errors(tooMany)).contains("at most 16");
        var badJson = post("/v1/configuration/datasets", "{not json");
        assertThat(badJson.status()).isEqualTo(400);
        assertThat(badJson.body().get("description").asText()).startsWith("The request body is not valid JSON");
    }

    @Test
    void conditionalWritesAreCheckedBeforeTheBodyAndNeverLoseAnUpdate() {
        var tag = svc.call("GET", "/v1/configuration/datasets", null).tag();
        var stale = post("/v1/configuration/datasets", "this is not even JSON", "X-If-Configuration-Matches", "stale-tag");
        assertThat(stale.status()).isEqualTo(412);
        assertThat(stale.body().get("description").asText()).isEqualTo("Tag doesn't match. Required: stale-tag, current: " + tag);
        var first = post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\"}", "X-If-Configuration-Matches", tag);
        assertThat(first.status()).isEqualTo(201);
        var second = post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\"}", "X-If-Configuration-Matches", tag);
        assertThat(second.status()).isEqualTo(412);
        var id = first.body().get("dataset_id").asText();
        assertThat(post("/v1/configuration/datasets/" + id, "{\"primary\":\"" + NODE_B + "\"}", "X-If-Configuration-Matches", tag).status())
                .isEqualTo(412);
        assertThat(svc.call("DELETE", "/v1/configuration/datasets/" + id, null, "X-If-Configuration-Matches", tag).status()).isEqualTo(412);
    }

    @Test
    void concurrentConditionalCreatesOfOneNameMakeExactlyOneDataset() throws Exception {
        var client = svc.client();
        var name = "unique-" + System.nanoTime();
        var threads = new java.util.ArrayList<Thread>();
        var created = new java.util.concurrent.atomic.AtomicInteger();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofVirtual().start(() -> client.conditionally(seen -> {
                if (seen.value().stream().anyMatch(d -> !d.deleted() && name.equals(d.name()))) {
                    return FlockerClient.nothing();
                }
                return tag -> {
                    created.incrementAndGet();
                    return client.createDataset(NodeId.of(NODE_A), null, Map.of("name", name), null, tag);
                };
            })));
        }
        for (var t : threads) {
            t.join();
        }
        assertThat(client.datasets().value().stream().filter(d -> name.equals(d.name()))).hasSize(1);
    }

    @Test
    void updateMovesLenientlyAndDeleteIsIdempotent() {
        var id = createDataset(NODE_A);
        var moved = post("/v1/configuration/datasets/" + id, "{\"Primary\":\"" + NODE_B + "\",\"metadata\":{\"name\":\"x\"},\"extra\":1}");
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.body().get("primary").asText()).isEqualTo(NODE_B);
        var resized = post("/v1/configuration/datasets/" + id, "{\"maximum_size\":134217728}");
        assertThat(resized.body().get("maximum_size").asLong()).isEqualTo(134217728L);
        var deleted = svc.call("DELETE", "/v1/configuration/datasets/" + id, null);
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.body().get("deleted").asBoolean()).isTrue();
        assertThat(svc.call("DELETE", "/v1/configuration/datasets/" + id, null).status()).isEqualTo(200);
        var afterDelete = post("/v1/configuration/datasets/" + id, "{\"primary\":\"" + NODE_A + "\"}");
        assertThat(afterDelete.status()).isEqualTo(405);
        assertThat(afterDelete.body().get("description").asText()).isEqualTo("The dataset has been deleted.");
        for (var unknown : new String[] {DatasetId.random().toString(), "not-a-uuid"}) {
            var missing = post("/v1/configuration/datasets/" + unknown, "{\"primary\":\"" + NODE_A + "\"}");
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.body().get("description").asText()).isEqualTo("Dataset not found.");
            assertThat(svc.call("DELETE", "/v1/configuration/datasets/" + unknown, null).status()).isEqualTo(404);
        }
    }

    @Test
    void leasesAreAcquiredRenewedRefusedToOthersReleasedAndExpire() throws Exception {
        var id = DatasetId.random().toString();
        var body = "{\"dataset_id\":\"" + id + "\",\"node_uuid\":\"" + NODE_A + "\",\"expires\":60}";
        var acquired = post("/v1/configuration/leases", body);
        assertThat(acquired.status()).isEqualTo(201);
        assertThat(acquired.body().get("expires").asDouble()).isBetween(58.0, 60.0);
        assertThat(post("/v1/configuration/leases", body).status()).isEqualTo(200);
        var held = post("/v1/configuration/leases", "{\"dataset_id\":\"" + id + "\",\"node_uuid\":\"" + NODE_B + "\",\"expires\":null}");
        assertThat(held.status()).isEqualTo(409);
        assertThat(held.body().get("description").asText()).isEqualTo("Lease already held.");
        assertThat(post("/v1/configuration/leases", "{\"dataset_id\":\"" + id + "\"}").status()).isEqualTo(400);
        assertThat(post("/v1/configuration/leases", "{\"dataset_id\":\"" + id + "\",\"node_uuid\":\"" + NODE_A + "\",\"expires\":-1}").status())
                .isEqualTo(400);
        assertThat(svc.call("DELETE", "/v1/configuration/leases/" + id, null).status()).isEqualTo(200);
        var gone = svc.call("DELETE", "/v1/configuration/leases/" + id, null);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.body().get("description").asText()).isEqualTo("Lease not found.");

        var shortLived = DatasetId.random().toString();
        assertThat(post("/v1/configuration/leases", "{\"dataset_id\":\"" + shortLived + "\",\"node_uuid\":\"" + NODE_A + "\",\"expires\":0.3}")
                .status()).isEqualTo(201);
        assertThat(svc.call("GET", "/v1/configuration/leases", null).raw()).contains(shortLived);
        var tagBefore = svc.call("GET", "/v1/configuration/leases", null).tag();
        long deadline = System.currentTimeMillis() + 5000;
        while (svc.call("GET", "/v1/configuration/leases", null).raw().contains(shortLived) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(svc.call("GET", "/v1/configuration/leases", null).raw()).doesNotContain(shortLived);
        // Housekeeping removes it from the configuration too, which changes the tag.
        deadline = System.currentTimeMillis() + 5000;
        while (tagBefore.equals(svc.call("GET", "/v1/configuration/leases", null).tag()) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(svc.call("GET", "/v1/configuration/leases", null).tag()).isNotEqualTo(tagBefore);
    }

    @Test
    void containersAreCreatedCheckedMovedWithTheirDatasetAndDeleted() {
        var dataset = createDataset(NODE_A);
        var name = "db" + System.nanoTime();
        var container = "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"" + name + "\",\"image\":\"postgres\",\"ports\":[{\"internal\":5432,\"external\":"
                + (20000 + (System.nanoTime() % 10000)) + "}],\"volumes\":[{\"dataset_id\":\"" + dataset + "\",\"mountpoint\":\"/data\"}],"
                + "\"restart_policy\":{\"name\":\"on-failure\",\"maximum_retry_count\":3},\"environment\":{\"A\":\"b\"},\"cpu_shares\":512,"
                + "\"memory_limit\":67108864,\"links\":[{\"alias\":\"x\",\"local_port\":1,\"remote_port\":2}],\"command_line\":[\"postgres\"]}";
        var created = post("/v1/configuration/containers", container);
        assertThat(created.status()).as(created.raw()).isEqualTo(201);
        assertThat(created.body().get("image").asText()).isEqualTo("postgres:latest");
        var dup = post("/v1/configuration/containers", container);
        assertThat(dup.status()).isEqualTo(409);
        assertThat(dup.body().get("description").asText()).isEqualTo("The container name already exists.");
        var port = created.body().get("ports").get(0).get("external").asInt();
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"o" + name + "\",\"image\":\"x\",\"ports\":[{\"internal\":1,\"external\":"
                + port + "}]}").body().get("description").asText()).isEqualTo("A specified external port is already in use.");
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"l" + name + "\",\"image\":\"x\",\"links\":[{\"alias\":\"a\",\"local_port\":1,\"remote_port\":2},{\"alias\":\"b\",\"local_port\":1,\"remote_port\":3}]}")
                .body().get("description").asText()).isEqualTo("The local ports in a container's links must be unique.");
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"m" + name + "\",\"image\":\"x\",\"links\":[{\"alias\":\"a\",\"local_port\":1,\"remote_port\":2},{\"alias\":\"a\",\"local_port\":2,\"remote_port\":3}]}")
                .body().get("description").asText()).isEqualTo("The link aliases in a container must be unique.");
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"u" + name + "\",\"image\":\"x\",\"volumes\":[{\"dataset_id\":\"" + dataset + "\",\"mountpoint\":\"/d\"}]}")
                .body().get("description").asText()).isEqualTo("The dataset is being used by another container.");
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_B + "\",\"name\":\"v" + name + "\",\"image\":\"x\",\"volumes\":[{\"dataset_id\":\"" + createDataset(NODE_A) + "\",\"mountpoint\":\"/d\"}]}")
                .body().get("description").asText()).isEqualTo("The dataset is on another node.");
        var missing = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"w" + name + "\",\"image\":\"x\",\"volumes\":[{\"dataset_id\":\"" + DatasetId.random() + "\",\"mountpoint\":\"/d\"}]}");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"-bad\",\"image\":\"x\"}").status()).isEqualTo(400);
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"ok" + name + "\",\"image\":\"x\",\"cpu_shares\":5000}").status()).isEqualTo(400);
        assertThat(post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"ok" + name + "\",\"image\":\"x\",\"restart_policy\":{\"name\":\"always\",\"maximum_retry_count\":2}}").status()).isEqualTo(400);

        var moved = post("/v1/configuration/containers/" + name, "{\"node_uuid\":\"" + NODE_B + "\"}");
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.body().get("node_uuid").asText()).isEqualTo(NODE_B);
        assertThat(svc.client().datasets().value().stream().filter(d -> d.datasetId().toString().equals(dataset))
                .findFirst().orElseThrow().primary().toString()).isEqualTo(NODE_B);
        assertThat(post("/v1/configuration/containers/nosuch", "{\"node_uuid\":\"" + NODE_B + "\"}").body().get("description").asText())
                .isEqualTo("Container not found.");
        var deleted = svc.call("DELETE", "/v1/configuration/containers/" + name, null);
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.raw()).isEqualTo("null");
        assertThat(svc.call("DELETE", "/v1/configuration/containers/" + name, null).status()).isEqualTo(404);
        assertThat(svc.call("GET", "/v1/configuration/datasets", null).raw()).contains(dataset);
    }

    /** Our extensions (what Compose files say beyond Flocker's model) round-trip, are checked, and are absent when unset. */
    @Test
    void containerExtensionsRoundTripAreCheckedAndAbsentWhenUnset() {
        var dataset = createDataset(NODE_A);
        var name = "ext" + System.nanoTime();
        var created = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"" + name + "\",\"image\":\"x:1\","
                + "\"volumes\":[{\"dataset_id\":\"" + dataset + "\",\"mountpoint\":\"/d\",\"read_only\":true}],\"entrypoint\":[\"/init\"],"
                + "\"init\":false,\"healthcheck\":{\"test\":[\"CMD-SHELL\",\"true\"],\"interval_ms\":500,\"retries\":3},"
                + "\"depends_on\":[{\"name\":\"other\",\"condition\":\"healthy\"}],\"cpus\":0.5,"
                + "\"docker\":{\"user\":\"999\",\"working_dir\":\"/srv\",\"labels\":{\"team\":\"a\"},\"read_only\":true,\"tmpfs\":[\"/run\"],"
                + "\"stop_grace_period_ms\":5000,\"files\":[{\"target\":\"/run/secrets/t\",\"content\":\"czNjcmV0\",\"mode\":256}],"
                + "\"tty\":true,\"dns\":[\"10.0.0.53\"],\"ulimits\":{\"nofile\":{\"soft\":1024,\"hard\":2048}},\"sysctls\":{\"net.core.somaxconn\":\"1024\"}}}");
        assertThat(created.status()).as(created.raw()).isEqualTo(201);
        assertThat(created.body().get("volumes").get(0).get("read_only").asBoolean()).isTrue();
        assertThat(created.body().get("healthcheck").get("interval_ms").asLong()).isEqualTo(500);
        assertThat(created.body().get("depends_on").get(0).get("condition").asText()).isEqualTo("healthy");
        assertThat(created.body().get("cpus").asDouble()).isEqualTo(0.5);
        assertThat(created.body().get("init").asBoolean()).isFalse();
        assertThat(created.body().get("docker").get("stop_grace_period_ms").asLong()).isEqualTo(5000);
        assertThat(created.body().get("docker").get("labels").get("team").asText()).isEqualTo("a");
        assertThat(created.body().get("docker").get("files").get(0).get("content").asText()).isEqualTo("czNjcmV0");
        assertThat(created.body().get("docker").get("ulimits").get("nofile").get("hard").asLong()).isEqualTo(2048);
        var listed = svc.call("GET", "/v1/configuration/containers", null).raw();
        assertThat(listed).contains("\"entrypoint\":[\"/init\"]");

        // Several volumes: Flocker's 'volumes' keeps one, ours holds the rest; moving the container moves them all.
        var first = createDataset(NODE_A);
        var second = createDataset(NODE_A);
        var multi = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"m" + name + "\",\"image\":\"x:1\","
                + "\"volumes\":[{\"dataset_id\":\"" + first + "\",\"mountpoint\":\"/a\"}],"
                + "\"extra_volumes\":[{\"dataset_id\":\"" + second + "\",\"mountpoint\":\"/b\"}]}");
        assertThat(multi.status()).as(multi.raw()).isEqualTo(201);
        assertThat(post("/v1/configuration/containers/m" + name, "{\"node_uuid\":\"" + NODE_B + "\"}").status()).isEqualTo(200);
        assertThat(svc.client().datasets().value().stream().filter(d -> d.datasetId().toString().equals(first)
                || d.datasetId().toString().equals(second))).hasSize(2).allSatisfy(d -> assertThat(d.primary().toString()).isEqualTo(NODE_B));
        var inUse = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_B + "\",\"name\":\"n" + name + "\",\"image\":\"x:1\","
                + "\"volumes\":[{\"dataset_id\":\"" + createDataset(NODE_B) + "\",\"mountpoint\":\"/a\"}],"
                + "\"extra_volumes\":[{\"dataset_id\":\"" + second + "\",\"mountpoint\":\"/b\"}]}");
        assertThat(inUse.body().get("description").asText()).isEqualTo("The dataset is being used by another container.");
        var noFirst = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"o" + name + "\",\"image\":\"x:1\","
                + "\"extra_volumes\":[{\"dataset_id\":\"" + createDataset(NODE_A) + "\",\"mountpoint\":\"/b\"}]}");
        assertThat(noFirst.status()).as(noFirst.raw()).isEqualTo(400);

        var plain = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"p" + name + "\",\"image\":\"x:1\"}");
        assertThat(plain.raw()).doesNotContain("read_only", "entrypoint", "init", "healthcheck", "depends_on", "cpus", "extra_volumes", "docker");
        for (var bad : new String[] {"\"cpus\":0", "\"cpus\":2000", "\"init\":\"yes\"", "\"healthcheck\":{\"test\":[\"ECHO\"]}",
                "\"healthcheck\":{\"interval_ms\":5}", "\"depends_on\":[{\"name\":\"other\",\"condition\":\"ready\"}]",
                "\"depends_on\":[{\"name\":\"q" + name + "\"}]", "\"entrypoint\":\"/init\"", "\"docker\":{\"user\":\"a b\"}",
                "\"docker\":{\"working_dir\":\"srv\"}", "\"docker\":{\"labels\":{\"dev.flocker.app\":\"x\"}}", "\"docker\":{\"tmpfs\":[\"run\"]}",
                "\"docker\":{\"stop_signal\":\"please\"}", "\"docker\":{\"privileged\":true}",
                "\"docker\":{\"files\":[{\"target\":\"/x\",\"content\":\"!!\"}]}", "\"docker\":{\"ulimits\":{\"nofile\":{\"soft\":5}}}",
                "\"docker\":{\"ulimits\":{\"nofile\":{\"soft\":5,\"hard\":1}}}", "\"docker\":{\"tty\":\"yes\"}", "\"docker\":{\"files\":[{\"target\":\"x\",\"content\":\"\"}]}"}) {
            var refused = post("/v1/configuration/containers", "{\"node_uuid\":\"" + NODE_A + "\",\"name\":\"q" + name + "\",\"image\":\"x\","
                    + bad + "}");
            assertThat(refused.status()).as(bad + ": " + refused.raw()).isEqualTo(400);
        }
    }

    @Test
    void unknownPathsWrongMethodsAndHugeBodiesGetJsonErrorsNotServerErrors() {
        var unknown = svc.call("GET", "/v1/nothing", null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body().get("description").asText()).isNotBlank();
        assertThat(svc.call("PUT", "/v1/configuration/datasets", "{}").status()).isBetween(400, 499);
        var huge = post("/v1/configuration/datasets", "{\"primary\":\"" + "a".repeat(2 << 20) + "\"}");
        assertThat(huge.status()).isEqualTo(413);
        var hostile = new String[] {"null", "\"s\"", "1e999", "{\"primary\":null}", "{\"primary\":[]}", "{\"primary\":{}}",
                "{\"primary\":\"" + NODE_A + "\",\"maximum_size\":1e30}", "{\"primary\":\"" + NODE_A + "\",\"maximum_size\":99999999999999999999999}",
                "{\"primary\":\"" + NODE_A + "\",\"metadata\":[]}", "{\"primary\":\"" + NODE_A + "\",\"dataset_id\":\"../../etc\"}", "\u0000", "[]"};
        for (var body : hostile) {
            for (var path : new String[] {"/v1/configuration/datasets", "/v1/configuration/leases", "/v1/configuration/containers",
                    "/v1/configuration/datasets/" + DatasetId.random(), "/v1/configuration/containers/x"}) {
                var answer = post(path, body);
                assertThat(answer.status()).as(path + " " + body).isBetween(400, 499);
                assertThat(answer.body()).as(path + " " + body).isNotNull();
            }
        }
    }

    @Test
    void eventsStreamTellsWatchersAboutEveryConfigurationChange() throws Exception {
        var lines = new java.util.concurrent.LinkedBlockingQueue<String>();
        var response = java.net.http.HttpClient.newBuilder().sslContext(RunningService.USER.context()).build().send(
                java.net.http.HttpRequest.newBuilder(svc.api().resolve("/v1/events")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).contains("text/event-stream");
        var reader = Thread.ofVirtual().start(() -> response.body().forEach(lines::add));
        try {
            assertThat(lines.poll(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("event: configuration");
            lines.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            var tag = post("/v1/configuration/datasets", "{\"primary\":\"" + NODE_A + "\"}").tag();
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
            String line;
            boolean seen = false;
            while (!seen && (line = lines.poll(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS)) != null) {
                seen = line.equals("data: {\"tag\":\"" + tag + "\"}");
            }
            assertThat(seen).as("an event with tag %s", tag).isTrue();
        } finally {
            reader.interrupt();
            response.body().close();
        }
    }

    @Test
    void theJavaClientSurfacesFlockerErrors() {
        var client = svc.client();
        var dataset = client.createDataset(NodeId.of(NODE_A), 67108864L, Map.of("name", "c"), null, null);
        assertThat(client.moveDataset(dataset.datasetId(), NodeId.of(NODE_B)).primary()).isEqualTo(NodeId.of(NODE_B));
        try {
            client.moveDataset(DatasetId.random(), NodeId.of(NODE_B));
            throw new AssertionError("expected a 404");
        } catch (FlockerApiException e) {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.description()).isEqualTo("Dataset not found.");
        }
    }
}
