package dev.flocker.control.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica's disk: a snapshot and an append-only log of changes, read back exactly. */
class ConfigurationLogTest {
    static final NodeId NODE = NodeId.of("0f0e0d0c-0b0a-4908-8706-050403020100");

    static Configuration withDatasets(Configuration c, int from, int count) {
        for (int i = from; i < from + count; i++) {
            c = c.withDataset(new Dataset(DatasetId.of(String.format("00000000-0000-4000-8000-%012d", i)), NODE, false, Map.of("n", "" + i), null));
        }
        return c;
    }

    /** Logs each step from {@code c} as its own change. */
    static Configuration logSteps(ConfigurationLog log, Configuration c, int from, int count) {
        for (int i = from; i < from + count; i++) {
            var next = withDatasets(c, i, 1);
            log.append(ConfigurationChange.between(c, next, next.version()), next);
            c = next;
        }
        return c;
    }

    @Test
    void changesAreReadBackExactlyAcrossRollsAndSnapshots(@TempDir Path dir) {
        var log = new ConfigurationLog(dir, 7);
        log.read();
        var c = logSteps(log, Configuration.EMPTY, 0, 30);
        c = c.withoutDataset(DatasetId.of(String.format("00000000-0000-4000-8000-%012d", 3)));
        log.append(ConfigurationChange.between(logSteps(new ConfigurationLog(dir.resolve("scratch")), Configuration.EMPTY, 0, 30), c, c.version()), c);
        log.awaitSnapshots();
        log.close();
        var read = new ConfigurationLog(dir).read();
        assertThat(read).isEqualTo(c);
        assertThat(read.version()).isEqualTo(31);
        // Rolls every 7 changes wrote snapshots and deleted the segments they covered: what is left starts after the snapshot.
        assertThat(Files.exists(dir.resolve("current_configuration.json"))).isTrue();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("changes-")).toList()).containsExactly("changes-29.log");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aRewindDropsTheLoggedChangesAfterItAndTheLogContinuesFromIt(@TempDir Path dir) {
        var log = new ConfigurationLog(dir, 100);
        log.read();
        var kept = logSteps(log, Configuration.EMPTY, 0, 5);
        logSteps(log, kept, 5, 1); // version 6, which the cluster then lost
        log.rewind(kept, null);
        var other = withDatasets(kept, 50, 1); // another version 6
        log.append(ConfigurationChange.between(kept, other, other.version()), other);
        log.close();
        assertThat(new ConfigurationLog(dir).read()).isEqualTo(other);
    }

    @Test
    void aLastLineCutShortByACrashIsIgnoredAndADamagedLineInTheMiddleIsAnErrorNamingFileAndLine(@TempDir Path dir) throws Exception {
        var log = new ConfigurationLog(dir);
        log.read();
        var c = logSteps(log, Configuration.EMPTY, 0, 5);
        log.close();
        var segment = dir.resolve("changes-1.log");
        Files.writeString(segment, "{\"version\":6,\"puts\":{\"dataset/00000", StandardOpenOption.APPEND);
        assertThat(new ConfigurationLog(dir).read()).isEqualTo(c);

        var lines = Files.readAllLines(segment, StandardCharsets.UTF_8);
        lines.set(2, "{not json");
        Files.write(segment, lines, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> new ConfigurationLog(dir).read()).hasMessageContaining(segment.toString()).hasMessageContaining("line 3");
    }

    @Test
    void aMissingVersionIsAnErrorNotASilentGap(@TempDir Path dir) throws Exception {
        var log = new ConfigurationLog(dir);
        log.read();
        logSteps(log, Configuration.EMPTY, 0, 4);
        log.close();
        var segment = dir.resolve("changes-1.log");
        var lines = Files.readAllLines(segment, StandardCharsets.UTF_8);
        lines.remove(1);
        Files.write(segment, lines, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> new ConfigurationLog(dir).read()).hasMessageContaining("versions in between are missing");
    }

    @Test
    void anOldWholeFileIsReadAsTheSnapshotAndTheLogContinuesFromIt(@TempDir Path dir) throws Exception {
        var old = withDatasets(Configuration.EMPTY, 0, 3);
        Files.writeString(dir.resolve("current_configuration.json"), "{\"schema_version\":1,\"configuration\":" + Json.write(old) + "}");
        var log = new ConfigurationLog(dir);
        assertThat(log.read()).isEqualTo(old);
        var next = logSteps(log, old, 3, 2);
        log.close();
        assertThat(new ConfigurationLog(dir).read()).isEqualTo(next);
        assertThat(next.datasets()).hasSize(5);
    }

    @Test
    void aChangeIsTheDifferenceOfTwoConfigurationsAndAppliesBackExactly() {
        var a = withDatasets(Configuration.EMPTY, 0, 50);
        var b = withDatasets(a, 50, 2).withoutDataset(DatasetId.of(String.format("00000000-0000-4000-8000-%012d", 7)));
        var change = ConfigurationChange.between(a, b, b.version());
        assertThat(change.puts()).hasSize(2);
        assertThat(change.removes()).containsExactly("dataset/00000000-0000-4000-8000-000000000007");
        var parsed = ConfigurationChange.parse(change.toJson());
        assertThat(parsed).isEqualTo(change);
        assertThat(parsed.applyTo(a)).isEqualTo(b);
        assertThatThrownBy(() -> ConfigurationChange.parse("{\"version\":3}")).hasMessageContaining("needs version, puts and removes");
    }
}
