package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What one agent last reported about its host: the datasets it holds, the applications it runs and
 * the moves it is carrying out. Observed state only: it never changes the configuration.
 *
 * @param era         changes every time the host boots or the agent's identity store is reset (Flocker's era)
 * @param datasetRoot the ZFS dataset under which this host keeps datasets (its pool, or a path in it), where peers
 *                    ship replicas to; null for nodes that do not say
 * @param busyPorts   TCP ports that programs other than Flocker listen on at this host's address: an application
 *                    cannot take them as external ports, since every host's proxy must listen on each
 * @param setAside    copies set aside here when a failover ended their line (ZFS names, read-only, kept for the operator)
 * @param fenceAfterSeconds how long this agent's lease on writing datasets with standbys lasts past its last acknowledged
 *                    message: the control service never promotes a standby of this node's datasets before that has passed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeState(
        @JsonProperty("uuid") NodeId uuid,
        @JsonProperty("host") String host,
        @JsonProperty("era") String era,
        @JsonProperty("datasets") List<DatasetState> datasets,
        @JsonProperty("applications") List<ApplicationState> applications,
        @JsonProperty("moves") List<MoveState> moves,
        @JsonProperty("dataset_root") String datasetRoot,
        @JsonProperty("busy_ports") List<Integer> busyPorts,
        @JsonProperty("set_aside") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> setAside,
        @JsonProperty("fence_after_seconds") Double fenceAfterSeconds) {

    public NodeState(NodeId uuid, String host, String era, List<DatasetState> datasets, List<ApplicationState> applications,
                     List<MoveState> moves, String datasetRoot, List<Integer> busyPorts) {
        this(uuid, host, era, datasets, applications, moves, datasetRoot, busyPorts, null, null);
    }

    /** What it holds, with what failover needs of it, for the record kept after it stops reporting. */
    public NodeState holdings() {
        return new NodeState(uuid, host, era, datasets, List.of(), List.of(), datasetRoot, List.of(), List.of(), fenceAfterSeconds);
    }

    public NodeState(NodeId uuid, String host, String era, List<DatasetState> datasets, List<ApplicationState> applications,
                     List<MoveState> moves) {
        this(uuid, host, era, datasets, applications, moves, null);
    }

    public NodeState(NodeId uuid, String host, String era, List<DatasetState> datasets, List<ApplicationState> applications,
                     List<MoveState> moves, String datasetRoot) {
        this(uuid, host, era, datasets, applications, moves, datasetRoot, null);
    }

    public NodeState {
        if (uuid == null) {
            throw new IllegalArgumentException("node state needs a uuid");
        }
        if (host == null || !host.matches("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$")) {
            throw new IllegalArgumentException("node host '" + host + "' must be an IPv4 address");
        }
        datasets = datasets == null ? List.of() : List.copyOf(datasets);
        applications = applications == null ? List.of() : List.copyOf(applications);
        moves = moves == null ? List.of() : List.copyOf(moves);
        busyPorts = busyPorts == null ? List.of() : List.copyOf(busyPorts);
        setAside = setAside == null ? List.of() : List.copyOf(setAside);
    }

    /**
     * The same report without its progress: the sizes, snapshot times and standbys' replication of its datasets, and its
     * moves' bytes, rates and details. Two reports that differ only in these differ in nothing an agent plans from
     * (its planner reads other nodes' copies, generations, applications, moves' phases and hosts), only in what the
     * API shows; the control service pushes such changes to agents less often.
     */
    public NodeState withoutProgress() {
        var plainDatasets = datasets.stream().map(d -> new DatasetState(d.datasetId(), d.primary(), d.path(), d.maximumSize(), d.generation(),
                null, null, List.of())).toList();
        var plainMoves = moves.stream().map(m -> new MoveState(m.datasetId(), m.from(), m.to(), m.phase(), 0, 0, 0, null, null)).toList();
        return new NodeState(uuid, host, era, plainDatasets, applications, plainMoves, datasetRoot, busyPorts, setAside, fenceAfterSeconds);
    }

    /** This node's report of {@code dataset}, if it holds a copy. */
    public java.util.Optional<DatasetState> dataset(DatasetId dataset) {
        return datasets.stream().filter(d -> d.datasetId().equals(dataset)).findFirst();
    }

    /**
     * A dataset on a host.
     *
     * @param primary   true when this host holds the writable copy
     * @param path      where it is mounted, when it is
     * @param usedBytes what its data takes on this host (snapshots not counted); null from agents that do not say
     * @param snapshotTime when its newest snapshot was taken (on the host that wrote it): on a standby, how current it is
     * @param standbys  on the primary of a dataset with replicas: how each standby's replication stands
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DatasetState(
            @JsonProperty("dataset_id") DatasetId datasetId,
            @JsonProperty("primary") boolean primary,
            @JsonProperty("path") String path,
            @JsonProperty("maximum_size") Long maximumSize,
            @JsonProperty("generation") long generation,
            @JsonProperty("used_bytes") Long usedBytes,
            @JsonProperty("snapshot_time") java.time.Instant snapshotTime,
            @JsonProperty("standbys") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<StandbyState> standbys) {

        public DatasetState {
            standbys = standbys == null ? List.of() : List.copyOf(standbys);
        }

        public DatasetState(DatasetId datasetId, boolean primary, String path, Long maximumSize, long generation) {
            this(datasetId, primary, path, maximumSize, generation, null);
        }

        public DatasetState(DatasetId datasetId, boolean primary, String path, Long maximumSize, long generation, Long usedBytes) {
            this(datasetId, primary, path, maximumSize, generation, usedBytes, null, null);
        }
    }

    /**
     * Replication to one standby, as the primary's agent sees it.
     *
     * @param snapshotTime when the newest snapshot the standby verifiably holds was taken; null before its first copy
     * @param sendingBytes bytes of the increment being sent to it now (0 when none is), what it lacks beyond that snapshot
     * @param error        why the last push to it failed, when it did
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StandbyState(
            @JsonProperty("node_uuid") NodeId node,
            @JsonProperty("snapshot_time") java.time.Instant snapshotTime,
            @JsonProperty("sending_bytes") long sendingBytes,
            @JsonProperty("error") String error) {
    }

    /**
     * An application's container on a host.
     *
     * @param health Docker's health status ("starting", "healthy", "unhealthy"), or null when it has no health check
     * @param error  why the agent could not start (or replace) it, or load its image, when it could not; then it may have
     *               no container here at all (not running)
     * @param made   true for a container made and never started (Docker's "created"): a start is all it needs, as on a
     *               move's target before the handoff; null otherwise (agent channel only, not in the API)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ApplicationState(
            @JsonProperty("name") String name,
            @JsonProperty("image") String image,
            @JsonProperty("running") boolean running,
            @JsonProperty("ports") List<Application.Port> ports,
            @JsonProperty("health") String health,
            @JsonProperty("error") String error,
            @JsonProperty("made") Boolean made) {

        public ApplicationState(String name, String image, boolean running, List<Application.Port> ports) {
            this(name, image, running, ports, null, null, null);
        }

        public ApplicationState(String name, String image, boolean running, List<Application.Port> ports, String health) {
            this(name, image, running, ports, health, null, null);
        }

        public ApplicationState(String name, String image, boolean running, List<Application.Port> ports, String health, String error) {
            this(name, image, running, ports, health, error, null);
        }

        public ApplicationState withError(String message) {
            return new ApplicationState(name, image, running, ports, health, message, made);
        }

        /** Running, and past its health check's start when it has one: where clients may be sent. */
        public boolean ready() {
            return running && !"starting".equals(health);
        }
    }

    /**
     * A move of a dataset's primary to another host, as the source host reports it.
     *
     * @param etaSeconds null when unknown
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record MoveState(
            @JsonProperty("dataset_id") DatasetId datasetId,
            @JsonProperty("from") NodeId from,
            @JsonProperty("to") NodeId to,
            @JsonProperty("phase") MovePhase phase,
            @JsonProperty("bytes") long bytes,
            @JsonProperty("expected_bytes") long expectedBytes,
            @JsonProperty("bytes_per_second") double bytesPerSecond,
            @JsonProperty("eta_seconds") Double etaSeconds,
            @JsonProperty("detail") String detail) {
    }
}
