package dev.flocker.api.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.tls.TlsFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/** A Java client of the control service's Flocker v1 API, used by the CLI, the agent and the Docker plugin. */
public final class FlockerClient {
    private static final int CONDITIONAL_RETRIES = 20;
    private final URI base;
    private final HttpClient http;

    /**
     * @param base e.g. {@code https://10.0.0.1:4523}
     * @param tls  this user's certificate and the cluster CA: the control service requires both
     */
    public FlockerClient(URI base, TlsFiles tls) {
        if (!"https".equals(base.getScheme())) {
            throw new IllegalArgumentException("the control service speaks HTTPS only: " + base);
        }
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(tls.context()).build();
    }

    /** A value with the configuration tag it was read at. */
    public record Tagged<T>(T value, String tag) {
    }

    /** One entry of {@code GET /v1/state/datasets}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record DatasetStateView(@JsonProperty("dataset_id") DatasetId datasetId, @JsonProperty("primary") NodeId primary,
                                   @JsonProperty("path") String path, @JsonProperty("maximum_size") Long maximumSize,
                                   @JsonProperty("move") NodeState.MoveState move, @JsonProperty("used_bytes") Long usedBytes,
                                   @JsonProperty("standbys") List<StandbyView> standbys) {
        public DatasetStateView {
            standbys = standbys == null ? List.of() : List.copyOf(standbys);
        }
    }

    /** A standby copy as the primary reports it (beyond Flocker): its lag is how old the newest snapshot it holds is. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record StandbyView(@JsonProperty("node_uuid") NodeId node, @JsonProperty("snapshot_time") java.time.Instant snapshotTime,
                              @JsonProperty("lag_seconds") Double lagSeconds, @JsonProperty("lag_bytes") Long lagBytes,
                              @JsonProperty("error") String error) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NodeView(@JsonProperty("uuid") NodeId uuid, @JsonProperty("host") String host) {
    }

    @Override
    public String toString() {
        return base.toString();
    }

    public String version() {
        return call("GET", "/v1/version", null, null).body().get("flocker").asText();
    }

    public Tagged<List<Dataset>> datasets() {
        var response = call("GET", "/v1/configuration/datasets", null, null);
        return new Tagged<>(convert(response.body(), new TypeReference<>() { }), response.tag());
    }

    public Dataset createDataset(NodeId primary, Long maximumSize, Map<String, String> metadata, DatasetId id, String ifMatches) {
        return createDataset(primary, maximumSize, metadata, id, ifMatches, 0);
    }

    /** As above, with {@code replicas} standby copies (beyond Flocker; 0: none, and the request is Flocker's own). */
    public Dataset createDataset(NodeId primary, Long maximumSize, Map<String, String> metadata, DatasetId id, String ifMatches, int replicas) {
        var body = new LinkedHashMap<String, Object>();
        body.put("primary", primary);
        if (replicas > 0) {
            body.put("replicas", replicas);
        }
        if (id != null) {
            body.put("dataset_id", id);
        }
        if (maximumSize != null) {
            body.put("maximum_size", maximumSize);
        }
        if (metadata != null && !metadata.isEmpty()) {
            body.put("metadata", metadata);
        }
        return convert(call("POST", "/v1/configuration/datasets", body, ifMatches).body(), new TypeReference<>() { });
    }

    /**
     * Reads the datasets, lets {@code decide} choose a write from what it saw, and sends it conditionally on the
     * tag it read, retrying on a concurrent change (as Flocker's Python client does). {@code decide} returns null
     * to write nothing.
     */
    public <T> T conditionally(java.util.function.Function<Tagged<List<Dataset>>, java.util.function.Function<String, T>> decide) {
        for (int attempt = 1; ; attempt++) {
            var seen = datasets();
            var write = decide.apply(seen);
            if (write == null) {
                return null;
            }
            try {
                return write.apply(seen.tag());
            } catch (FlockerApiException e) {
                if (e.status() != 412 || attempt >= CONDITIONAL_RETRIES) {
                    throw e;
                }
            }
        }
    }

    public Dataset moveDataset(DatasetId id, NodeId primary) {
        return convert(call("POST", "/v1/configuration/datasets/" + id, Map.of("primary", primary), null).body(), new TypeReference<>() { });
    }

    public Dataset resizeDataset(DatasetId id, Long maximumSize) {
        var body = new LinkedHashMap<String, Object>();
        body.put("maximum_size", maximumSize);
        return convert(call("POST", "/v1/configuration/datasets/" + id, body, null).body(), new TypeReference<>() { });
    }

    /** Beyond Flocker: asks for {@code replicas} standby copies of the dataset, on {@code standbyNodes} (empty: the service picks). */
    public Dataset setReplicas(DatasetId id, int replicas, List<NodeId> standbyNodes) {
        var body = new LinkedHashMap<String, Object>();
        body.put("replicas", replicas);
        if (!standbyNodes.isEmpty()) {
            body.put("standby_nodes", standbyNodes);
        }
        return convert(call("POST", "/v1/configuration/datasets/" + id, body, null).body(), new TypeReference<>() { });
    }

    /** {@code GET /v1/state/datasets} as JSON, with what the typed view leaves out (moves, standbys and their lag). */
    public JsonNode datasetStateJson() {
        return call("GET", "/v1/state/datasets", null, null).body();
    }

    public Dataset deleteDataset(DatasetId id) {
        return convert(call("DELETE", "/v1/configuration/datasets/" + id, null, null).body(), new TypeReference<>() { });
    }

    public List<DatasetStateView> datasetState() {
        return convert(call("GET", "/v1/state/datasets", null, null).body(), new TypeReference<>() { });
    }

    public List<NodeView> nodes() {
        return convert(call("GET", "/v1/state/nodes", null, null).body(), new TypeReference<>() { });
    }

    public List<NodeState.MoveState> moves() {
        return convert(call("GET", "/v1/state/moves", null, null).body(), new TypeReference<>() { });
    }

    public JsonNode acquireLease(DatasetId id, NodeId node, Double expiresSeconds) {
        var body = new LinkedHashMap<String, Object>();
        body.put("dataset_id", id);
        body.put("node_uuid", node);
        body.put("expires", expiresSeconds);
        return call("POST", "/v1/configuration/leases", body, null).body();
    }

    public JsonNode releaseLease(DatasetId id) {
        return call("DELETE", "/v1/configuration/leases/" + id, null, null).body();
    }

    /** Beyond Flocker: the replicas this one sees, the configuration tag, the nodes reporting, heap. */
    public JsonNode health() {
        return call("GET", "/v1/_health", null, null).body();
    }

    public JsonNode leases() {
        return call("GET", "/v1/configuration/leases", null, null).body();
    }

    /** The node holding a live lease on {@code dataset}, if any. */
    public java.util.Optional<NodeId> leaseHolder(DatasetId dataset) {
        for (var lease : leases()) {
            if (lease.path("dataset_id").asText().equals(dataset.toString())) {
                return java.util.Optional.of(NodeId.of(lease.path("node_uuid").asText()));
            }
        }
        return java.util.Optional.empty();
    }

    public List<Application> containers() {
        return convert(call("GET", "/v1/configuration/containers", null, null).body(), new TypeReference<>() { });
    }

    public Application createContainer(Application application) {
        return convert(call("POST", "/v1/configuration/containers", application, null).body(), new TypeReference<>() { });
    }

    /** Moves an application, and the dataset of its volume with it, to {@code node}. */
    public Application moveContainer(String name, NodeId node) {
        return convert(call("POST", "/v1/configuration/containers/" + name, Map.of("node_uuid", node.toString()), null).body(),
                new TypeReference<>() { });
    }

    /**
     * One entry of {@code GET /v1/state/containers}: where an application's container is and whether it runs; with
     * {@code error} (ours) when the agent there could not start it.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ContainerStateView(@JsonProperty("name") String name, @JsonProperty("node_uuid") NodeId node,
                                     @JsonProperty("running") boolean running, @JsonProperty("error") String error) {
    }

    public List<ContainerStateView> containerState() {
        return convert(call("GET", "/v1/state/containers", null, null).body(), new TypeReference<>() { });
    }

    /** The applications with the configuration tag they were read at. */
    public Tagged<List<Application>> containersTagged() {
        var response = call("GET", "/v1/configuration/containers", null, null);
        return new Tagged<>(convert(response.body(), new TypeReference<>() { }), response.tag());
    }

    /**
     * Replaces the whole deployment ({@code POST /v1/configuration/_compose}) with an application file and a deployment
     * file as parsed from YAML; conditional on {@code ifMatches} when not null (412 when the configuration changed).
     */
    public String compose(Object applications, Object deployment, String ifMatches) {
        var body = new LinkedHashMap<String, Object>();
        body.put("applications", applications);
        body.put("deployment", deployment);
        return call("POST", "/v1/configuration/_compose", body, ifMatches).tag();
    }

    public void deleteContainer(String name) {
        call("DELETE", "/v1/configuration/containers/" + name, null, null);
    }

    /** Whether the control service holds image {@code id} ({@code sha256:<hex>}), uploaded by {@link #uploadImage}. */
    public boolean hasImage(String id) {
        return send(HttpRequest.newBuilder(imageUri(id)).timeout(Duration.ofSeconds(30)).method("HEAD", HttpRequest.BodyPublishers.noBody()),
                HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    }

    /** Uploads {@code docker save}'s archive of image {@code id}, streamed from {@code archive}. */
    public void uploadImage(String id, java.util.function.Supplier<java.io.InputStream> archive) {
        var response = send(HttpRequest.newBuilder(imageUri(id)).timeout(Duration.ofHours(1)).header("Content-Type", "application/x-tar")
                .PUT(HttpRequest.BodyPublishers.ofInputStream(archive)), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 400) {
            throw failure(response.statusCode(), response.body());
        }
    }

    /** Image {@code id}'s archive as uploaded, to read (and close) as it arrives; a {@link FlockerApiException} when absent. */
    public java.io.InputStream downloadImage(String id) {
        var response = send(HttpRequest.newBuilder(imageUri(id)).timeout(Duration.ofHours(1)).GET(), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() >= 400) {
            try (var body = response.body()) {
                throw failure(response.statusCode(), new String(body.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new FlockerApiException(response.statusCode(), "GET " + imageUri(id) + " answered " + response.statusCode(), List.of());
            }
        }
        return response.body();
    }

    private URI imageUri(String id) {
        return base.resolve("/v1/images/" + id);
    }

    /** Sends one request; an unreachable service or a refused certificate as a {@link FlockerApiException}. */
    private <T> HttpResponse<T> send(HttpRequest.Builder builder, HttpResponse.BodyHandler<T> handler) {
        var request = builder.build();
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw revoked(e).orElseGet(() -> new FlockerApiException(0, "cannot reach the control service at " + base + ": " + e, List.of()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FlockerApiException(0, "interrupted while calling " + request.uri(), List.of());
        }
    }

    /** An error answer's description and errors (Flocker's {@code {"description": ..., "errors": [...]}}), else its text. */
    private static FlockerApiException failure(int status, String body) {
        JsonNode json = null;
        try {
            json = body.isEmpty() ? null : Json.MAPPER.readTree(body);
        } catch (IOException e) {
            // not JSON: the body as it is
        }
        return failure(status, json, body);
    }

    private static FlockerApiException failure(int status, JsonNode json, String body) {
        var description = json != null && json.has("description") ? json.get("description").asText() : json != null ? String.valueOf(json) : body;
        List<String> errors = json != null && json.has("errors") ? convert(json.get("errors"), new TypeReference<>() { }) : List.of();
        return new FlockerApiException(status, description, errors);
    }

    private record Response(int status, JsonNode body, String tag) {
    }

    private Response call(String method, String path, Object body, String ifMatches) {
        var request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(Json.write(body)));
        if (ifMatches != null) {
            request.header("X-If-Configuration-Matches", ifMatches);
        }
        var response = send(request, HttpResponse.BodyHandlers.ofString());
        JsonNode json;
        try {
            json = response.body().isEmpty() ? null : Json.MAPPER.readTree(response.body());
        } catch (IOException e) {
            throw new FlockerApiException(response.statusCode(), "unreadable answer from " + path + ": " + response.body(), List.of());
        }
        if (response.statusCode() >= 400) {
            throw failure(response.statusCode(), json, String.valueOf(json));
        }
        return new Response(response.statusCode(), json, response.headers().firstValue("X-Configuration-Tag").orElse(null));
    }

    /**
     * A handshake that failed over a revoked certificate, as a refusal (403) that says whose: this client's (the service
     * answered {@code certificate_revoked}) or the control service's (this client's revocation list names it).
     */
    private java.util.Optional<FlockerApiException> revoked(IOException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.security.cert.CertificateRevokedException revoked) {
                return java.util.Optional.of(new FlockerApiException(403, "refused the control service at " + base + ": its "
                        + revoked.getMessage() + "; the cluster revoked it, so this may not be the cluster's control service", List.of()));
            }
            if (cause instanceof javax.net.ssl.SSLException && String.valueOf(cause.getMessage()).contains("certificate_revoked")) {
                return java.util.Optional.of(new FlockerApiException(403, "the control service at " + base + " refused this client's"
                        + " certificate: it was revoked (flocker-ca revoke); ask the cluster's administrator for a new one", List.of()));
            }
        }
        return java.util.Optional.empty();
    }

    private static <T> T convert(JsonNode node, TypeReference<T> type) {
        return Json.MAPPER.convertValue(node, type);
    }

    /** Convenience for {@link #conditionally}: a decision that writes nothing. */
    public static <T> java.util.function.Function<String, T> nothing() {
        return null;
    }

}
