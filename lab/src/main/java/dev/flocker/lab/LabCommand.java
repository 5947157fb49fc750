package dev.flocker.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs {@code bin/flocker-lab} and other commands, capturing their output into errors. */
final class LabCommand {
    private static final long TIMEOUT_MINUTES = 10;

    private LabCommand() {
    }

    static String run(String... args) {
        var command = new ArrayList<String>();
        command.add(script().toString());
        command.addAll(List.of(args));
        return exec(command);
    }

    static String exec(List<String> command) {
        try {
            var process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            // Its own thread: the common pool has one thread on 2 cores and must not block on a pipe.
            var stderr = new CompletableFuture<String>();
            Thread.ofVirtual().start(() -> stderr.complete(readAll(process.getErrorStream())));
            var stdout = readAll(process.getInputStream());
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new LabException(String.join(" ", command) + " did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
            if (process.exitValue() != 0) {
                throw new LabException(String.join(" ", command) + " exited with " + process.exitValue()
                        + "\nstdout: " + stdout + "\nstderr: " + stderr.join());
            }
            return stdout;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while running " + String.join(" ", command));
        }
    }

    private static String readAll(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** Finds bin/flocker-lab from the project root Maven passes in, or by walking up from the working directory. */
    static Path script() {
        var root = System.getProperty("flocker.project.root");
        if (root != null) {
            var candidate = Path.of(root, "bin", "flocker-lab");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        for (var dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            var candidate = dir.resolve("bin").resolve("flocker-lab");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new LabException("cannot find bin/flocker-lab: set -Dflocker.project.root to the project's directory");
    }
}
