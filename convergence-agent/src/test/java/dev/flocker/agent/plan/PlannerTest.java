package dev.flocker.agent.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.agent.plan.LocalState.LocalContainer;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Lease;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The planner as a table: each row is a situation in plain values and the changes (and waits) it must yield. */
class PlannerTest {
    static final NodeId A = NodeId.of("aaaaaaaa-0000-4000-8000-000000000001");
    static final NodeId B = NodeId.of("bbbbbbbb-0000-4000-8000-000000000002");
    static final NodeId C = NodeId.of("cccccccc-0000-4000-8000-000000000003");
    static final DatasetId D = DatasetId.of("dddddddd-0000-4000-8000-000000000004");
    static final DatasetId E = DatasetId.of("eeeeeeee-0000-4000-8000-000000000005");
    static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    static final long GIB = 1L << 30;

    /** A situation seen from node A. */
    static final class World {
        Configuration config = Configuration.EMPTY;
        final Map<NodeId, NodeState> live = new HashMap<>();
        final Map<NodeId, NodeState> offline = new HashMap<>();
        final Map<DatasetId, LocalState.LocalDataset> volumes = new HashMap<>();
        final Map<String, LocalContainer> containers = new HashMap<>();
        final Map<DatasetId, MoveProgress> moves = new HashMap<>();
        final java.util.Set<String> images = new java.util.HashSet<>();
        final Map<DatasetId, ReplicationProgress> replication = new HashMap<>();
        boolean leaseHeld = true;

        /** {@code id} asks for standby copies on {@code nodes}. */
        World standbys(DatasetId id, NodeId... nodes) {
            var d = config.dataset(id).orElseThrow();
            config = config.withDataset(d.withReplicas(nodes.length, List.of(nodes)));
            return this;
        }

        /** The control service promoted {@code to}, in place of the silent primary {@code from}, at {@code generation}. */
        World failover(DatasetId id, NodeId from, NodeId to, long generation) {
            config = config.withDataset(new Dataset(id, from, false, Map.of(), null).withReplicas(1, List.of(to)).promoted(to, generation, NOW));
            return this;
        }

        /** A copy here with {@code snapshots} of our snapshots, the newest taken {@code ago} before now. */
        World copy(DatasetId id, NodeId owner, long generation, boolean writable, int snapshots, java.time.Duration ago) {
            volumes.put(id, new LocalState.LocalDataset(id, null, writable ? "/flocker/" + id : null, writable, !writable, owner, generation, 1000,
                    snapshots == 0 ? null : NOW.minus(ago), snapshots));
            return this;
        }

        World lease(boolean held) {
            leaseHeld = held;
            return this;
        }

        World replication(DatasetId id, boolean running, java.time.Duration endedAgo, boolean failed) {
            replication.put(id, new ReplicationProgress(running, endedAgo == null ? null : NOW.minus(endedAgo), failed));
            return this;
        }

        World dataset(DatasetId id, NodeId primary, Long size) {
            config = config.withDataset(new Dataset(id, primary, false, Map.of(), size));
            return this;
        }

        World deleted(DatasetId id) {
            config = config.withDataset(config.dataset(id).orElseThrow().asDeleted(NOW));
            return this;
        }

        World app(String name, NodeId node, DatasetId volume, String image) {
            var volumes = volume == null ? List.<Application.Volume>of() : List.of(new Application.Volume(volume, "/data"));
            config = config.withApplication(new Application(node, name, image, List.of(), Map.of(), null, List.of(), volumes, null, null, List.of()));
            return this;
        }

        /** {@code name} on {@code node} with dataset {@code volume}, running an image flocker-deploy built, {@code sha256:<id>}. */
        World built(String name, NodeId node, DatasetId volume, String id) {
            var volumes = volume == null ? List.<Application.Volume>of() : List.of(new Application.Volume(volume, "/data"));
            var docker = new dev.flocker.api.model.DockerOptions(null, null, null, null, null, null, null, null, null, null, null, null, null,
                    null, null, null, null, null, "sha256:" + id);
            config = config.withApplication(new Application(node, name, "shop-" + name + ":" + id.substring(0, 12), List.of(), Map.of(), null,
                    List.of(), volumes, null, null, List.of(), null, null, null, null, null, null, docker));
            return this;
        }

        /** {@code name} on {@code node}, depending on {@code on} with {@code condition} ("started" or "healthy"). */
        World dependent(String name, NodeId node, String on, String condition) {
            config = config.withApplication(new Application(node, name, "web:1", List.of(), Map.of(), null, List.of(), List.of(), null, null,
                    List.of(), null, null, null, List.of(new Application.Dependency(on, condition)), null, null, null));
            return this;
        }

        /** A container here for an application of the configuration, in a Docker health state (null: no check). */
        World running(String name, boolean running, String health) {
            var app = application(name);
            containers.put(name, new LocalContainer(name, ApplicationHash.of(app), running, List.of(), "172.17.0.3", health));
            return this;
        }

        /** Another host that reports running {@code app} in a health state. */
        World runsElsewhere(NodeId node, String host, String app, String health) {
            live.put(node, new NodeState(node, host, "e", List.of(), List.of(new NodeState.ApplicationState(app, null, true, null, health)),
                    List.of(), "pool-" + host));
            return this;
        }

        World lease(DatasetId id, NodeId node) {
            config = config.withLease(new Lease(id, node, null));
            return this;
        }

        /** A copy here as ZFS shows it: its mountpoint (null: none), whether mounted, its readonly property, 3 snapshots. */
        World copyAs(DatasetId id, NodeId owner, long generation, String mountpoint, boolean mounted, boolean readOnly) {
            volumes.put(id, new LocalState.LocalDataset(id, null, mountpoint, mounted, readOnly, owner, generation, 1000, NOW, 3));
            return this;
        }

        /** A copy here: owner, generation, mounted read-write or not. */
        World local(DatasetId id, NodeId owner, long generation, boolean writable, Long size) {
            volumes.put(id, new LocalState.LocalDataset(id, size, writable ? "/flocker/" + id : null, writable, !writable, owner, generation, 1000));
            return this;
        }

        World container(String name, DatasetId volume, Application app) {
            containers.put(name, new LocalContainer(name, app == null ? "old" : ApplicationHash.of(app), true, volume, "172.17.0.2"));
            return this;
        }

        World node(NodeId node, String host, NodeState.DatasetState... datasets) {
            live.put(node, new NodeState(node, host, "e", List.of(datasets), List.of(), List.of(), "pool-" + host));
            return this;
        }

        /** {@code node} reports a container of {@code app} made and never started: a move's target made it while the data arrived. */
        World made(NodeId node, String app) {
            return reports(node, new NodeState.ApplicationState(app, null, false, null, null, null, true));
        }

        /** {@code node} reports {@code app} as given, beside what it reported. */
        World reports(NodeId node, NodeState.ApplicationState app) {
            var n = live.get(node);
            var apps = new ArrayList<>(n.applications());
            apps.add(app);
            live.put(node, new NodeState(n.uuid(), n.host(), n.era(), n.datasets(), apps, n.moves(), n.datasetRoot()));
            return this;
        }

        World offlineNode(NodeId node, String host, NodeState.DatasetState... datasets) {
            offline.put(node, new NodeState(node, host, "e", List.of(datasets), List.of(), List.of(), "pool-" + host));
            return this;
        }

        Application application(String name) {
            return config.applications().get(name);
        }

        Planner.MoveSettings settings = Planner.MoveSettings.DEFAULT;

        Planner.Input input() {
            return new Planner.Input(A, config, new ClusterState(live, offline), new LocalState(volumes, containers, images), moves,
                    settings, NOW, replication, leaseHeld, java.time.Duration.ofSeconds(1));
        }
    }

    static World world() {
        return new World().node(A, "10.0.0.1");
    }

    static NodeState.DatasetState held(DatasetId id, boolean primary, long generation) {
        return new NodeState.DatasetState(id, primary, null, null, generation);
    }

    /** One line per change, e.g. "CreateDataset dddddddd", "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1", "Wait dddddddd: ...". */
    static List<String> describe(Plan plan) {
        var lines = new ArrayList<String>();
        for (var change : plan.changes()) {
            var name = change.getClass().getSimpleName();
            lines.add(switch (change) {
                case Change.PushIncrement m -> name + " " + shortId(m.dataset()) + " -> " + m.to().host() + " " + m.phase() + " round " + m.round();
                case Change.Handoff m -> name + " " + shortId(m.dataset()) + " -> " + m.to().host() + " gen " + m.generation() + ": "
                        + String.join(", ", m.steps().stream().map(step -> step.getClass().getSimpleName()).toList());
                case Change.PassOwnership m -> name + " " + shortId(m.dataset()) + " -> " + m.to().host() + " gen " + m.generation();
                case Change.ResumePass m -> name + " " + shortId(m.dataset()) + " -> " + m.to().host() + " gen " + m.generation();
                case Change.AbandonPreCopy m -> name + " " + shortId(m.dataset()) + ": " + m.reason();
                case Change.StartApplication s -> name + " " + s.application().name();
                case Change.CreateApplication s -> name + " " + s.application().name();
                case Change.RestartApplication s -> name + " " + s.application().name();
                case Change.StopApplication s -> name + " " + s.name();
                case Change.ResizeDataset r -> name + " " + shortId(r.dataset()) + " " + r.maximumSize();
                case Change.FetchImage f -> name + " " + f.imageId().substring(7, 19) + " for " + f.application();
                case Change.Replicate r -> name + " " + shortId(r.dataset()) + " -> " + String.join(", ", r.to().stream().map(Change.Peer::host).toList());
                case Change.TakeOver t -> name + " " + shortId(t.dataset()) + " gen " + t.generation();
                case Change.SetAside t -> name + " " + shortId(t.dataset()) + " gen " + t.generation();
                default -> name + " " + shortId(change.dataset());
            });
        }
        plan.waits().forEach(w -> lines.add("Wait " + shortId(w.dataset()) + ": " + w.reason()));
        return lines;
    }

    static String shortId(DatasetId id) {
        return id.toString().substring(0, 8);
    }

    static Stream<Arguments> situations() {
        var rows = new ArrayList<Arguments>();
        rows.add(row("a new dataset wanted here and held nowhere is created",
                world().dataset(D, A, GIB), "CreateDataset dddddddd"));
        rows.add(row("a dataset wanted elsewhere and not held here: nothing",
                world().dataset(D, B, null).node(B, "10.0.0.2")));
        rows.add(row("wanted here, a replica elsewhere but no owner reporting: wait, never create empty",
                world().dataset(D, A, null).node(B, "10.0.0.2", held(D, false, 1)),
                "Wait dddddddd: no host reports the writable copy; replicas are on 10.0.0.2; waiting for the owner instead of creating an empty dataset"));
        rows.add(row("wanted here, the owner elsewhere is live: its agent moves it here, nothing to do",
                world().dataset(D, A, null).node(B, "10.0.0.2", held(D, true, 1))));
        rows.add(row("FLOC-2060: wanted here, its last holder stopped reporting: wait, never create empty",
                world().dataset(D, A, null).offlineNode(B, "10.0.0.2", held(D, true, 1)),
                "Wait dddddddd: host 10.0.0.2 held this dataset and stopped reporting; waiting for it instead of creating an empty dataset"));
        rows.add(row("an offline node that held something else does not block creation",
                world().dataset(D, A, null).offlineNode(B, "10.0.0.2", held(E, true, 1)), "CreateDataset dddddddd"));
        rows.add(row("owned here but unmounted (after a handoff to here, or a restart): made writable",
                world().dataset(D, A, null).local(D, A, 2, false, null), "MakeWritable dddddddd"));
        rows.add(row("owned here and frozen (a handoff interrupted, then the configuration wanted it here again): made writable",
                world().dataset(D, A, null).copyAs(D, A, 2, "/flocker/" + D, true, true), "MakeWritable dddddddd"));
        rows.add(row("owned and writable, size changed: resized",
                world().dataset(D, A, 2 * GIB).local(D, A, 2, true, GIB), "ResizeDataset dddddddd " + 2 * GIB));
        rows.add(row("owned and writable, unchanged: nothing",
                world().dataset(D, A, GIB).local(D, A, 2, true, GIB)));
        rows.add(row("a replica here whose owner elsewhere is live, wanted elsewhere: nothing",
                world().dataset(D, B, null).local(D, B, 2, false, null).node(B, "10.0.0.2", held(D, true, 2))));
        rows.add(row("a replica here with its data, wanted here, its owner reporting (a move to here): its mountpoint prepared, unmounted",
                world().dataset(D, A, null).copyAs(D, B, 2, null, false, true).node(B, "10.0.0.2", held(D, true, 2)), "PrepareMount dddddddd"));
        rows.add(row("a first move's copy (no mountpoint, readonly=off: the handoff's full final increment), wanted here, its owner reporting:"
                + " nothing (its pass comes next; once owned here it is made writable in one step)",
                world().dataset(D, A, null).copyAs(D, B, 2, null, false, false).node(B, "10.0.0.2", held(D, true, 2))));
        rows.add(row("the same copy after its handoff failed, wanted elsewhere now: made a replica (read-only)",
                world().dataset(D, B, null).copyAs(D, B, 2, null, false, false).node(B, "10.0.0.2", held(D, true, 2)), "MakeReplica dddddddd"));
        rows.add(row("a prepared replica (its mountpoint, readonly=off), wanted here, its owner reporting: nothing (the handoff makes it writable)",
                world().dataset(D, A, null).copyAs(D, B, 2, "/flocker/" + D, false, false).node(B, "10.0.0.2", held(D, true, 2))));
        rows.add(row("a former writable copy made a replica here (its mountpoint kept, read-only), wanted here again: prepared",
                world().dataset(D, A, null).copyAs(D, B, 2, "/flocker/" + D, false, true).node(B, "10.0.0.2", held(D, true, 2)),
                "PrepareMount dddddddd"));
        var passing = world().dataset(D, A, null).copyAs(D, A, 3, "/flocker/" + D, false, false);
        passing.live.put(B, new NodeState(B, "10.0.0.2", "e", List.of(held(D, false, 2)), List.of(), List.of(new NodeState.MoveState(D, B, A,
                dev.flocker.api.model.MovePhase.HANDOFF, 0, 0, 0, null, "passing ownership")), "pool-10.0.0.2"));
        rows.add(row("a prepared copy handed here unmounted while its handoff runs (the handoff's command mounts before it records the"
                + " owner, so it did not mount this one): made writable here", passing, "MakeWritable dddddddd"));
        var passingWithApp = world().dataset(D, A, null).app("db", A, D, "postgres").copyAs(D, A, 3, "/flocker/" + D, false, false);
        passingWithApp.live.putAll(passing.live);
        passingWithApp.containers.put("db", new LocalContainer("db", ApplicationHash.of(passingWithApp.application("db")), false, List.of(D),
                "172.17.0.9", null, true));
        rows.add(row("its application starts after that mount, in the step after it (a failed mount skips the start)", passingWithApp,
                "MakeWritable dddddddd", "StartApplication db"));
        rows.add(row("a prepared copy handed here, no handoff running any more (its old owner stopped before mounting it): made writable",
                world().dataset(D, A, null).copyAs(D, A, 3, "/flocker/" + D, false, false).node(B, "10.0.0.2", held(D, false, 2)),
                "MakeWritable dddddddd"));
        rows.add(row("a replica without data yet (a first copy arriving), wanted here: not prepared before it has a snapshot",
                world().dataset(D, A, null).local(D, B, 2, false, null).node(B, "10.0.0.2", held(D, true, 2))));
        rows.add(row("handed off from here but not made a replica (its last step failed or was cut off): made one",
                world().dataset(D, B, null).copyAs(D, B, 5, "/flocker/" + D, false, false).node(B, "10.0.0.2", held(D, true, 5)),
                "MakeReplica dddddddd"));
        var tail = world().dataset(D, B, null).copyAs(D, B, 5, "/flocker/" + D, false, false).node(B, "10.0.0.2", held(D, false, 4));
        tail.moves.put(D, MoveProgress.towards(B).running(dev.flocker.api.model.MovePhase.HANDOFF));
        rows.add(row("handed off from here, the handoff still running: its own last step makes it a replica", tail));
        var stopped = world().dataset(D, B, null).app("db", B, D, "postgres").copyAs(D, B, 5, "/flocker/" + D, false, false)
                .node(B, "10.0.0.2", held(D, false, 4));
        stopped.containers.put("db", new LocalContainer("db", "h", false, List.of(D), null, null, false));
        stopped.moves.put(D, MoveProgress.towards(B).running(dev.flocker.api.model.MovePhase.HANDOFF));
        rows.add(row("its stopped container is left to that last step too, not removed while the target starts", stopped));
        var done = world().dataset(D, B, null).app("db", B, D, "postgres").copyAs(D, B, 5, null, false, true)
                .node(B, "10.0.0.2", held(D, true, 5));
        done.containers.put("db", new LocalContainer("db", "h", false, List.of(D), null, null, false));
        rows.add(row("once no handoff runs, a stopped container left here is removed", done, "StopApplication db"));
        rows.add(row("a replica here, wanted here, owner not reporting: wait instead of inventing data",
                world().dataset(D, A, null).local(D, B, 2, false, null),
                "Wait dddddddd: the owner " + B + " is not reporting; waiting for it to hand the dataset over instead of inventing data"));
        rows.add(row("owned here, wanted on a live node, no application with it (idle): handed off at once, no pre-copy",
                world().dataset(D, B, null).local(D, A, 4, true, null).node(B, "10.0.0.2"),
                "Handoff dddddddd -> 10.0.0.2 gen 5: HoldConnections, StopUsers, Freeze, PushIncrement, RecordOwner, PassOwnership, ForwardConnections"));
        var withUser = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 4, true, null).node(B, "10.0.0.2");
        rows.add(row("owned here, wanted on a live node with the application configured with it: pre-copied (it may still write)",
                withUser, "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("owned here and read-only (a handoff interrupted by a crash), still wanted elsewhere: the move resumes",
                world().dataset(D, B, null).local(D, A, 4, false, null).node(B, "10.0.0.2"), "Handoff dddddddd -> 10.0.0.2 gen 5: HoldConnections, PushIncrement, RecordOwner, PassOwnership, ForwardConnections"));
        rows.add(row("owned here and read-only, now wanted here again: made writable (the handoff never happened)",
                world().dataset(D, A, null).local(D, A, 4, false, null).node(B, "10.0.0.2", held(D, false, 0)), "MakeWritable dddddddd"));
        rows.add(row("wanted on a node that is not reporting: stays here, reported as waiting",
                world().dataset(D, B, null).local(D, A, 1, true, null),
                "Wait dddddddd: the target node " + B + " is not reporting; the dataset stays here until it is"));
        rows.add(row("leased to this host: never handed off",
                world().dataset(D, B, null).lease(D, A).local(D, A, 1, true, null).node(B, "10.0.0.2"),
                "Wait dddddddd: leased to this host"));
        rows.add(row("a lease elsewhere does not hold it here (and, idle, it is handed off at once)",
                world().dataset(D, B, null).lease(D, C).local(D, A, 1, true, null).node(B, "10.0.0.2"),
                "Handoff dddddddd -> 10.0.0.2 gen 2: HoldConnections, StopUsers, Freeze, PushIncrement, RecordOwner, PassOwnership, ForwardConnections"));
        rows.add(row("leased to the target (a Docker Mount waits there), no application with it: moved without pre-copy",
                world().dataset(D, B, null).lease(D, B).local(D, A, 1, true, null).node(B, "10.0.0.2"),
                "Handoff dddddddd -> 10.0.0.2 gen 2: HoldConnections, StopUsers, Freeze, PushIncrement, RecordOwner, PassOwnership, ForwardConnections"));
        var withApp = world().dataset(D, B, null).lease(D, B).app("db", B, D, "postgres").local(D, A, 1, true, null).node(B, "10.0.0.2");
        rows.add(row("leased to the target but an application goes with it: pre-copied",
                withApp, "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        rows.add(row("in use by an application configured to stay here: never handed off (and the application runs)",
                world().dataset(D, B, null).app("db", A, D, "postgres").local(D, A, 1, true, null).node(B, "10.0.0.2"),
                "StartApplication db", "Wait dddddddd: in use by application db, which is configured to stay on this host"));
        var moving = world().dataset(D, B, null).app("db", B, D, "postgres").local(D, A, 1, true, null).node(B, "10.0.0.2");
        moving.container("db", D, moving.application("db"));
        rows.add(row("an application moving away with its dataset keeps running through the pre-copy (the handoff stops it)",
                moving, "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        var plain = world().app("web", B, null, "nginx").node(B, "10.0.0.2");
        plain.container("web", null, plain.application("web"));
        rows.add(row("an application without a dataset configured elsewhere is stopped here",
                plain, "StopApplication web"));
        rows.add(row("an application starts once its dataset is here, owned and writable",
                world().dataset(D, A, null).app("db", A, D, "postgres").local(D, A, 2, true, null), "StartApplication db"));
        rows.add(row("an application whose dataset is only a replica here (a move towards it) has its container made, not started:"
                + " the handoff only starts it",
                world().dataset(D, A, null).app("db", A, D, "postgres").local(D, B, 1, false, null).node(B, "10.0.0.2", held(D, true, 1)),
                "CreateApplication db"));
        var made = world().dataset(D, A, null).app("db", A, D, "postgres").local(D, B, 1, false, null).node(B, "10.0.0.2", held(D, true, 1));
        made.containers.put("db", new LocalContainer("db", ApplicationHash.of(made.application("db")), false, List.of(D), null, null, true));
        rows.add(row("a container made during the pre-copy is kept, not started, while the copy is owned elsewhere", made));
        var handedOver = world().dataset(D, A, null).app("db", A, D, "postgres").local(D, A, 2, false, null);
        handedOver.containers.put("db", new LocalContainer("db", ApplicationHash.of(handedOver.application("db")), false, List.of(D), null,
                null, true));
        rows.add(row("once the copy is owned here, the container made during the pre-copy is started (no new one)", handedOver,
                "MakeWritable dddddddd", "StartApplication db"));
        var exited = world().dataset(D, A, null).app("db", A, D, "postgres").local(D, B, 1, false, null).node(B, "10.0.0.2", held(D, true, 1));
        exited.containers.put("db", new LocalContainer("db", ApplicationHash.of(exited.application("db")), false, List.of(D), null, null, false));
        rows.add(row("a container that ran (exited) on a copy owned elsewhere is removed: a restart policy could start it again", exited,
                "StopApplication db"));
        rows.add(row("an application whose dataset is owned but not yet mounted starts in a later step of the same plan",
                world().dataset(D, A, null).app("db", A, D, "postgres").local(D, A, 2, false, null), "MakeWritable dddddddd",
                "StartApplication db"));
        rows.add(row("depends_on: an application whose dependency runs nowhere yet is not started",
                world().app("db", A, null, "postgres").dependent("web", A, "db", "started"), "StartApplication db"));
        rows.add(row("depends_on: started once its dependency's container runs here",
                world().app("db", A, null, "postgres").dependent("web", A, "db", "started").running("db", true, null), "StartApplication web"));
        rows.add(row("depends_on: a dependency reported running by another host counts",
                world().app("db", B, null, "postgres").dependent("web", A, "db", "started").runsElsewhere(B, "10.0.0.2", "db", null),
                "StartApplication web"));
        rows.add(row("depends_on healthy: a running dependency whose check is still starting is not enough",
                world().app("db", A, null, "postgres").dependent("web", A, "db", "healthy").running("db", true, "starting")));
        rows.add(row("depends_on healthy: an unhealthy dependency elsewhere is not enough",
                world().app("db", B, null, "postgres").dependent("web", A, "db", "healthy").runsElsewhere(B, "10.0.0.2", "db", "unhealthy")));
        rows.add(row("depends_on healthy: started once the dependency is healthy",
                world().app("db", A, null, "postgres").dependent("web", A, "db", "healthy").running("db", true, "healthy"),
                "StartApplication web"));
        var afterStart = world().app("db", A, null, "postgres").dependent("web", A, "db", "started").running("db", false, null);
        afterStart.running("web", true, null);
        rows.add(row("depends_on orders starts only: a running dependent is left alone when its dependency has stopped (and an"
                + " exited container is its restart policy's business)", afterStart));
        var image = "12ab".repeat(16);
        rows.add(row("a built image this host lacks is fetched at once, while its dataset is still elsewhere, and the application is not"
                + " started without it", world().dataset(D, A, null).built("web", A, D, image).local(D, A, 2, false, null),
                "MakeWritable dddddddd", "FetchImage 12ab12ab12ab for web"));
        var imageHere = world().dataset(D, A, null).built("web", A, D, image).local(D, A, 2, false, null);
        imageHere.images.add("sha256:" + image);
        rows.add(row("an application whose built image is here starts", imageHere, "MakeWritable dddddddd", "StartApplication web"));
        var newBuild = world().built("web", A, null, image);
        newBuild.container("web", null, world().app("web", A, null, "shop-web:old").application("web"));
        rows.add(row("a new build is fetched while the old container keeps running; it is replaced once the image is here", newBuild,
                "FetchImage 12ab12ab12ab for web"));
        var twoHere = world().dataset(D, A, null).dataset(E, A, null).local(D, A, 2, true, null).local(E, B, 1, false, null)
                .node(B, "10.0.0.2", held(E, true, 1));
        twoHere.config = twoHere.config.withApplication(new Application(A, "db", "postgres", List.of(), Map.of(), null, List.of(), List.of(),
                null, null, List.of()).withVolumes(List.of(new Application.Volume(D, "/data"), new Application.Volume(E, "/wal"))));
        rows.add(row("an application with two datasets does not start while one is still owned elsewhere (its container is made)", twoHere,
                "CreateApplication db"));
        var bothHere = world().dataset(D, A, null).dataset(E, A, null).local(D, A, 2, true, null).local(E, A, 2, false, null);
        bothHere.config = twoHere.config;
        rows.add(row("an application with two datasets starts once both are owned here (one made writable in the same plan)", bothHere,
                "MakeWritable eeeeeeee", "StartApplication db"));
        var sharing = world().dataset(D, B, null).app("db", B, D, "postgres").app("backup", B, D, "alpine").local(D, A, 1, true, null)
                .node(B, "10.0.0.2");
        sharing.container("db", D, sharing.application("db"));
        sharing.container("backup", D, sharing.application("backup"));
        rows.add(row("two applications sharing a dataset move with it: both keep running through the pre-copy", sharing,
                "PushIncrement dddddddd -> 10.0.0.2 pre-copy round 1"));
        var changed = world().dataset(D, A, null).app("db", A, D, "postgres:15").local(D, A, 2, true, null);
        changed.container("db", D, null);
        rows.add(row("a container made from another configuration is replaced", changed, "RestartApplication db"));
        var same = world().dataset(D, A, null).app("db", A, D, "postgres:15").local(D, A, 2, true, null);
        same.container("db", D, same.application("db"));
        rows.add(row("a container made from the current configuration is left alone", same));
        var deleted = world().dataset(D, A, null).deleted(D).local(D, A, 2, true, null);
        deleted.container("old-db", D, null);
        rows.add(row("a deleted dataset: its containers stop, then every local copy goes", deleted,
                "StopApplication old-db", "DeleteDataset dddddddd"));
        rows.add(row("a deleted dataset's replica goes too",
                world().dataset(D, B, null).deleted(D).local(D, B, 2, false, null), "DeleteDataset dddddddd"));
        rows.add(row("a deleted dataset leased to this host stays until the lease ends",
                world().dataset(D, A, null).deleted(D).lease(D, A).local(D, A, 2, true, null),
                "Wait dddddddd: deleted in the configuration but leased to this host; kept until the lease ends"));
        rows.add(row("a dataset the configuration does not know is never touched",
                world().local(E, A, 1, true, null).local(D, null, 0, false, null)));
        rows.add(row("handed over by this host but the new owner's copy does not record it (crash mid-handoff): completed",
                world().dataset(D, B, null).local(D, B, 3, false, null).node(B, "10.0.0.2", held(D, false, 0)),
                "ResumePass dddddddd -> 10.0.0.2 gen 3"));
        rows.add(row("the new owner records the handoff: nothing",
                world().dataset(D, B, null).local(D, B, 3, false, null).node(B, "10.0.0.2", held(D, true, 3))));
        var stale = world().dataset(D, A, null).app("db", A, D, "postgres").local(D, A, 2, true, null).node(B, "10.0.0.2", held(D, true, 3));
        rows.add(row("a copy owned here but superseded by a newer generation elsewhere is made a replica, and no app starts on it",
                stale, "MakeReplica dddddddd", "CreateApplication db"));
        rows.add(row("a writable copy this host does not own is made a replica",
                world().dataset(D, B, null).local(D, B, 2, true, null).node(B, "10.0.0.2", held(D, true, 2)), "MakeReplica dddddddd"));
        return rows.stream();
    }

    static Arguments row(String situation, World world, String... expected) {
        return Arguments.of(situation, world, List.of(expected));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("situations")
    void plans(String situation, World world, List<String> expected) {
        assertPlans(situation, Planner.plan(world.input()), expected);
    }

    /** Each planned change described as expected, in order; waits are compared by their start, the reason's first words being what a user reads. */
    static void assertPlans(String situation, Plan plan, List<String> expected) {
        var lines = describe(plan);
        assertThat(lines).as(situation).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(lines.get(i)).as(situation).startsWith(expected.get(i));
        }
    }

    @Test
    void aContainerMadeAndCurrentIsOnlyStartedAndAnyOtherIsMadeFirst() {
        var w = world().dataset(D, A, null).app("db", A, D, "postgres").local(D, A, 2, true, null);
        assertThat(Planner.plan(w.input()).changes(Change.StartApplication.class)).singleElement()
                .extracting(Change.StartApplication::made).isEqualTo(false);
        w.containers.put("db", new LocalContainer("db", ApplicationHash.of(w.application("db")), false, List.of(D), "172.17.0.9", null, true));
        assertThat(Planner.plan(w.input()).changes(Change.StartApplication.class)).singleElement()
                .extracting(Change.StartApplication::made).isEqualTo(true);
    }
}
