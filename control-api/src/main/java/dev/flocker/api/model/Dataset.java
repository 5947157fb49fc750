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
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Dataset(
        @JsonProperty("dataset_id") DatasetId datasetId,
        @JsonProperty("primary") NodeId primary,
        @JsonProperty("deleted") boolean deleted,
        @JsonProperty("metadata") Map<String, String> metadata,
        @JsonProperty("maximum_size") Long maximumSize) {
    public static final long MIN_SIZE = 67_108_864L;

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
    }

    /** The dataset's name (metadata "name"), which the Docker plugin and Kubernetes look datasets up by; null when none. */
    public String name() {
        return metadata.get("name");
    }

    public Dataset withPrimary(NodeId node) {
        return new Dataset(datasetId, node, deleted, metadata, maximumSize);
    }

    public Dataset withMaximumSize(Long size) {
        return new Dataset(datasetId, primary, deleted, metadata, size);
    }

    public Dataset asDeleted() {
        return new Dataset(datasetId, primary, true, metadata, maximumSize);
    }
}
