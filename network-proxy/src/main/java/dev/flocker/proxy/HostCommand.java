package dev.flocker.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A command of the host (iptables, ip, ss), run to its end within a time limit: its output, or why it failed. */
public final class HostCommand {
    private HostCommand() {
    }

    /**
     * Runs {@code command} with {@code input} (or none) on its standard input and returns its output (standard output and
     * error together, stripped); fails with the command, its exit status and output when it exits other than 0, and when
     * it does not finish in {@code seconds}. {@code missing} says which package provides it, for when it cannot be started.
     */
    public static String output(String input, long seconds, String missing, List<String> command) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (" + missing + "): " + e.getMessage(), e);
        }
        try {
            try (var in = process.getOutputStream()) {
                if (input != null) {
                    in.write(input.getBytes(StandardCharsets.UTF_8));
                }
            }
            var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + seconds + " s");
            }
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + output);
            }
            return output;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(command.get(0) + " interrupted", e);
        }
    }
}
