package dev.flocker.control.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The snapshot of the configuration on disk: {@code <data path>/current_configuration.json}, written atomically
 * (temporary file, fsync, rename, fsync of the directory) with a schema version and upgrade code. Since schema 2 the
 * changes after the snapshot are in the log beside it ({@link ConfigurationLog}); schema 0 and 1 files were the whole
 * configuration, rewritten on every change, and are read as a snapshot with an empty log.
 */
public final class ConfigurationFile {
    public static final int SCHEMA_VERSION = 2;
    private final Path file;
    private long writtenVersion = -1;

    public ConfigurationFile(Path dataPath) {
        this.file = dataPath.resolve("current_configuration.json");
    }

    public Path path() {
        return file;
    }

    public Optional<Configuration> read() {
        return readSnapshot().map(Snapshot::configuration);
    }

    /**
     * The configuration and, since a snapshot records it, the JSON of the change that made its version as the cluster's
     * register held it ({@code last_change}; null when unknown): a replica restarting finds the cluster's register
     * holding exactly that change when its disk has what the cluster has.
     */
    public record Snapshot(Configuration configuration, String lastChange) {
    }

    public Optional<Snapshot> readSnapshot() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            var root = Json.MAPPER.readTree(Files.readString(file));
            var lastChange = root.path("last_change");
            return Optional.of(new Snapshot(upgrade(root), lastChange.isTextual() ? lastChange.asText() : null));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read the configuration file " + file + ": " + e.getMessage()
                    + " (fix or move it aside; the service will not start on a configuration it cannot read)", e);
        }
    }

    /** Reads any schema version this code knows and returns today's model. */
    static Configuration upgrade(JsonNode root) throws IOException {
        int schema = root.path("schema_version").asInt(0);
        JsonNode configuration = root;
        switch (schema) {
            case 0 -> {
                // Version 0 was the bare configuration object, without the wrapper; nothing else changed.
            }
            case 1, 2 -> configuration = root.path("configuration"); // 2: the same snapshot, with a log of changes beside it
            default -> throw new IOException("schema_version " + schema + " is newer than this service understands ("
                    + SCHEMA_VERSION + "); run a newer flocker-control");
        }
        return Json.MAPPER.treeToValue(configuration, Configuration.class);
    }

    /** Writes {@code configuration} unless a version at least as new was written already by this process. */
    public void write(Configuration configuration) {
        write(configuration, null);
    }

    /** As {@link #write(Configuration)}, recording {@code lastChange} (the change that made this version; may be null). */
    public synchronized void write(Configuration configuration, String lastChange) {
        if (configuration.version() <= writtenVersion) {
            return;
        }
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("schema_version", SCHEMA_VERSION);
        if (lastChange != null) {
            root.put("last_change", lastChange);
        }
        root.set("configuration", Json.MAPPER.valueToTree(configuration));
        try {
            Files.createDirectories(file.getParent());
            var tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (var channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(java.nio.ByteBuffer.wrap(Json.MAPPER.writeValueAsString(root).getBytes(StandardCharsets.UTF_8)));
                channel.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            try (var dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            }
            writtenVersion = configuration.version();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the configuration to " + file + ": " + e.getMessage(), e);
        }
    }
}
