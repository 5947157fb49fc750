package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wake file, touched as the forced command does ({@code touch -c}, a real process), wakes the loop; nothing else does. */
class HandoffWakeTest {
    @TempDir
    Path dir;

    static long waitedMillis(Wakeup wakeup, long limit) throws InterruptedException {
        long started = System.nanoTime();
        wakeup.await(limit);
        return (System.nanoTime() - started) / 1_000_000;
    }

    static void touch(Path file) throws Exception {
        assertThat(new ProcessBuilder("touch", "-c", file.toString()).start().waitFor()).isZero();
    }

    @Test
    void touchingThisNodesFileWakesTheLoopAtOnceAndOtherFilesDoNot() throws Exception {
        var wakeup = new Wakeup();
        var file = dir.resolve("wake").resolve("00000002-0000-4000-8000-000000000002");
        var wake = HandoffWake.start(file, wakeup);
        try {
            assertThat(wake).isNotNull();
            assertThat(file).as("made, so that touch -c finds it").exists();
            touch(file);
            assertThat(waitedMillis(wakeup, 5000)).as("woken by the touch").isLessThan(1000);
            Files.createFile(file.resolveSibling("00000003-0000-4000-8000-000000000003"));
            touch(file.resolveSibling("00000003-0000-4000-8000-000000000003"));
            assertThat(waitedMillis(wakeup, 400)).as("another node's file").isGreaterThanOrEqualTo(390);
            touch(file);
            assertThat(waitedMillis(wakeup, 5000)).as("again").isLessThan(1000);
        } finally {
            wake.close();
        }
        assertThat(file).as("removed with the watch").doesNotExist();
    }

    @Test
    void aFileThatCannotBeMadeLeavesNoWatchAndNoError() throws Exception {
        var blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
        assertThat(HandoffWake.start(blocker.resolve("node"), new Wakeup())).isNull();
    }
}
