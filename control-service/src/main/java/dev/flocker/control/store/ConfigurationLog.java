package dev.flocker.control.store;

import dev.flocker.api.model.Configuration;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's configuration on disk: a snapshot ({@link ConfigurationFile}) and, beside it, an append-only log of the
 * changes since, in segments {@code changes-<first version>.log}, one change per line, fsynced before a write is
 * acknowledged. A write costs the size of its change, not of the configuration. After {@link #ROLL_CHANGES} changes
 * or {@link #ROLL_BYTES} bytes a new segment starts and a background thread writes a snapshot of the configuration
 * as of the end of the old one, then deletes the segments it covers. Reading takes the snapshot and replays every
 * later change; a last line cut short by a crash was never acknowledged and is ignored.
 */
public final class ConfigurationLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigurationLog.class);
    static final int ROLL_CHANGES = 5_000;
    static final long ROLL_BYTES = 32L << 20;
    private static final Pattern SEGMENT = Pattern.compile("changes-(\\d+)\\.log");

    private final Path dir;
    private final ConfigurationFile snapshot;
    private final int rollChanges;
    private final ExecutorService snapshots = Executors.newSingleThreadExecutor(r -> {
        var t = new Thread(r, "configuration-snapshot");
        t.setDaemon(true);
        return t;
    });
    private FileChannel segment;
    private long segmentChanges;
    private long segmentBytes;
    private long lastVersion = -1;

    public ConfigurationLog(Path dataPath) {
        this(dataPath, ROLL_CHANGES);
    }

    ConfigurationLog(Path dataPath, int rollChanges) {
        this.dir = dataPath;
        this.snapshot = new ConfigurationFile(dataPath);
        this.rollChanges = rollChanges;
    }

    /** The configuration as this replica last wrote it: the snapshot plus every change logged after it. */
    public Configuration read() {
        return readWithLastChange().configuration();
    }

    /**
     * As {@link #read()}, with the JSON of the change that made the configuration's version, as the cluster's register held
     * it (null when this disk does not know it: a snapshot written before snapshots recorded it, or an empty disk).
     */
    public synchronized ConfigurationFile.Snapshot readWithLastChange() {
        var read = snapshot.readSnapshot().orElse(new ConfigurationFile.Snapshot(Configuration.EMPTY, null));
        var configuration = read.configuration();
        var lastChange = read.lastChange() != null && changeVersion(read.lastChange()) == configuration.version() ? read.lastChange() : null;
        var segments = segments();
        for (int s = 0; s < segments.size(); s++) {
            var file = segments.get(s);
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the configuration log " + file + ": " + e.getMessage(), e);
            }
            for (int i = 0; i < lines.size(); i++) {
                var line = lines.get(i);
                if (line.isBlank()) {
                    continue;
                }
                ConfigurationChange change;
                try {
                    change = ConfigurationChange.parse(line);
                } catch (IllegalArgumentException e) {
                    if (s == segments.size() - 1 && i == lines.size() - 1) {
                        LOG.atWarn().addKeyValue("file", file).addKeyValue("line", i + 1)
                                .log("ignoring the log's last line, cut short by a crash (it was never acknowledged)");
                        break;
                    }
                    throw new IllegalStateException("cannot read the configuration log " + file + " line " + (i + 1) + ": " + e.getMessage()
                            + " (a line in the middle of the log is damaged; restore the data directory from a replica or a backup)", e);
                }
                if (change.version() <= configuration.version()) {
                    if (change.version() == configuration.version() && lastChange == null) {
                        lastChange = line;
                    }
                    continue; // already in the snapshot
                }
                if (change.version() != configuration.version() + 1) {
                    throw new IllegalStateException("the configuration log " + file + " line " + (i + 1) + " holds version " + change.version()
                            + " but the configuration read so far is version " + configuration.version() + "; versions in between are missing");
                }
                configuration = change.applyTo(configuration);
                lastChange = line;
            }
        }
        lastVersion = configuration.version();
        return new ConfigurationFile.Snapshot(configuration, lastChange);
    }

    private static long changeVersion(String json) {
        try {
            return ConfigurationChange.parse(json).version();
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    private List<Path> segments() {
        var found = new ArrayList<Path>();
        try (var list = Files.list(dir)) {
            list.filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches()).forEach(found::add);
        } catch (java.nio.file.NoSuchFileException e) {
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        found.sort(java.util.Comparator.comparingLong(ConfigurationLog::firstVersion));
        return found;
    }

    private static long firstVersion(Path segment) {
        var m = SEGMENT.matcher(segment.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(segment.toString());
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * Appends {@code change}, which made {@code after}, and forces it to disk. Changes must come in version order;
     * one already logged is ignored.
     */
    public void append(ConfigurationChange change, Configuration after) {
        append(change, change.toJson(), after);
    }

    /** As {@link #append(ConfigurationChange, Configuration)}, with the change's JSON at hand (one line, as the register holds it). */
    public synchronized void append(ConfigurationChange change, String json, Configuration after) {
        if (change.version() <= lastVersion) {
            return;
        }
        if (lastVersion >= 0 && change.version() != lastVersion + 1) {
            // A gap (this replica missed changes): the whole configuration is written instead.
            snapshotNow(after, json);
            return;
        }
        var bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (segment == null) {
                Files.createDirectories(dir);
                segment = FileChannel.open(dir.resolve("changes-" + change.version() + ".log"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                syncDirectory();
                segmentChanges = 0;
                segmentBytes = 0;
            }
            var buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                segment.write(buffer);
            }
            segment.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the configuration log in " + dir + ": " + e.getMessage(), e);
        }
        lastVersion = change.version();
        segmentChanges++;
        segmentBytes += bytes.length;
        if (segmentChanges >= rollChanges || segmentBytes >= ROLL_BYTES) {
            closeSegment();
            var covered = after;
            snapshots.execute(() -> writeSnapshot(covered, json));
        }
    }

    /** Writes {@code configuration} as the snapshot now and starts the log afresh after it (start-up, a gap). */
    public synchronized void snapshotNow(Configuration configuration, String lastChange) {
        closeSegment();
        writeSnapshot(configuration, lastChange);
        lastVersion = configuration.version();
    }

    /**
     * Writes {@code configuration}, older than what was logged, as the snapshot and drops every logged change: those
     * after it were lost by the cluster (see ConfigurationStore's rewind). The changes go first, so a crash in between
     * leaves an older configuration on this disk (the cluster has the newer one), never the lost change.
     */
    public synchronized void rewind(Configuration configuration, String lastChange) {
        closeSegment();
        try {
            for (var old : segments()) {
                Files.deleteIfExists(old);
            }
            if (Files.isDirectory(dir)) {
                syncDirectory();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot drop the configuration log in " + dir + ": " + e.getMessage(), e);
        }
        writeSnapshot(configuration, lastChange);
        lastVersion = configuration.version();
    }

    private void closeSegment() {
        if (segment != null) {
            try {
                segment.close();
            } catch (IOException e) {
                LOG.atWarn().setCause(e).log("cannot close a configuration log segment");
            }
            segment = null;
        }
    }

    /** The snapshot, then the segments it covers are deleted. */
    private void writeSnapshot(Configuration configuration, String lastChange) {
        try {
            snapshot.write(configuration, lastChange);
            for (var old : segments()) {
                // A segment starting at or before the snapshot's version ended there: the next one starts after it.
                if (firstVersion(old) <= configuration.version()) {
                    Files.deleteIfExists(old);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.atError().addKeyValue("version", configuration.version()).setCause(e)
                    .log("cannot write a configuration snapshot; the log keeps every change meanwhile");
        }
    }

    private void syncDirectory() throws IOException {
        try (var channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Waits for a snapshot being written (tests, shutdown). */
    void awaitSnapshots() {
        try {
            snapshots.submit(() -> null).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("a configuration snapshot did not finish", e);
        }
    }

    @Override
    public synchronized void close() {
        closeSegment();
        snapshots.shutdown();
    }
}
