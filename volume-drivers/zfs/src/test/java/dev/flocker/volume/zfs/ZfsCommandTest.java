package dev.flocker.volume.zfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A command that hangs is given up at its time-out (a zfs-fuse call that never returns must not hang the agent's loop):
 * plain processes stand in for zfs here, whose real runs the driver tests cover.
 */
class ZfsCommandTest {
    final ZfsCommand commands = new ZfsCommand();

    @Test
    void aCommandThatDoesNotEndIsGivenUpAtItsTimeOut() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> commands.run(List.of("sleep", "30"), null, 1)).isInstanceOf(ZfsException.class)
                .hasMessageContaining("did not finish in 1 s");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
    }

    @Test
    void aCommandThatEndsGivesItsOutput() {
        assertThat(commands.run(List.of("echo", "fine"), null, 5)).isEqualTo("fine\n");
    }
}
