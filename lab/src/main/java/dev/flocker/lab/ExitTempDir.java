package dev.flocker.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A temporary directory for what a test or benchmark JVM keeps for its whole life (a cluster CA's keys, say), removed
 * with everything in it when that JVM exits, however it ends short of a kill. JUnit's {@code @TempDir} covers a class
 * or a test; a static fixture outlives both.
 */
public final class ExitTempDir {
    private ExitTempDir() {
    }

    /** A new directory under the system's temporary directory, named {@code prefix} and a random suffix. */
    public static Path create(String prefix) {
        try {
            var dir = Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> remove(dir), "remove " + dir.getFileName()));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void remove(Path dir) {
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            System.err.println("cannot remove " + dir + ": " + e.getMessage());
        }
    }
}
