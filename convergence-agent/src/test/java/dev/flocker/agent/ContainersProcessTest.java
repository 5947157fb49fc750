package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How a handoff's stop tells that an application's process has exited: read from /proc, for a real process of this test. */
class ContainersProcessTest {
    @Test
    void aProcessHasExitedWhenItIsGoneAZombieOrAnotherUnderItsNumber() throws Exception {
        var process = new ProcessBuilder("sleep", "30").start();
        try {
            long pid = process.pid();
            long ticks = Containers.startTicks(pid);
            assertThat(ticks).isPositive();
            assertThat(Containers.exited(pid, ticks)).as("running").isFalse();
            assertThat(Containers.exited(pid, ticks + 1)).as("another process under its number").isTrue();
            process.destroyForcibly();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!Containers.exited(pid, ticks) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(Containers.exited(pid, ticks)).as("killed: a zombie until reaped, then gone").isTrue();
        } finally {
            process.destroyForcibly();
        }
    }
}
