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
 * @param replicas    beyond Flocker: how many standby copies other nodes keep current (0-4); omitted from JSON when 0, so
 *                    Flocker's clients see nothing new
 * @param standbyNodes beyond Flocker: the nodes that keep them, in the order they were chosen (never the primary); omitted
 *                    when empty
 * @param failover    beyond Flocker: the last promotion of a standby by the control service because the primary's node
 *                    stopped reporting; it alone lets the new primary take ownership of its copy, at its generation
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Dataset(
        @JsonProperty("dataset_id") DatasetId datasetId,
        @JsonProperty("primary") NodeId primary,
        @JsonProperty("deleted") boolean deleted,
        @JsonProperty("metadata") Map<String, String> metadata,
        @JsonProperty("maximum_size") Long maximumSize,
        @JsonProperty("deleted_at") java.time.Instant deletedAt,
        @JsonProperty("replicas") @JsonInclude(JsonInclude.Include.NON_DEFAULT) int replicas,
        @JsonProperty("standby_nodes") @JsonInclude(JsonInclude.Include.NON_EMPTY) java.util.List<NodeId> standbyNodes,
        @JsonProperty("failover") Failover failover) {
    public static final long MIN_SIZE = 67_108_864L;
    /** The most standby copies a dataset may ask for. */
    public static final int MAX_REPLICAS = 4;

    /**
     * A promotion: {@code from} stopped reporting, and the dataset's primary became the standby that had the newest
     * snapshot, which records itself as owner at {@code generation} (greater than any the old line reached).
     */
    public record Failover(@JsonProperty("from") NodeId from, @JsonProperty("generation") long generation,
                           @JsonProperty("at") java.time.Instant at) {
    }

    public Dataset(DatasetId datasetId, NodeId primary, boolean deleted, Map<String, String> metadata, Long maximumSize) {
        this(datasetId, primary, deleted, metadata, maximumSize, null);
    }

    public Dataset(DatasetId datasetId, NodeId primary, boolean deleted, Map<String, String> metadata, Long maximumSize,
                   java.time.Instant deletedAt) {
        this(datasetId, primary, deleted, metadata, maximumSize, deletedAt, 0, null, null);
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
        if (replicas < 0 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas " + replicas + " of dataset " + datasetId + " must be 0 to " + MAX_REPLICAS);
        }
        standbyNodes = standbyNodes == null ? java.util.List.of() : java.util.List.copyOf(new java.util.LinkedHashSet<>(standbyNodes));
        if (standbyNodes.contains(primary)) {
            throw new IllegalArgumentException("standby_nodes of dataset " + datasetId + " must not include its primary " + primary);
        }
    }

    /** Beyond Flocker: asks for {@code count} standby copies, on {@code nodes} (the first {@code count} are kept). */
    public Dataset withReplicas(int count, java.util.List<NodeId> nodes) {
        var kept = nodes.stream().distinct().limit(count).toList();
        return new Dataset(datasetId, primary, deleted, metadata, maximumSize, deletedAt, count, kept, failover);
    }

    /** The standby {@code standby} promoted in place of the primary, which (when it returns) becomes a standby instead. */
    public Dataset promoted(NodeId standby, long generation, java.time.Instant at) {
        var moved = withPrimary(standby);
        return new Dataset(datasetId, standby, deleted, metadata, maximumSize, deletedAt, replicas, moved.standbyNodes(),
                new Failover(primary, generation, at));
    }

    /** The dataset's name (metadata "name"), which the Docker plugin and Kubernetes look datasets up by; null when none. */
    public String name() {
        return metadata.get("name");
    }

    /**
     * Moved to {@code node}. A move to one of its standbys swaps the two: the old primary keeps a standby copy, and only
     * the increment travels.
     */
    public Dataset withPrimary(NodeId node) {
        var standbys = new java.util.ArrayList<>(standbyNodes);
        standbys.replaceAll(n -> n.equals(node) ? primary : n);
        return new Dataset(datasetId, node, deleted, metadata, maximumSize, deletedAt, replicas, standbys, failover);
    }

    public Dataset withMaximumSize(Long size) {
        return new Dataset(datasetId, primary, deleted, metadata, size, deletedAt, replicas, standbyNodes, failover);
    }

    /** This dataset deleted at {@code at}; a dataset deleted already keeps its first deletion time. */
    public Dataset asDeleted(java.time.Instant at) {
        return new Dataset(datasetId, primary, true, metadata, maximumSize, deleted && deletedAt != null ? deletedAt : at, replicas,
                standbyNodes, failover);
    }
}
