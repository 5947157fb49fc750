package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.DatasetId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An application never starts on a volume path that is not a mount: it would write beneath the dataset, not into it. */
class MountCheckTest {
    @Test
    void aBareDirectoryIsRefusedNamingTheDatasetAndPathAndAMountIsTaken(@TempDir Path dir) throws Exception {
        var id = DatasetId.random();
        var bare = Files.createDirectories(dir.resolve(id.toString()));
        assertThatThrownBy(() -> ChangeExecutor.requireMounts(Map.of(id, bare), "db"))
                .hasMessage("dataset " + id + " is not mounted at " + bare + "; not starting db on the bare directory beneath");
        assertThatThrownBy(() -> ChangeExecutor.requireMounts(Map.of(id, dir.resolve("missing")), "db")).hasMessageContaining("is not mounted");
        // /proc is a mount of its own on every Linux host, beneath / (a different device).
        assertThatCode(() -> ChangeExecutor.requireMounts(Map.of(id, Path.of("/proc")), "db")).doesNotThrowAnyException();
    }
}
