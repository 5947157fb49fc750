package dev.flocker.volume.transfer;

import java.time.Duration;

/**
 * How far a transfer has got.
 *
 * @param expectedBytes the stream's expected size, or -1 when the backend cannot tell (incremental on zfs-fuse)
 * @param eta           time left at the current rate, or null when unknown
 */
public record TransferProgress(Phase phase, long bytes, long expectedBytes, double bytesPerSecond, Duration elapsed, Duration eta) {
    public enum Phase { SNAPSHOTTING, NEGOTIATING, STREAMING, VERIFYING, DONE, FAILED, CANCELLED }

    static TransferProgress of(Phase phase, long bytes, long expected, long startNanos) {
        var elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
        double seconds = Math.max(elapsed.toNanos() / 1e9, 1e-9);
        double rate = bytes / seconds;
        Duration eta = expected > 0 && rate > 0 ? Duration.ofMillis((long) (Math.max(0, expected - bytes) / rate * 1000)) : null;
        return new TransferProgress(phase, bytes, expected, rate, elapsed, eta);
    }
}
