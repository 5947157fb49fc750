package dev.flocker.volume.transfer;

import dev.flocker.api.model.DatasetId;
import java.time.Duration;

/**
 * A finished transfer.
 *
 * @param base     the snapshot the stream was incremental from, or null for a full stream
 * @param snapshot the snapshot both hosts now share (verified by guid on the peer)
 * @param peerMount what passing ownership can mount of the peer's copy (asked by a handoff's final increment only)
 */
public record TransferResult(DatasetId dataset, String peer, String base, String snapshot, long bytes, Duration duration,
                             RemoteZfs.PeerMount peerMount) {
    public boolean incremental() {
        return base != null;
    }

    public double mibPerSecond() {
        return bytes / 1048576.0 / Math.max(duration.toNanos() / 1e9, 1e-9);
    }
}
