package dev.flocker.control.api;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The big answers, rendered once per configuration or cluster state and served many times (10,000 datasets): the
 * dataset list, kept per dataset so a write re-serialises only what changed, and the datasets' state.
 */
final class RenderedViews {
    private record Rendered(Object source, RawJson json) {
    }

    private volatile Rendered datasetsRendered;
    private volatile Rendered stateRendered;

    private record DatasetJson(Dataset dataset, byte[] json) {
    }

    private final Map<DatasetId, DatasetJson> datasetJson = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The dataset list, in {@link DatasetBlocks#BLOCKS} blocks by the ids' first 10 bits, each kept as JSON and
     * deflated between versions: after a change only the changed datasets are serialised again and only their blocks
     * compressed again, which keeps a 100,000-dataset list cheap to re-render (and gzip) on every write.
     */
    private final DatasetBlocks blocks = new DatasetBlocks();
    private final DatasetBlocks.Changes changes;

    RenderedViews(DatasetBlocks.Changes changes) {
        this.changes = changes;
    }

    private synchronized RawJson renderDatasets(Configuration config) {
        var json = blocks.render(config, dataset -> {
            var cached = datasetJson.get(dataset.datasetId());
            if (cached == null || (cached.dataset() != dataset && !cached.dataset().equals(dataset))) {
                cached = new DatasetJson(dataset, Json.write(dataset).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                datasetJson.put(dataset.datasetId(), cached);
            }
            return cached.json();
        }, changes);
        if (datasetJson.size() > config.datasets().size() * 2 + 100) {
            datasetJson.keySet().retainAll(config.datasets().keySet());
        }
        return json;
    }

    /** The dataset list of {@code config}, rendered once. */
    RawJson datasets(Configuration config) {
        var cached = datasetsRendered;
        if (cached == null || cached.source() != config) {
            cached = render(config, () -> datasetsRendered, r -> datasetsRendered = r, () -> renderDatasets(config));
        }
        return cached.json();
    }

    /** Where each dataset is in {@code cluster}, with the moves in flight, rendered once. */
    RawJson datasetState(ClusterState cluster) {
        var cached = stateRendered;
        if (cached == null || cached.source() != cluster) {
            cached = render(cluster, () -> stateRendered, r -> stateRendered = r, () -> new RawJson(Json.write(renderDatasetState(cluster))));
        }
        return cached.json();
    }

    /** One thread renders {@code source}; the others that want the same wait for it rather than render it again. */
    private synchronized Rendered render(Object source, java.util.function.Supplier<Rendered> current,
                                         java.util.function.Consumer<Rendered> keep, java.util.function.Supplier<RawJson> renderer) {
        var cached = current.get();
        if (cached == null || cached.source() != source) {
            cached = new Rendered(source, renderer.get());
            keep.accept(cached);
        }
        return cached;
    }

    /**
     * Each standby as the primary reports it, with its lag: how old the newest snapshot it holds is (writes since then are
     * not on it), as of this rendering, and the bytes of the increment on its way to it.
     */
    private static java.util.List<Map<String, Object>> standbys(java.util.List<dev.flocker.api.model.NodeState.StandbyState> standbys) {
        var now = java.time.Instant.now();
        return standbys.stream().map(s -> {
            var row = new LinkedHashMap<String, Object>();
            row.put("node_uuid", s.node());
            if (s.snapshotTime() != null) {
                row.put("snapshot_time", s.snapshotTime());
                row.put("lag_seconds", Math.max(0, java.time.Duration.between(s.snapshotTime(), now).toMillis()) / 1000.0);
            }
            row.put("lag_bytes", s.sendingBytes());
            if (s.error() != null) {
                row.put("error", s.error());
            }
            return (Map<String, Object>) row;
        }).toList();
    }

    /**
     * Where each dataset is. Two hosts both report a writable copy for a moment in each handoff: the new owner as soon as
     * its copy is mounted, the old one until its next report after the pass. The newer ownership generation is the
     * owner (the old copy records the new owner already); hosts are taken in a fixed order, so equal ones cannot flip.
     */
    private static java.util.Collection<Map<String, Object>> renderDatasetState(ClusterState cluster) {
        var result = new LinkedHashMap<DatasetId, Map<String, Object>>();
        var shownGeneration = new java.util.HashMap<DatasetId, Long>();
        var nodes = cluster.nodes().values().stream().sorted(java.util.Comparator.comparing(n -> n.uuid().toString())).toList();
        for (var node : nodes) {
            for (var ds : node.datasets()) {
                var entry = result.computeIfAbsent(ds.datasetId(), k -> new LinkedHashMap<>(Map.of("dataset_id", k)));
                if (ds.maximumSize() != null) {
                    entry.put("maximum_size", ds.maximumSize());
                }
                var shown = shownGeneration.get(ds.datasetId());
                if (ds.primary() && ds.path() != null && (shown == null || ds.generation() > shown)) {
                    shownGeneration.put(ds.datasetId(), ds.generation());
                    entry.remove("used_bytes");
                    entry.remove("standbys");
                    entry.put("primary", node.uuid());
                    entry.put("path", ds.path());
                    if (ds.usedBytes() != null) {
                        entry.put("used_bytes", ds.usedBytes()); // beyond Flocker: what the writable copy holds
                    }
                    if (!ds.standbys().isEmpty()) {
                        entry.put("standbys", standbys(ds.standbys())); // beyond Flocker: replication to standby copies
                    }
                }
            }
        }
        for (var move : cluster.moves()) {
            var entry = result.get(move.datasetId());
            if (entry != null) {
                entry.put("move", move);
            }
        }
        return result.values();
    }
}
