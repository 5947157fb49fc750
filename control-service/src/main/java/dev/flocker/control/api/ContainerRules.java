package dev.flocker.control.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** What makes a container (application) request valid, and a configuration with it consistent; each failure an {@link ApiError}. */
final class ContainerRules {
    static final Set<String> CONTAINER_KEYS = Set.of("node_uuid", "name", "image", "ports", "environment", "restart_policy",
            "command_line", "volumes", "cpu_shares", "memory_limit", "links", "swappiness",
            // our extensions (Compose's entrypoint, init, healthcheck, depends_on, deploy.resources.limits.cpus)
            "entrypoint", "init", "healthcheck", "depends_on", "cpus", "extra_volumes", "docker");

    private ContainerRules() {
    }

    static void validateContainer(JsonNode body) {
        Schema.object(body).only(CONTAINER_KEYS).required("node_uuid", "name", "image").uuid("node_uuid")
                .string("name", 2, 255, Application.NAME).string("image", 1, 1024, Application.IMAGE)
                .array("ports", 1000, p -> Schema.object(p).only(Set.of("internal", "external")).required("internal", "external")
                        .integer("internal", 1, 65535, false).integer("external", 1, 65535, false))
                .stringMap("environment", Integer.MAX_VALUE, 4096, 65536)
                .nested("restart_policy", p -> Schema.object(p).only(Set.of("name", "maximum_retry_count")).required("name")
                        .enumeration("name", Set.of("never", "always", "on-failure")).integer("maximum_retry_count", 1, Integer.MAX_VALUE, false)
                        .check(!p.has("maximum_retry_count") || "on-failure".equals(p.path("name").asText()),
                                "maximum_retry_count is only allowed with name 'on-failure'"))
                .stringArray("command_line")
                .array("volumes", 1, ContainerRules::volume)
                .array("extra_volumes", Application.MAX_VOLUMES - 1, ContainerRules::volume)
                .integer("cpu_shares", 1, 1024, false)
                .integer("memory_limit", 1 << 20, Long.MAX_VALUE, false)
                .array("links", 1000, l -> Schema.object(l).only(Set.of("alias", "local_port", "remote_port"))
                        .required("alias", "local_port", "remote_port").string("alias", 1, 255, Pattern.compile("^[a-zA-Z0-9_-]+$"))
                        .integer("local_port", 1, 65535, false).integer("remote_port", 1, 65535, false))
                .integer("swappiness", 0, 100, false)
                .stringArray("entrypoint")
                .bool("init")
                .nested("healthcheck", h -> Schema.object(h).only(Set.of("test", "interval_ms", "timeout_ms", "start_period_ms", "retries", "start_interval_ms"))
                        .required("test").stringArray("test").integer("interval_ms", 1, 86_400_000L, false)
                        .integer("start_interval_ms", 1, 86_400_000L, false)
                        .integer("timeout_ms", 1, 86_400_000L, false).integer("start_period_ms", 1, 86_400_000L, false)
                        .integer("retries", 1, 1000, false))
                .array("depends_on", 1000, d -> Schema.object(d).only(Set.of("name", "condition")).required("name")
                        .string("name", 2, 255, Application.NAME).enumeration("condition", Set.of("started", "healthy")))
                .number("cpus", 0.01, false)
                .nested("docker", d -> Schema.object(d).only(Set.of("user", "working_dir", "hostname", "labels", "read_only", "tmpfs",
                                "shm_size", "extra_hosts", "stop_signal", "stop_grace_period_ms", "files", "tty", "stdin_open", "dns",
                                "dns_search", "ulimits", "sysctls", "networks", "image_id"))
                        .nested("networks", n -> {
                            var networks = Schema.object(n);
                            n.fieldNames().forEachRemaining(networks::stringArray);
                            return networks;
                        })
                        .string("image_id", 71, 71, java.util.regex.Pattern.compile("sha256:[0-9a-f]{64}"))
                        .bool("tty").bool("stdin_open").stringArray("dns").stringArray("dns_search").stringMap("sysctls", 1000, 128, 4096)
                        .nested("ulimits", u -> {
                            var limits = Schema.object(u);
                            u.fieldNames().forEachRemaining(name -> limits.nested(name, l -> Schema.object(l).only(Set.of("soft", "hard"))
                                    .required("soft", "hard").integer("soft", 0, Long.MAX_VALUE, false).integer("hard", 0, Long.MAX_VALUE, false)));
                            return limits;
                        })
                        .string("user", 1, 256, Pattern.compile("^[^\\s]+$")).string("working_dir", 1, 4096, Pattern.compile("^/.*"))
                        .string("hostname", 1, 253, Pattern.compile(".*")).stringMap("labels", 1000, 4096, 65536).bool("read_only")
                        .stringArray("tmpfs").integer("shm_size", 1 << 20, 1L << 40, false).stringMap("extra_hosts", 1000, 253, 45)
                        .string("stop_signal", 1, 16, Pattern.compile(".*")).integer("stop_grace_period_ms", 0, 3_600_000L, false)
                        .array("files", 1000, f -> Schema.object(f).only(Set.of("target", "content", "mode")).required("target", "content")
                                .string("target", 1, 4096, Pattern.compile("^/.*")).string("content", 0, 2 << 20, Pattern.compile("^[A-Za-z0-9+/=]*$"))
                                .integer("mode", 0, 0777, false)))
                .validate();
    }

    private static Schema volume(JsonNode v) {
        return Schema.object(v).only(Set.of("dataset_id", "mountpoint", "read_only")).required("dataset_id", "mountpoint").uuid("dataset_id")
                .string("mountpoint", 1, 4096, Pattern.compile("^/[\\x20-\\x7e]*$")).bool("read_only");
    }

    static Application parseContainer(JsonNode body) {
        try {
            var app = Json.MAPPER.treeToValue(body, Application.class);
            return app.withImageTagged();
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw ApiError.schema(List.of(FlockerApi.rootMessage(e)));
        }
    }

    /**
     * Every host's proxy listens on every application's external port, so a port another program already listens on at
     * some host's address (the agents report them) cannot become one: refused now, not found later by a failing bind.
     * Ports the configuration already has are not checked again.
     */
    static void checkNewPortsFree(ClusterState cluster, Configuration before, Configuration after) {
        var configured = new HashSet<Integer>();
        before.applications().values().forEach(app -> app.ports().forEach(p -> configured.add(p.external())));
        for (var app : after.applications().values()) {
            for (var port : app.ports()) {
                if (configured.contains(port.external())) {
                    continue;
                }
                for (var node : cluster.nodes().values()) {
                    if (node.busyPorts().contains(port.external())) {
                        throw new ApiError(409, "external port " + port.external() + " of application " + app.name()
                                + " is already used on host " + node.host() + " (node " + node.uuid() + ") by a program other than"
                                + " Flocker; every host's proxy must listen on it: choose another external port");
                    }
                }
            }
        }
    }

    static void checkContainer(Configuration config, Application application) {
        var ports = new HashSet<Integer>();
        for (var other : config.applications().values()) {
            other.ports().forEach(p -> ports.add(p.external()));
        }
        for (var port : application.ports()) {
            if (!ports.add(port.external())) {
                throw ApiError.containerPortCollision();
            }
        }
        var localPorts = new HashSet<Integer>();
        var aliases = new HashSet<String>();
        for (var link : application.links()) {
            if (!localPorts.add(link.localPort())) {
                throw ApiError.linkPortCollision();
            }
            if (!aliases.add(link.alias().toLowerCase())) {
                throw ApiError.linkAliasCollision();
            }
        }
        for (var volume : application.allVolumes()) {
            var dataset = config.datasets().get(volume.datasetId());
            if (dataset == null || dataset.deleted()) {
                throw ApiError.datasetNotFound();
            }
            if (!dataset.primary().equals(application.node())) {
                throw ApiError.datasetOnDifferentNode();
            }
            boolean used = config.applications().values().stream()
                    .anyMatch(a -> a.usesDataset(volume.datasetId()));
            if (used) {
                throw ApiError.datasetInUse();
            }
        }
    }
}
