package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * A lease: while it holds, the dataset stays on {@code node} (it is not moved or deleted).
 *
 * @param expiresAt when it lapses, or null for never. The API shows seconds left ({@code expires}).
 */
public record Lease(
        @JsonProperty("dataset_id") DatasetId datasetId,
        @JsonProperty("node_uuid") NodeId node,
        @JsonProperty("expires_at") Instant expiresAt) {
    public Lease {
        if (datasetId == null || node == null) {
            throw new IllegalArgumentException("a lease needs dataset_id and node_uuid");
        }
    }

    public boolean expired(Instant now) {
        return expiresAt != null && !expiresAt.isAfter(now);
    }

    /** Seconds left, or null for a lease that never expires (Flocker's {@code expires}). */
    public Double secondsLeft(Instant now) {
        return expiresAt == null ? null : Math.max(0, (expiresAt.toEpochMilli() - now.toEpochMilli()) / 1000.0);
    }
}
