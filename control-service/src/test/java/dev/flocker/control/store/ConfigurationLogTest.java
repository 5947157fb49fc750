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
    void snapshotsOfEverySchemaAreReadAndADamagedOneNamesItsFileAndWhatIsWrong(@TempDir Path dir) throws Exception {
        var config = withDatasets(Configuration.EMPTY, 0, 4);
        var file = dir.resolve("current_configuration.json");
        // Schema 0: the bare configuration, no wrapper (read through the file's tree).
        Files.writeString(file, Json.write(config));
        assertThat(new ConfigurationFile(dir).readSnapshot().orElseThrow().configuration()).isEqualTo(config);
        // Today's, as written, read in one pass; its last change comes back; fields in another order too.
        new ConfigurationFile(dir).write(config, "{\"version\":4}");
        var read = new ConfigurationFile(dir).readSnapshot().orElseThrow();
        assertThat(read.configuration()).isEqualTo(config);
        assertThat(read.lastChange()).isEqualTo("{\"version\":4}");
        Files.writeString(file, "{\"configuration\":" + Json.write(config) + ",\"future_field\":{\"a\":[1]},\"schema_version\":2}");
        assertThat(new ConfigurationFile(dir).readSnapshot().orElseThrow().configuration()).isEqualTo(config);
        // Damaged: cut short, trailing content, a wrapper without its configuration, a newer schema.
        var whole = "{\"schema_version\":2,\"configuration\":" + Json.write(config) + "}";
        for (var damaged : Map.of(whole.substring(0, whole.length() / 2), "Unexpected end-of-input",
                whole + "{}", "unexpected content after the configuration at line 1",
                "{\"schema_version\":2}", "schema_version 2 file without a \"configuration\" object",
                "{\"schema_version\":3,\"configuration\":{}}", "schema_version 3 is newer than this service understands",
                "[]", "the file is not a JSON object").entrySet()) {
            Files.writeString(file, damaged.getKey());
            assertThatThrownBy(() -> new ConfigurationFile(dir).readSnapshot()).as(damaged.getValue())
                    .hasMessageContaining("cannot read the configuration file " + file).hasMessageContaining(damaged.getValue())
                    .hasMessageContaining("fix or move it aside");
        }
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
