package dev.flocker.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.Lease;
import dev.flocker.api.model.Standbys;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.control.store.ConfigurationStore;
import dev.flocker.control.store.NodeStateStore;
import dev.flocker.control.store.TagMismatchException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The logic of Flocker's v1 HTTP API: validates requests, applies them to the configuration by
 * compare-and-set, and renders configuration and cluster state in Flocker's JSON form. Transport-free;
 * {@link HttpApiServer} maps HTTP onto it.
 */
public final class FlockerApi {
    public static final String VERSION = "1.15.0";
    static final Set<String> CREATE_DATASET_KEYS = Set.of("primary", "dataset_id", "maximum_size", "metadata", "replicas",
            "standby_nodes");
    static final Set<String> LEASE_KEYS = Set.of("dataset_id", "node_uuid", "expires");

    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final Clock clock;
    private final java.util.function.IntSupplier replicas;
    private final RenderedViews views;
    private final java.util.function.Function<String, io.micrometer.core.instrument.Counter> writes;

    /** @param replicas how many control-service replicas this one currently sees (itself included) */
    public FlockerApi(ConfigurationStore configuration, NodeStateStore state, Clock clock, java.util.function.IntSupplier replicas,
                      io.micrometer.core.instrument.MeterRegistry metrics) {
        this.configuration = configuration;
        this.views = new RenderedViews(configuration::datasetsChanged);
        this.state = state;
        this.clock = clock;
        this.replicas = replicas;
        this.writes = outcome -> io.micrometer.core.instrument.Counter.builder("flocker.configuration.writes").tag("outcome", outcome)
                .description("Configuration writes by outcome: ok, conflict (412: a stale X-If-Configuration-Matches), no_majority (503)")
                .register(metrics);
    }

    /**
     * Renders the dataset list of the configuration as it is now, ahead of its first read: after a restart the first
     * reader (a client listing every dataset, a script's first request) would otherwise wait for the whole list's first
     * rendering in a JVM that is still cold (seconds at 100,000 datasets). A reader that comes meanwhile waits for this
     * rendering rather than start its own.
     */
    public void renderAhead() {
        views.datasets(configuration.current());
    }

    /** Beyond Flocker: what an operator or a load balancer checks. */
    Reply health() {
        var config = configuration.current();
        var body = new LinkedHashMap<String, Object>();
        body.put("replicas", replicas.getAsInt());
        body.put("configuration_tag", config.tag());
        body.put("nodes", state.current().nodes().size());
        var runtime = Runtime.getRuntime();
        body.put("heap_used_bytes", runtime.totalMemory() - runtime.freeMemory());
        return Reply.ok(body).withTag(config.tag());
    }

    Reply version() {
        return Reply.ok(Map.of("flocker", VERSION));
    }

    // ---- datasets -------------------------------------------------------------------------------

    Reply listDatasets() {
        var config = configuration.current();
        return Reply.ok(views.datasets(config)).withTag(config.tag());
    }

    Reply createDataset(String ifMatches, Supplier<JsonNode> request) {
        ifMatches = checkTag(ifMatches);
        var body = request.get();
        var schema = Schema.object(body).only(CREATE_DATASET_KEYS).required("primary").uuid("primary").uuid("dataset_id")
                .integer("maximum_size", Dataset.MIN_SIZE, Long.MAX_VALUE, true).multipleOf("maximum_size", 1024)
                .stringMap("metadata", 16, 256, 256)
                .check(printable(body.get("metadata")), "metadata: keys and values must not contain control characters");
        replicasSchema(schema, body).validate();
        var id = body.hasNonNull("dataset_id") ? DatasetId.of(body.get("dataset_id").asText()) : DatasetId.random();
        var created = new Dataset(id, NodeId.of(body.get("primary").asText()), false, metadata(body.get("metadata")),
                body.hasNonNull("maximum_size") ? body.get("maximum_size").asLong() : null);
        var after = update(ifMatches, config -> {
            if (config.datasets().containsKey(id)) {
                throw ApiError.datasetIdCollision();
            }
            return config.withDataset(withReplicas(created, body, config));
        });
        return Reply.created(after.datasets().get(id)).withTag(after.tag());
    }

    /** No control characters in an object's keys and text values: names end up in logs, listings and Docker. */
    private static boolean printable(JsonNode object) {
        if (object == null || !object.isObject()) {
            return true;
        }
        for (var entry : object.properties()) {
            if (hasControl(entry.getKey()) || (entry.getValue().isTextual() && hasControl(entry.getValue().asText()))) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasControl(String text) {
        return text.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
    }

    /** Moves (primary) and, beyond Flocker, resizes (maximum_size); lenient about unknown keys, as old clients need. */
    Reply updateDataset(String ifMatches, String rawId, Supplier<JsonNode> request) {
        ifMatches = checkTag(ifMatches);
        var body = request.get();
        var schema = Schema.object(body);
        if (schema.ok() && !body.has("primary") && body.has("Primary")) {
            ((ObjectNode) body).set("primary", body.get("Primary"));
        }
        schema.uuid("primary").integer("maximum_size", Dataset.MIN_SIZE, Long.MAX_VALUE, true).multipleOf("maximum_size", 1024);
        replicasSchema(schema, body).validate();
        var id = datasetId(rawId);
        var after = update(ifMatches, config -> {
            var dataset = config.dataset(id).orElseThrow(ApiError::datasetNotFound);
            if (dataset.deleted()) {
                throw ApiError.datasetDeleted();
            }
            var changed = dataset;
            if (body.hasNonNull("primary")) {
                changed = changed.withPrimary(NodeId.of(body.get("primary").asText()));
            }
            if (body.has("maximum_size")) {
                changed = changed.withMaximumSize(body.get("maximum_size").isNull() ? null : body.get("maximum_size").asLong());
            }
            changed = withReplicas(changed, body, config);
            return changed.equals(dataset) ? config : config.withDataset(changed);
        });
        return Reply.ok(after.datasets().get(id)).withTag(after.tag());
    }

    Reply deleteDataset(String ifMatches, String rawId) {
        ifMatches = checkTag(ifMatches);
        var id = datasetId(rawId);
        var after = update(ifMatches, config -> {
            var dataset = config.dataset(id).orElseThrow(ApiError::datasetNotFound);
            return dataset.deleted() ? config : config.withDataset(dataset.asDeleted(clock.instant()));
        });
        return Reply.ok(after.datasets().get(id)).withTag(after.tag());
    }

    Reply datasetState() {
        var config = configuration.current();
        return Reply.ok(views.datasetState(state.current())).withTag(config.tag());
    }

    // ---- nodes and moves ------------------------------------------------------------------------

    Reply nodes() {
        return Reply.ok(state.current().nodes().values().stream()
                .map(n -> Map.of("host", n.host(), "uuid", n.uuid())).toList());
    }

    Reply nodeByEra(String era) {
        return state.current().nodes().values().stream().filter(n -> era.equals(n.era())).findFirst()
                .map(n -> Reply.ok(Map.of("uuid", n.uuid()))).orElseThrow(ApiError::nodeByEraNotFound);
    }

    Reply moves() {
        return Reply.ok(state.current().moves());
    }

    // ---- leases ---------------------------------------------------------------------------------

    Reply listLeases() {
        var config = configuration.current();
        var now = clock.instant();
        return Reply.ok(config.leases().values().stream().filter(l -> !l.expired(now)).map(l -> leaseJson(l, now)).toList())
                .withTag(config.tag());
    }

    Reply acquireLease(Supplier<JsonNode> request) {
        var body = request.get();
        Schema.object(body).only(LEASE_KEYS).required("dataset_id", "node_uuid", "expires").uuid("dataset_id").uuid("node_uuid")
                .number("expires", 0, true).validate();
        var id = DatasetId.of(body.get("dataset_id").asText());
        var node = NodeId.of(body.get("node_uuid").asText());
        var now = clock.instant();
        var expiresAt = body.get("expires").isNull() ? null : now.plusMillis((long) (body.get("expires").asDouble() * 1000));
        var lease = new Lease(id, node, expiresAt);
        boolean[] renewed = {false};
        var after = update(null, config -> {
            var existing = config.leases().get(id);
            if (existing != null && !existing.expired(now)) {
                if (!existing.node().equals(node)) {
                    throw ApiError.leaseHeld();
                }
                renewed[0] = true;
            }
            return config.withLease(lease);
        });
        var json = leaseJson(after.leases().get(id), now);
        return (renewed[0] ? Reply.ok(json) : Reply.created(json)).withTag(after.tag());
    }

    Reply releaseLease(String rawId) {
        var id = datasetId(rawId);
        var now = clock.instant();
        Lease[] released = {null};
        var after = update(null, config -> {
            var lease = config.leases().get(id);
            if (lease == null || lease.expired(now)) {
                throw ApiError.leaseNotFound();
            }
            released[0] = lease;
            return config.withoutLease(id);
        });
        return Reply.ok(leaseJson(released[0], now)).withTag(after.tag());
    }

    private static Map<String, Object> leaseJson(Lease lease, java.time.Instant now) {
        var json = new LinkedHashMap<String, Object>();
        json.put("dataset_id", lease.datasetId());
        json.put("node_uuid", lease.node());
        json.put("expires", lease.secondsLeft(now));
        return json;
    }

    // ---- containers (applications) --------------------------------------------------------------

    Reply listContainers() {
        var config = configuration.current();
        return Reply.ok(config.applications().values()).withTag(config.tag());
    }

    Reply createContainer(Supplier<JsonNode> request) {
        var body = request.get();
        ContainerRules.validateContainer(body);
        var application = ContainerRules.parseContainer(body);
        var after = update(null, config -> {
            if (config.applications().containsKey(application.name())) {
                throw ApiError.containerNameCollision();
            }
            ContainerRules.checkContainer(config, application);
            var next = config.withApplication(application);
            ContainerRules.checkNewPortsFree(state.current(), config, next);
            return next;
        });
        return Reply.created(after.applications().get(application.name())).withTag(after.tag());
    }

    /** Moves an application, and its dataset with it, to another node. */
    Reply moveContainer(String name, Supplier<JsonNode> request) {
        var body = request.get();
        Schema.object(body).only(Set.of("node_uuid")).required("node_uuid").uuid("node_uuid").validate();
        var node = NodeId.of(body.get("node_uuid").asText());
        var after = update(null, config -> {
            var application = config.applications().get(name);
            if (application == null) {
                throw ApiError.containerNotFound();
            }
            if (application.node().equals(node)) {
                return config;
            }
            var moved = config.withApplication(application.withNode(node));
            for (var volume : application.allVolumes()) {
                var dataset = config.datasets().get(volume.datasetId());
                if (dataset != null) {
                    moved = moved.withDataset(dataset.withPrimary(node));
                }
            }
            return moved;
        });
        return Reply.ok(after.applications().get(name)).withTag(after.tag());
    }

    Reply deleteContainer(String name) {
        var after = update(null, config -> {
            if (!config.applications().containsKey(name)) {
                throw ApiError.containerNotFound();
            }
            return config.withoutApplication(name);
        });
        return new Reply(200, null, Map.of()).withTag(after.tag());
    }

    Reply containerState() {
        var result = new ArrayList<Map<String, Object>>();
        for (NodeState node : state.current().nodes().values()) {
            for (var app : node.applications()) {
                var json = new LinkedHashMap<String, Object>();
                json.put("node_uuid", node.uuid());
                json.put("name", app.name());
                json.put("image", app.image());
                json.put("running", app.running());
                if (app.ports() != null && !app.ports().isEmpty()) {
                    json.put("ports", app.ports());
                }
                if (app.error() != null) {
                    json.put("error", app.error()); // our extension: why it does not run there
                }
                result.add(json);
            }
        }
        return Reply.ok(result);
    }

    // ---- compose (private API used by flocker-deploy) ------------------------------------------------

    /**
     * Replaces the whole deployment with {@code {"applications": <application file>, "deployment": <deployment file>}};
     * conditional on {@code X-If-Configuration-Matches} when sent (flocker-deploy sends the tag its plan was made from).
     */
    Reply compose(String ifMatches, Supplier<JsonNode> request) {
        checkTag(ifMatches);
        var body = request.get();
        Schema.object(body).only(Set.of("applications", "deployment")).required("applications", "deployment").validate();
        Object applications = Json.MAPPER.convertValue(body.get("applications"), Object.class);
        Object deployment = Json.MAPPER.convertValue(body.get("deployment"), Object.class);
        try {
            var apps = dev.flocker.compose.ApplicationFile.parse(applications);
            var placement = dev.flocker.compose.DeploymentFile.parse(deployment);
            var standbys = dev.flocker.compose.DeploymentFile.standbys(deployment);
            var cluster = state.current();
            var after = update(ifMatches, config -> {
                var next = dev.flocker.compose.Deployment.apply(config, cluster, apps, placement, standbys);
                ContainerRules.checkNewPortsFree(cluster, config, next);
                return next;
            });
            return new Reply(200, null, Map.of()).withTag(after.tag());
        } catch (dev.flocker.compose.ConfigurationError e) {
            throw new ApiError(400, e.getMessage());
        }
    }

    // ---- standbys (beyond Flocker) --------------------------------------------------------------

    /** {@code schema} with the checks of {@code replicas} and {@code standby_nodes} added. */
    private static Schema replicasSchema(Schema schema, JsonNode body) {
        if (!schema.ok() && (body == null || !body.isObject())) {
            return schema;
        }
        schema.integer("replicas", 0, Dataset.MAX_REPLICAS, false).array("standby_nodes", Dataset.MAX_REPLICAS,
                item -> Schema.object(Json.MAPPER.createObjectNode().set("node", item)).uuid("node"));
        if (schema.ok() && body.hasNonNull("standby_nodes") && body.hasNonNull("replicas")
                && body.get("standby_nodes").size() > body.get("replicas").asInt()) {
            schema.check(false, "standby_nodes: names " + body.get("standby_nodes").size() + " nodes but replicas is " + body.get("replicas")
                    + "; name at most as many nodes as replicas");
        }
        return schema;
    }

    /**
     * {@code dataset} with the request's {@code replicas} and {@code standby_nodes} (when it has either): named standbys are
     * kept, the rest chosen by {@link Standbys}. A named node must be one this cluster knows and not the primary, and
     * there must be enough other nodes: else 400 or 409 naming the field, and nothing changes.
     */
    private Dataset withReplicas(Dataset dataset, JsonNode body, Configuration config) {
        if (!body.hasNonNull("replicas") && !body.hasNonNull("standby_nodes")) {
            return dataset;
        }
        var cluster = state.current();
        var pinned = new java.util.ArrayList<NodeId>();
        if (body.hasNonNull("standby_nodes")) {
            for (var item : body.get("standby_nodes")) {
                var node = NodeId.of(item.asText());
                if (cluster.node(node).isEmpty() && !cluster.offline().containsKey(node)) {
                    throw new ApiError(400, "standby_nodes: " + node + " is not a node of this cluster (GET /v1/state/nodes lists them)");
                }
                if (node.equals(dataset.primary())) {
                    throw new ApiError(400, "standby_nodes: " + node + " is the dataset's primary; a standby is another node");
                }
                pinned.add(node);
            }
        }
        int count = body.hasNonNull("replicas") ? body.get("replicas").asInt() : Math.max(dataset.replicas(), pinned.size());
        var chosen = Standbys.choose(dataset, count, pinned, config, cluster);
        if (chosen.size() < count) {
            throw new ApiError(409, "replicas: " + count + " standby copies need " + count + " nodes besides the primary " + dataset.primary()
                    + ", and this cluster has " + chosen.size() + " other node(s) reporting; add nodes or ask for fewer");
        }
        return dataset.withReplicas(count, chosen);
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Flocker checks the tag before anything else, so a stale writer learns that first. */
    private String checkTag(String ifMatches) {
        if (ifMatches != null && !ifMatches.equals(configuration.current().tag())) {
            // The local copy may lag a write made through another replica: ask the cluster before refusing.
            var tag = configuration.latest().tag();
            if (!ifMatches.equals(tag)) {
                writes.apply("conflict").increment();
                throw new ApiError(412, new TagMismatchException(ifMatches, tag).getMessage());
            }
        }
        return ifMatches;
    }

    private Configuration update(String ifMatches, java.util.function.UnaryOperator<Configuration> change) {
        try {
            var after = configuration.update(ifMatches, change);
            writes.apply("ok").increment();
            return after;
        } catch (TagMismatchException e) {
            writes.apply("conflict").increment();
            throw new ApiError(412, e.getMessage());
        } catch (ConfigurationStore.NoMajorityException e) {
            writes.apply("no_majority").increment();
            throw new ApiError(503, e.getMessage());
        }
    }

    private static DatasetId datasetId(String raw) {
        if (!DatasetId.isValid(raw)) {
            throw ApiError.datasetNotFound();
        }
        return DatasetId.of(raw);
    }

    private static Map<String, String> metadata(JsonNode node) {
        var map = new LinkedHashMap<String, String>();
        if (node != null && node.isObject()) {
            node.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        }
        return map;
    }

    static String rootMessage(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return e.getMessage();
    }

    /** For the incident id of unexpected errors. */
    static String incident() {
        return UUID.randomUUID().toString();
    }

    ClusterState clusterState() {
        return state.current();
    }

    Configuration currentConfiguration() {
        return configuration.current();
    }
}
