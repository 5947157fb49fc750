package dev.flocker.plugin;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which Docker mounts hold each volume on this host: a count per caller {@code ID} (Docker nests Mount/Unmount pairs
 * of one ID, e.g. {@code docker cp} on a running container). Kept in a file so a restarted agent still knows which
 * volumes its containers use and keeps their leases. Thread-safe; when each volume was last mounted is kept in memory only.
 */
final class Mounts {
    /** One volume's mounts on this host. */
    record Entry(@JsonProperty("dataset_id") DatasetId datasetId, @JsonProperty("ids") Map<String, Integer> ids) {
        Entry {
            ids = Map.copyOf(ids);
        }

        int total() {
            return ids.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    private final Path file;
    private final Map<String, Entry> entries = new TreeMap<>();
    /** When each volume was last mounted here (a mount in progress may not have a running container yet). */
    private final Map<String, Long> lastAdded = new java.util.HashMap<>();

    Mounts(Path file) {
        this.file = file;
        if (file != null && Files.exists(file)) {
            try {
                entries.putAll(Json.MAPPER.readValue(file.toFile(), new TypeReference<Map<String, Entry>>() { }));
            } catch (IOException e) {
                throw new IllegalStateException(file + ": cannot read the Docker plugin's mounts (" + e.getMessage()
                        + "); move it aside to start afresh, and check which containers use Flocker volumes", e);
            }
        }
    }

    synchronized int count(String name) {
        var entry = entries.get(name);
        return entry == null ? 0 : entry.total();
    }

    synchronized void add(String name, DatasetId dataset, String id) {
        lastAdded.put(name, System.nanoTime());
        var ids = new TreeMap<String, Integer>(entries.containsKey(name) ? entries.get(name).ids() : Map.of());
        ids.merge(id, 1, Integer::sum);
        entries.put(name, new Entry(dataset, ids));
        save();
    }

    /** Removes one mount by {@code id}; the volume's dataset, or empty when {@code id} holds none. */
    synchronized java.util.Optional<DatasetId> remove(String name, String id) {
        var entry = entries.get(name);
        if (entry == null || !entry.ids().containsKey(id)) {
            return java.util.Optional.empty();
        }
        var ids = new TreeMap<>(entry.ids());
        ids.computeIfPresent(id, (k, n) -> n > 1 ? n - 1 : null);
        if (ids.isEmpty()) {
            entries.remove(name);
        } else {
            entries.put(name, new Entry(entry.datasetId(), ids));
        }
        save();
        return java.util.Optional.ofNullable(entry.datasetId());
    }

    /** The volume was mounted here less than {@code grace} ago. */
    synchronized boolean mountedWithin(String name, java.time.Duration grace) {
        var at = lastAdded.get(name);
        return at != null && System.nanoTime() - at < grace.toNanos();
    }

    /** Forgets every mount of {@code name}; how many there were. */
    synchronized int clear(String name) {
        var entry = entries.remove(name);
        if (entry != null) {
            save();
        }
        return entry == null ? 0 : entry.total();
    }

    /** The dataset of {@code name} while it is mounted here. */
    synchronized java.util.Optional<DatasetId> dataset(String name) {
        return java.util.Optional.ofNullable(entries.get(name)).map(Entry::datasetId);
    }

    synchronized Map<String, Entry> all() {
        return Map.copyOf(entries);
    }

    synchronized List<String> ids(String name) {
        var entry = entries.get(name);
        return entry == null ? List.of() : List.copyOf(entry.ids().keySet());
    }

    private void save() {
        if (file == null) {
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            var tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(entries));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot record the Docker plugin's mounts in " + file + ": " + e.getMessage(), e);
        }
    }
}
