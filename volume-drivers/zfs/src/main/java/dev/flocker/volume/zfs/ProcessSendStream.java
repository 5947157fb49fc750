package dev.flocker.volume.zfs;

import dev.flocker.volume.SendStream;
import dev.flocker.volume.VolumeException;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/** A running {@code zfs send}: its stdout is the stream, its stderr is kept for the error message. */
final class ProcessSendStream implements SendStream {
    private final Process process;
    private final String description;
    private final long expected;
    private final CompletableFuture<String> stderr;

    ProcessSendStream(Process process, String description, long expected) {
        this.process = process;
        this.description = description;
        this.expected = expected;
        this.stderr = ZfsCommand.background(() -> ZfsCommand.readAll(process.getErrorStream()));
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // stdin of zfs send is unused
        }
    }

    @Override
    public InputStream stream() {
        return process.getInputStream();
    }

    @Override
    public long expectedBytes() {
        return expected;
    }

    @Override
    public void finish() {
        try {
            int exit = process.waitFor();
            if (exit != 0) {
                throw new VolumeException("'zfs " + description + "' failed (exit " + exit + "): " + stderr.join().strip());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new VolumeException("interrupted while waiting for 'zfs " + description + "'");
        }
    }

    @Override
    public void cancel() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
