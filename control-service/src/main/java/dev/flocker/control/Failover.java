package dev.flocker.control;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.model.Standbys;
import dev.flocker.control.store.ConfigurationStore;
import dev.flocker.control.store.NodeStateStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Promotes standbys of datasets whose primary's node went silent, and restores their standby count; run every second on
 * every replica. Each change is one conditional configuration write that re-checks its reason, and configuration writes
 * need a majority of replicas, so only the majority side of a partition ever promotes, and only once.
 *
 * <p>A promotion happens only after the primary's node has been silent (no state or ping reached any replica) for
 * {@code failoverAfter}, longer than an agent's lease lasts: a node cut off, not dead, has fenced itself by then (its
 * applications of such datasets stopped, its copies read-only), so there is one writer. The standby chosen is the live one
 * whose newest snapshot is newest; the generation given is greater than any copy ever reported. The applications using the
 * dataset move with it, in the same write.
 */
final class Failover {
    private static final Logger LOG = LoggerFactory.getLogger(Failover.class);
    /** A standby silent for this many times {@code failoverAfter} is replaced by a live node, when there is one. */
    static final int REPLACE_AFTER_FAILOVERS = 6;
    /** Past a node's lease, what its fence may take to stop applications (1 s grace, the kill, the unmount). */
    static final Duration STOP_MARGIN = Duration.ofSeconds(4);
    private final Instant started = Instant.now();

    private final ConfigurationStore configuration;
    private final NodeStateStore state;
    private final Clock clock;
    private final Duration failoverAfter;
    /** The datasets with standbys: the only ones that can fail over, kept from the store's changes (never a walk of all every second). */
    private final DatasetsWhere replicated;

    Failover(ConfigurationStore configuration, NodeStateStore state, Clock clock, Duration failoverAfter) {
        this.configuration = configuration;
        this.state = state;
        this.clock = clock;
        this.failoverAfter = failoverAfter;
        this.replicated = new DatasetsWhere(d -> !d.deleted() && d.replicas() > 0, configuration::datasetsChanged);
    }

    /**
     * A decision: {@code dataset}'s primary {@code from} is replaced by {@code to} at {@code generation}, or (to null) its
     * standbys become {@code standbys} while its primary is {@code from}.
     */
    record Decision(DatasetId dataset, NodeId from, NodeId to, long generation, List<NodeId> standbys, String reason) {
    }

    /** What to change now, as a pure function of the configuration, the cluster state and the nodes' liveness. */
    static List<Decision> decide(Configuration config, ClusterState cluster, Function<NodeId, Optional<Instant>> lastSeen, Instant started,
                                 Instant now, Duration failoverAfter) {
        return decide(config, config.datasets().keySet(), cluster, lastSeen, started, now, failoverAfter);
    }

    /** As above, over the datasets {@code among} (a superset of those with standbys; the others are skipped as ever). */
    static List<Decision> decide(Configuration config, java.util.Collection<DatasetId> among, ClusterState cluster,
                                 Function<NodeId, Optional<Instant>> lastSeen, Instant started, Instant now, Duration failoverAfter) {
        var decisions = new ArrayList<Decision>();
        for (var id : among) {
            var dataset = config.datasets().get(id);
            if (dataset == null || dataset.deleted() || dataset.replicas() == 0) {
                continue;
            }
            var primary = dataset.primary();
            var seen = lastSeen.apply(primary).filter(t -> t.isAfter(started)).orElse(started);
            if (seen.plus(wait(cluster, primary, failoverAfter)).isBefore(now)) {
                promotion(dataset, cluster, seen, now).ifPresent(decisions::add);
                continue;
            }
            // A standby silent for long is replaced by a live node (a short outage keeps its place, and its copy).
            var kept = dataset.standbyNodes().stream().filter(n -> cluster.node(n).isPresent()
                    || !lastSeen.apply(n).filter(t -> t.isAfter(started)).orElse(started).plus(failoverAfter.multipliedBy(REPLACE_AFTER_FAILOVERS))
                    .isBefore(now)).toList();
            if (kept.size() < dataset.replicas()) {
                var without = dataset.withReplicas(dataset.replicas(), kept);
                var chosen = Standbys.choose(without, dataset.replicas(), List.of(), config, cluster); // live nodes only: never a replaced one
                if (!chosen.equals(dataset.standbyNodes()) && chosen.size() > kept.size()) {
                    decisions.add(new Decision(dataset.datasetId(), dataset.primary(), null, 0, chosen, "restoring " + dataset.replicas() + " standby copies"
                            + (kept.size() < dataset.standbyNodes().size() ? " (replacing standbys silent for long)" : "")));
                }
            }
        }
        return decisions;
    }

    /**
     * How long {@code node} must be silent before its datasets fail over: {@code failoverAfter}, or longer when the node
     * said its lease lasts longer (plus {@link #STOP_MARGIN} for its fence to stop its applications).
     */
    static Duration wait(ClusterState cluster, NodeId node, Duration failoverAfter) {
        var report = cluster.node(node).or(() -> Optional.ofNullable(cluster.offline().get(node)));
        var fence = report.map(NodeState::fenceAfterSeconds).map(s -> Duration.ofMillis((long) (s * 1000)).plus(STOP_MARGIN));
        return fence.filter(f -> f.compareTo(failoverAfter) > 0).orElse(failoverAfter);
    }

    private static Optional<Decision> promotion(Dataset dataset, ClusterState cluster, Instant seen, Instant now) {
        var id = dataset.datasetId();
        var best = dataset.standbyNodes().stream().flatMap(n -> cluster.node(n).stream())
                .flatMap(n -> n.dataset(id).filter(d -> d.snapshotTime() != null).map(d -> new Candidate(n.uuid(), d)).stream())
                .max(Comparator.comparing((Candidate c) -> c.copy().snapshotTime()));
        if (best.isEmpty()) {
            return Optional.empty(); // no live standby holds a copy yet: nothing to promote (the primary may come back)
        }
        long generation = cluster.nodes().values().stream().flatMap(n -> n.dataset(id).stream()).mapToLong(NodeState.DatasetState::generation)
                .max().orElse(0);
        generation = Math.max(generation, cluster.offline().values().stream().flatMap(n -> n.dataset(id).stream())
                .mapToLong(NodeState.DatasetState::generation).max().orElse(0));
        if (dataset.failover() != null) {
            generation = Math.max(generation, dataset.failover().generation());
        }
        var to = best.get();
        return Optional.of(new Decision(id, dataset.primary(), to.node(), generation + 1, List.of(), String.format(java.util.Locale.ROOT,
                "node %s silent for %.1f s; standby %s has the newest snapshot (%s)", dataset.primary(),
                Duration.between(seen, now).toMillis() / 1000.0, to.node(), to.copy().snapshotTime())));
    }

    private record Candidate(NodeId node, NodeState.DatasetState copy) {
    }

    void run() {
        var now = clock.instant();
        var current = configuration.current();
        var decisions = decide(current, replicated.in(current), state.current(), state::lastSeen, started, now, failoverAfter);
        for (var decision : decisions) {
            try {
                configuration.update(null, config -> apply(config, decision, now));
            } catch (RuntimeException e) {
                LOG.atWarn().addKeyValue("dataset", decision.dataset()).log("cannot change the configuration for a failover now: " + e.getMessage());
            }
        }
    }

    /** The decision applied to {@code config}, if its reason still holds there (another replica may have acted meanwhile). */
    private Configuration apply(Configuration config, Decision decision, Instant now) {
        var current = config.dataset(decision.dataset()).orElse(null);
        if (current == null || current.deleted()) {
            return config;
        }
        if (decision.to() == null) {
            if (!current.primary().equals(decision.from()) || current.standbyNodes().equals(decision.standbys())) {
                return config; // moved or changed meanwhile: decided again from what is there now
            }
            LOG.atInfo().addKeyValue("dataset", decision.dataset()).addKeyValue("standbys", decision.standbys()).log(decision.reason());
            return config.withDataset(current.withReplicas(current.replicas(), decision.standbys()));
        }
        if (!current.primary().equals(decision.from()) || !current.standbyNodes().contains(decision.to())) {
            return config;
        }
        LOG.atWarn().addKeyValue("dataset", decision.dataset()).addKeyValue("from", decision.from()).addKeyValue("to", decision.to())
                .addKeyValue("generation", decision.generation()).log("failover: " + decision.reason());
        var promoted = config.withDataset(current.promoted(decision.to(), decision.generation(), now));
        // The applications on the dataset go with it (an application and its datasets are on one node).
        for (var app : config.applications().values()) {
            if (app.usesDataset(decision.dataset()) && app.node().equals(decision.from())) {
                promoted = promoted.withApplication(app.withNode(decision.to()));
            }
        }
        return promoted;
    }
}
