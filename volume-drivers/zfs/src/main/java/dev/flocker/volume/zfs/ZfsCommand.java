package dev.flocker.volume.zfs;

import dev.flocker.volume.VolumeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the {@code zfs} and {@code zpool} commands from argument lists (never through a shell) and turns
 * a failure into a {@link ZfsException} carrying the command line and the command's own error output.
 */
public final class ZfsCommand {
    /**
     * An administrative command (create, set, get, list, snapshot, destroy, mount...) that has not ended by then is
     * given up: the change fails and a later loop tries again. Shorter than the agent's stuck-loop bound
     * (ControlLink.STUCK_AFTER, 120 s), so one hung zfs-fuse call does not make the node look dead. Sends and
     * receives stream through {@link #start} and are bounded by their transfers instead.
     */
    static final long TIMEOUT_SECONDS = 90;
    /** How the error of a command given up at its time limit begins ({@link ZfsException#timedOut}). */
    static final String TIMED_OUT = "did not finish in ";
    private final AtomicLong invocations = new AtomicLong();

    /** How many zfs/zpool processes this instance has started (lets tests hold the one-call listing to its word). */
    public long invocations() {
        return invocations.get();
    }

    public String zfs(String... args) {
        return run(command("zfs", args), null);
    }

    /** As {@link #zfs}, given up after {@code timeoutSeconds} instead of {@link #TIMEOUT_SECONDS}. */
    public String zfsWithin(long timeoutSeconds, String... args) {
        return run(command("zfs", args), null, timeoutSeconds);
    }

    public String zpool(String... args) {
        return run(command("zpool", args), null);
    }

    /** Runs util-linux {@code mount} (a remount of a dataset's file system, which needs no call to ZFS). */
    public String mount(String... args) {
        return run(command("mount", args), null);
    }

    /** Runs zfs with {@code stdin} piped in (a receive). */
    public String zfsWithInput(InputStream stdin, String... args) {
        return run(command("zfs", args), stdin);
    }

    /** Starts zfs and hands back the process, for streams read by the caller (a send). */
    public Process start(String... args) {
        invocations.incrementAndGet();
        try {
            return new ProcessBuilder(ZfsFuseMounts.wrap(command("zfs", args))).start();
        } catch (IOException e) {
            throw new VolumeException("cannot start zfs " + String.join(" ", args) + ": " + e.getMessage(), e);
        }
    }

    private static List<String> command(String tool, String... args) {
        var command = new ArrayList<String>(args.length + 1);
        command.add(tool);
        command.addAll(List.of(args));
        return command;
    }

    private String run(List<String> command, InputStream stdin) {
        return run(command, stdin, TIMEOUT_SECONDS);
    }

    /** Runs {@code command} to its end, at most {@code timeoutSeconds}; its standard output. */
    String run(List<String> command, InputStream stdin, long timeoutSeconds) {
        invocations.incrementAndGet();
        Process process;
        try {
            var builder = new ProcessBuilder(ZfsFuseMounts.wrap(command));
            if (stdin == null) {
                builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            }
            process = builder.start();
        } catch (IOException e) {
            throw new VolumeException("cannot start " + String.join(" ", command) + ": " + e.getMessage()
                    + " (is zfs installed and on PATH?)", e);
        }
        var stderr = background(() -> readAll(process.getErrorStream()));
        CompletableFuture<IOException> feeding = stdin == null ? CompletableFuture.completedFuture(null)
                : background(() -> pump(stdin, process.getOutputStream()));
        // Read on its own thread: reading here would wait for the end of the output, that is for the process, past any
        // time-out (a zfs-fuse call that hangs would hang the agent's loop for good).
        var output = background(() -> readAll(process.getInputStream()));
        String stdout;
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                kill(process);
                throw new ZfsException(command, -1, TIMED_OUT + timeoutSeconds + " s");
            }
            stdout = output.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new ZfsException(command, -1, "interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new ZfsException(command, -1, "its output could not be read: " + e);
        }
        var feedError = feeding.join();
        if (process.exitValue() != 0) {
            throw new ZfsException(command, process.exitValue(), stderr.join().strip());
        }
        if (feedError != null) {
            throw new ZfsException(command, 0, "input stream failed: " + feedError.getMessage());
        }
        return stdout;
    }

    /** Kills {@code process} and what it started: under zfs-fuse's mount lock the process is flock(1), and zfs its child. */
    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private static IOException pump(InputStream in, OutputStream out) {
        try (out) {
            in.transferTo(out);
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    /**
     * Runs blocking work (reading a process's output) on its own virtual thread: never on the common
     * fork-join pool, which has a single thread on a 2-core machine and would deadlock pipelines.
     */
    public static <T> CompletableFuture<T> background(java.util.function.Supplier<T> work) {
        var future = new CompletableFuture<T>();
        Thread.ofVirtual().name("zfs-io").start(() -> {
            try {
                future.complete(work.get());
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        });
        return future;
    }

    static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
