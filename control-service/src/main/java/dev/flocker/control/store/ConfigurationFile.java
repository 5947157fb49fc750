package dev.flocker.control.store;

import com.fasterxml.jackson.databind.JsonNode;
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
            return Optional.of(readStreaming().orElseGet(this::readAsTree));
        } catch (IOException | RuntimeException e) {
            throw damaged(e);
        }
    }

    private IllegalStateException damaged(Exception e) {
        var cause = e instanceof UncheckedIOException unchecked ? unchecked.getCause() : e;
        return new IllegalStateException("cannot read the configuration file " + file + ": " + cause.getMessage()
                + " (fix or move it aside; the service will not start on a configuration it cannot read)", cause);
    }

    /**
     * Today's files ({@code schema_version} 1 or 2: the configuration in a wrapper), read in one pass straight into the
     * model: at 100,000 datasets (18 MB) this is half the work of building the file's tree first, on the path of every
     * restart. Empty for a file without the wrapper (schema 0), which {@link #readAsTree} reads.
     */
    private Optional<Snapshot> readStreaming() throws IOException {
        int schema = 0;
        Configuration configuration = null;
        String lastChange = null;
        try (var in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16);
             var parser = Json.MAPPER.createParser(in)) {
            if (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw new IOException("the file is not a JSON object");
            }
            while (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                var field = parser.currentName();
                var value = parser.nextToken();
                switch (field) {
                    case "schema_version" -> schema = parser.getValueAsInt(0);
                    case "last_change" -> lastChange = value == com.fasterxml.jackson.core.JsonToken.VALUE_STRING ? parser.getText() : null;
                    case "configuration" -> configuration = parser.readValueAs(Configuration.class);
                    default -> parser.skipChildren();
                }
            }
            if (parser.currentToken() != com.fasterxml.jackson.core.JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw new IOException("unexpected content after the configuration at line " + parser.currentLocation().getLineNr());
            }
        }
        if (schema > SCHEMA_VERSION) {
            throw unknownSchema(schema);
        }
        if (schema == 0) {
            return Optional.empty();
        }
        if (configuration == null) {
            throw new IOException("schema_version " + schema + " file without a \"configuration\" object");
        }
        return Optional.of(new Snapshot(configuration, lastChange));
    }

    /** Any file this code knows, through its tree (schema 0, the bare configuration, has no wrapper to find first). */
    private Snapshot readAsTree() {
        try {
            var root = Json.MAPPER.readTree(file.toFile());
            var lastChange = root.path("last_change");
            return new Snapshot(upgrade(root), lastChange.isTextual() ? lastChange.asText() : null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static IOException unknownSchema(int schema) {
        return new IOException("schema_version " + schema + " is newer than this service understands ("
                + SCHEMA_VERSION + "); run a newer flocker-control");
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
            default -> throw unknownSchema(schema);
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
        try {
            Files.createDirectories(file.getParent());
            var tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (var channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                // Written as it is serialised (no tree or string of the whole 18 MB at 100,000 datasets held first).
                var out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel), 1 << 16);
                try (var json = Json.MAPPER.createGenerator(out)) {
                    json.disable(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                    json.writeStartObject();
                    json.writeNumberField("schema_version", SCHEMA_VERSION);
                    if (lastChange != null) {
                        json.writeStringField("last_change", lastChange);
                    }
                    json.writeFieldName("configuration");
                    json.writeObject(configuration);
                    json.writeEndObject();
                }
                out.flush();
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
