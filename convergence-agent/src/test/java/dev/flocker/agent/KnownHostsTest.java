package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownHostsTest {
    @TempDir
    Path dir;

    @Test
    void aHostAddedToTheFileWhileTheAgentRunsIsFoundAndAMissingOneIsNamed() throws Exception {
        var file = dir.resolve("known_hosts");
        Files.writeString(file, "# pinned\n10.0.0.2 ssh-ed25519 AAAAkey2\n");
        var known = new KnownHosts(file);
        assertThat(known.keyFor("10.0.0.2")).isEqualTo("ssh-ed25519 AAAAkey2");
        assertThatThrownBy(() -> known.keyFor("10.0.0.3")).hasMessageContaining("no pinned SSH host key for 10.0.0.3 in " + file);

        Files.writeString(file, "10.0.0.2 ssh-ed25519 AAAAkey2\n10.0.0.3,n3 ssh-ed25519 AAAAkey3\n");
        assertThat(known.keyFor("10.0.0.3")).isEqualTo("ssh-ed25519 AAAAkey3");
        assertThat(known.keyFor("n3")).isEqualTo("ssh-ed25519 AAAAkey3");

        // Rewritten with a new key of the same length: read again (its modification time changed).
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(1_000));
        Files.writeString(file, "10.0.0.2 ssh-ed25519 AAAAkeyX\n10.0.0.3,n3 ssh-ed25519 AAAAkey3\n");
        assertThat(known.keyFor("10.0.0.2")).isEqualTo("ssh-ed25519 AAAAkeyX");

        Files.delete(file);
        assertThatThrownBy(() -> known.keyFor("10.0.0.2")).hasMessageContaining("ssh.known_hosts " + file + " cannot be read");
    }
}
