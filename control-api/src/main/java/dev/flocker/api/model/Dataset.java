package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;
import java.util.TreeMap;

/**
 * A dataset in the desired configuration, in Flocker's JSON form.
 *
 * @param primary     the node that should hold the writable copy
 * @param maximumSize bytes, or null for no limit (omitted from JSON when null, as Flocker does)
 * @param deletedAt   when it was deleted (beyond Flocker, only on deleted datasets): its tombstone is kept for a retention
 *                    period from then, so retried DELETEs answer 200 and no agent can keep or create a copy meanwhile
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Dataset(
        @JsonProperty("dataset_id") DatasetId datasetId,
        @JsonProperty("primary") NodeId primary,
        @JsonProperty("deleted") boolean deleted,
        @JsonProperty("metadata") Map<String, String> metadata,
        @JsonProperty("maximum_size") Long maximumSize,
        @JsonProperty("deleted_at") java.time.Instant deletedAt) {
    public static final long MIN_SIZE = 67_108_864L;

    public Dataset(DatasetId datasetId, NodeId primary, boolean deleted, Map<String, String> metadata, Long maximumSize) {
        this(datasetId, primary, deleted, metadata, maximumSize, null);
    }

    public Dataset {
        if (datasetId == null) {
            throw new IllegalArgumentException("dataset_id is required");
        }
        if (primary == null) {
            throw new IllegalArgumentException("primary is required for dataset " + datasetId);
        }
        metadata = metadata == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(metadata));
        if (maximumSize != null && (maximumSize < MIN_SIZE || maximumSize % 1024 != 0)) {
            throw new IllegalArgumentException("maximum_size " + maximumSize + " of dataset " + datasetId
                    + " must be at least " + MIN_SIZE + " and a multiple of 1024");
        }
        if (!deleted) {
            deletedAt = null;
        }
    }

    /** The dataset's name (metadata "name"), which the Docker plugin and Kubernetes look datasets up by; null when none. */
    public String name() {
        return metadata.get("name");
    }

    public Dataset withPrimary(NodeId node) {
        return new Dataset(datasetId, node, deleted, metadata, maximumSize, deletedAt);
    }

    public Dataset withMaximumSize(Long size) {
        return new Dataset(datasetId, primary, deleted, metadata, size, deletedAt);
    }

    /** This dataset deleted at {@code at}; a dataset deleted already keeps its first deletion time. */
    public Dataset asDeleted(java.time.Instant at) {
        return new Dataset(datasetId, primary, true, metadata, maximumSize, deleted && deletedAt != null ? deletedAt : at);
    }
}
