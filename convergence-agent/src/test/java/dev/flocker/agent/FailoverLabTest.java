package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Surviving the loss of a host, on three lab hosts with real PostgreSQL, ZFS, SSH and the agents' leases: the database's
 * dataset has one standby; a client inserts through n3's address, which runs neither copy.
 * <ol>
 * <li>Host death: n1 (primary) loses its agent (kill -9), its database (docker kill) and its link at once. The standby on
 *     n2 is promoted; the client's inserts through n3 succeed again; every row acknowledged more than a few seconds
 *     before the death is there. RTO and RPO are printed. n1 comes back as a standby, its own line set aside.</li>
 * <li>Partition: n2 (now primary) is cut off with everything running. A client inside n2's namespace writing straight to
 *     its database's container shows that the database stopped taking writes before the control service promoted n1,
 *     and a watcher sampling every host's ZFS every 100 ms never sees two writable (mounted) copies.</li>
 * </ol>
 */
@Tag("e2e")
@WithLab(name = "tfail", nodes = 3, images = {"busybox", "postgres"})
class FailoverLabTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);
    static final int PORT = 15434;
    /** Writes later than this before a host's death may be lost (the replication interval plus shipping, with margin). */
    static final Duration RPO_BOUND = Duration.ofSeconds(5);
    @Test
    void aDeadPrimaryFailsOverAndACutOffOneFencesItselfBeforeTheStandbyIsPromoted(Lab lab) throws Exception {
        var id = cluster.client.createDataset(N1, null, Map.of("name", "pgdata"), null, null).datasetId();
        var dataset = cluster.client.setReplicas(id, 1, List.of(N2));
        assertThat(dataset.standbyNodes()).containsExactly(N2);
        cluster.client.createContainer(new Application(N1, "pg", "flocker/postgres:15", List.of(new Application.Port(5432, PORT)),
                Map.of("POSTGRES_PASSWORD", "secret"), null, List.of(), List.of(new Application.Volume(id, "/var/lib/postgresql/data")),
                null, null, List.of()));
        cluster.await("PostgreSQL answers through n3", 120, () -> psql(3, "select 1").ok());
        assertThat(psql(3, "create table rows (id int primary key, acked bigint)").ok()).isTrue();
        cluster.await("n2's standby copy is current", 60, () -> standbyLag(id, N2) != null && standbyLag(id, N2) < 3);

        var watcher = new TwoWriters(lab, id);
        Thread watching = null;
        try {
            // (1) n1 dies: agent, database and link at once.
            var writer = new Writer(3);
            var writing = Thread.ofVirtual().start(writer);
            cluster.await("the client inserts through n3", 30, () -> writer.acknowledged.size() > 50);
            var death = Instant.now();
            cluster.killAgent(1);
            cluster.docker(1, "kill", "pg");
            lab.cut(1);
            cluster.await("n2 holds the writable copy", 90, () -> N2.equals(cluster.primaryOf(id)));
            cluster.await("inserts through n3 succeed again", 120, () -> writer.lastAck().isAfter(death.plusSeconds(1)));
            writer.stop = true;
            writing.join();
            var rto = Duration.between(death, writer.firstAckAfterOutage(death));
            var present = ids(psql(2, "select id from rows"));
            var missing = writer.acknowledged.entrySet().stream().filter(e -> !present.contains(e.getKey())).toList();
            var oldestMissing = missing.stream().map(Map.Entry::getValue).min(Instant::compareTo).orElse(null);
            assertThat(oldestMissing == null || oldestMissing.isAfter(death.minus(RPO_BOUND)))
                    .as("rows acknowledged more than %s before the death are all there; missing: %d, oldest acknowledged at %s, death at %s",
                            RPO_BOUND, missing.size(), oldestMissing, death).isTrue();
            System.out.printf("failover after host death: RTO %.1f s (death to the first insert acknowledged through n3); RPO %d acknowledged"
                            + " rows missing, spanning %.1f s before the death; %d rows acknowledged in all%n", rto.toMillis() / 1000.0, missing.size(),
                    oldestMissing == null ? 0.0 : Duration.between(oldestMissing, death).toMillis() / 1000.0, writer.acknowledged.size());

            // n1 comes back: its line is set aside (kept), and it becomes n2's standby.
            lab.heal(1);
            cluster.startAgent(1, "");
            cluster.await("n1 reports its old line set aside", 90, () -> cluster.control.clusterState().node(N1)
                    .map(n -> n.setAside().stream().anyMatch(name -> name.contains(id + ".diverged-g"))).orElse(false));
            cluster.await("n1 is n2's current standby", 120, () -> standbyLag(id, N1) != null && standbyLag(id, N1) < 5);

            // (2) n2, now the primary, is cut off with everything running: a client on n2 writes straight to its database. (Watched
            // from here: in (1) the dead host's copy stays mounted in the one zfs-fuse all lab hosts share, though nothing can write it.)
            watching = Thread.ofVirtual().start(watcher);
            // The container's address is its network sandbox's (it joined that namespace), as the agent's routes use it.
            var address = cluster.docker(2, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                    Containers.sandboxName("pg")).strip();
            var local = new Writer(2, address);
            var localWriting = Thread.ofVirtual().start(local);
            cluster.await("the client on n2 inserts", 30, () -> local.acknowledged.size() > 20);
            lab.cut(2);
            cluster.await("n1 promoted", 90, () -> cluster.client.datasets().value().stream().anyMatch(d -> d.datasetId().equals(id)
                    && N1.equals(d.primary())));
            var promotedAt = cluster.client.datasets().value().stream().filter(d -> d.datasetId().equals(id)).findFirst()
                    .map(Dataset::failover).orElseThrow().at();
            cluster.await("PostgreSQL answers on n1 through n3", 120, () -> psql(3, "select 1").ok());
            local.stop = true;
            localWriting.join();
            var lastLocal = local.lastAck();
            System.out.printf("partition: n2's database took its last write %.1f s before n1 was promoted%n",
                    Duration.between(lastLocal, promotedAt).toMillis() / 1000.0);
            assertThat(lastLocal).as("n2 stopped taking writes before n1 was promoted").isBefore(promotedAt);

            lab.heal(2);
            cluster.await("n2 reports its divergent line set aside", 90, () -> cluster.control.clusterState().node(N2)
                    .map(n -> n.setAside().stream().anyMatch(name -> name.contains(id + ".diverged-g"))).orElse(false));
        } finally {
            watcher.stop = true;
            if (watching != null) {
                watching.join();
            }
            lab.heal(1);
            lab.heal(2);
        }
        assertThat(watcher.samples.get()).as("ZFS samples taken").isGreaterThan(100);
        assertThat(watcher.twoWritable.get()).as("moments with two writable copies, of %d samples", watcher.samples.get()).isZero();
    }

    /**
     * A new standby's first copy is interrupted twice, by kill -9 of the standby's agent and then of the primary's (whose
     * push breaks off mid-stream): after each restart replication resumes, the standby becomes current, and a move to it
     * (which only sends the increment) finds every file.
     */
    @Test
    void aStandbysCatchUpSurvivesKill9OfEitherAgent() throws Exception {
        var n3 = LabCluster.nodeId(3);
        var id = cluster.client.createDataset(N1, null, Map.of("name", "catch-up"), null, null).datasetId();
        cluster.await("n1 mounts it", 60, () -> N1.equals(cluster.primaryOf(id)));
        var files = MovesTest.writeFiles(cluster.mountpoint(1, id), 6, 64 << 20);
        cluster.client.setReplicas(id, 1, List.of(n3));
        cluster.await("the first copy to n3 starts", 60, () -> pushLines(id, "full push") > 0);
        cluster.killAgent(3);
        cluster.startAgent(3, "");
        cluster.killAgent(1);
        boolean interrupted = pushLines(id, "push done") == 0;
        cluster.startAgent(1, "");
        cluster.await("n3 is a current standby", 180, () -> standbyLag(id, n3) != null && standbyLag(id, n3) < 5);
        System.out.printf("catch-up: the primary's first push to n3 was %s when both agents were killed%n", interrupted ? "running" : "done");
        cluster.client.moveDataset(id, n3);
        cluster.await("n3 holds the writable copy", 120, () -> n3.equals(cluster.primaryOf(id)));
        assertThat(MovesTest.checksums(cluster.mountpoint(3, id))).isEqualTo(files);
        var moved = cluster.client.datasets().value().stream().filter(d -> d.datasetId().equals(id)).findFirst().orElseThrow();
        assertThat(moved.standbyNodes()).as("moved to its standby: the two swap").containsExactly(N1);
    }

    /**
     * A primary whose loop is stuck (a failpoint holds it) when it is cut off cannot fence through its loop: the fence
     * watchdog kills its application from its own thread, before the standby is promoted.
     */
    @Test
    void aCutOffPrimaryWhoseLoopIsStuckStillStopsWritingBeforeThePromotion(Lab lab) throws Exception {
        var n3 = LabCluster.nodeId(3);
        var stuck = cluster.agentLog(3).resolveSibling("n3-stuck");
        cluster.killAgent(3);
        cluster.startAgent(3, "loop:120000@" + stuck);
        var id = cluster.client.createDataset(n3, null, Map.of("name", "ticks"), null, null).datasetId();
        cluster.client.setReplicas(id, 1, List.of(N1));
        cluster.client.createContainer(new Application(n3, "ticker", "flocker/busybox:local", List.of(), Map.of(), null,
                List.of("sh", "-c", "while true; do date >> /data/ticks; usleep 100000; done"), List.of(new Application.Volume(id, "/data")),
                null, null, List.of()));
        var ticks = cluster.mountpoint(3, id).resolve("ticks");
        cluster.await("the ticker writes on n3", 120, () -> java.nio.file.Files.exists(ticks));
        cluster.await("n1's standby copy is current", 120, () -> standbyLag(id, N1) != null && standbyLag(id, N1) < 3);
        Thread.sleep(3000);
        cluster.await("n1's standby copy has ticks", 60, () -> standbyLag(id, N1) < 2); // increments since the file was made
        java.nio.file.Files.writeString(stuck, "");
        cluster.await("n3's loop is held", 30, () -> logOf(3).contains("pausing at failpoint"));
        lab.cut(3);
        try {
            cluster.await("n1 promoted", 90, () -> cluster.client.datasets().value().stream().anyMatch(d -> d.datasetId().equals(id)
                    && N1.equals(d.primary())));
            var promotedAt = cluster.client.datasets().value().stream().filter(d -> d.datasetId().equals(id)).findFirst()
                    .map(Dataset::failover).orElseThrow().at();
            Thread.sleep(1000);
            var lastWrite = java.nio.file.Files.getLastModifiedTime(ticks).toInstant();
            System.out.printf("stuck loop: n3's application wrote last %.1f s before n1 was promoted%n",
                    Duration.between(lastWrite, promotedAt).toMillis() / 1000.0);
            assertThat(lastWrite).as("n3 stopped writing before n1 was promoted").isBefore(promotedAt);
            assertThat(logOf(3)).contains("the loop had not fenced this dataset");
        } finally {
            java.nio.file.Files.deleteIfExists(stuck);
            cluster.killAgent(3);
            lab.heal(3);
            cluster.startAgent(3, "");
        }
        cluster.await("n3 reports its line set aside", 90, () -> cluster.control.clusterState().node(n3)
                .map(n -> n.setAside().stream().anyMatch(name -> name.contains(id + ".diverged-g"))).orElse(false));
        cluster.client.deleteContainer("ticker");
        // What n3 wrote after its last increment reached n1 is in the copy set aside, read as an operator would.
        var name = cluster.control.clusterState().node(n3).orElseThrow().setAside().stream().filter(n -> n.contains(id.toString()))
                .findFirst().orElseThrow();
        var kept = readSetAside(name, "ticks");
        cluster.await("n1's copy is writable", 60, () -> N1.equals(cluster.primaryOf(id)));
        var promoted = java.nio.file.Files.readAllLines(cluster.mountpoint(1, id).resolve("ticks"));
        int common = 0;
        while (common < Math.min(kept.size(), promoted.size()) && kept.get(common).equals(promoted.get(common))) {
            common++;
        }
        System.out.printf("set aside: %d lines, %d of them also on the promoted copy%n", kept.size(), common);
        assertThat(common).as("the promoted copy starts with what was replicated").isPositive();
        assertThat(kept.size()).as("lines n3 wrote that n1 never got are kept (set aside, first and last: %s, %s; promoted: %d lines,"
                + " last %s)", kept.get(0), kept.get(kept.size() - 1), promoted.size(), promoted.get(promoted.size() - 1)).isGreaterThan(common);
    }

    /** Lines of n1's agent log about pushes of {@code id} that contain {@code text}. */
    static long pushLines(DatasetId id, String text) {
        return logOf(1).lines().filter(l -> l.contains(text) && l.contains(id.toString())).count();
    }

    /** The lines of {@code file} in a copy set aside (mounted read-only for the time of reading, as docs/OPERATIONS.md says). */
    static List<String> readSetAside(String name, String file) throws Exception {
        var at = java.nio.file.Files.createTempDirectory("set-aside");
        zfs("set", "mountpoint=" + at, name);
        try {
            if (!java.nio.file.Files.exists(at.resolve(file))) {
                zfs("mount", name);
            }
            return java.nio.file.Files.readAllLines(at.resolve(file));
        } finally {
            zfs("unmount", name);
            zfs("set", "mountpoint=none", name);
            java.nio.file.Files.deleteIfExists(at);
        }
    }

    private static void zfs(String... args) throws Exception {
        var command = new ArrayList<String>(List.of("zfs"));
        command.addAll(List.of(args));
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var out = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + ": " + out);
        }
    }

    /** Host {@code i}'s agent log as it is now. */
    static String logOf(int i) {
        try {
            return java.nio.file.Files.readString(cluster.agentLog(i));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Lag in seconds of {@code standby}'s copy as the primary reports it, or null when not reported. */
    static Double standbyLag(DatasetId id, NodeId standby) {
        for (var entry : cluster.client.datasetStateJson()) {
            if (entry.path("dataset_id").asText().equals(id.toString())) {
                for (var s : entry.path("standbys")) {
                    if (s.path("node_uuid").asText().equals(standby.toString()) && s.has("lag_seconds")) {
                        return s.get("lag_seconds").asDouble();
                    }
                }
            }
        }
        return null;
    }

    /** Samples every host's copy of the dataset every 100 ms: mounted means writable (replicas are never mounted). */
    static final class TwoWriters implements Runnable {
        final List<String> copies = new ArrayList<>();
        final AtomicInteger samples = new AtomicInteger();
        final AtomicInteger twoWritable = new AtomicInteger();
        volatile boolean stop;

        TwoWriters(Lab lab, DatasetId id) {
            for (int i = 1; i <= 3; i++) {
                copies.add(lab.host(i).pool() + "/" + id);
            }
        }

        @Override
        public void run() {
            while (!stop) {
                var command = new ArrayList<>(List.of("zfs", "get", "-H", "-o", "name,value", "mounted"));
                command.addAll(copies);
                try {
                    var process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                    var out = new String(process.getInputStream().readAllBytes());
                    process.waitFor(10, TimeUnit.SECONDS);
                    long mounted = out.lines().filter(l -> l.endsWith("\tyes")).count();
                    samples.incrementAndGet();
                    if (mounted > 1) {
                        twoWritable.incrementAndGet();
                        System.out.println("two writable copies: " + out);
                    }
                    Thread.sleep(100);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Inserts one row at a time, through a host's address or straight to a database's address from inside a host. */
    static final class Writer implements Runnable {
        final Map<Integer, Instant> acknowledged = new ConcurrentHashMap<>();
        final int host;
        final String address;
        volatile boolean stop;
        private volatile int next;

        /** Through host {@code host}'s address (its routing proxy). */
        Writer(int host) {
            this(host, null);
        }

        /** From inside host {@code host}'s namespace to {@code address}:5432, when given. */
        Writer(int host, String address) {
            this.host = host;
            this.address = address;
            this.next = address == null ? 1 : 1_000_000;
        }

        @Override
        public void run() {
            while (!stop) {
                var sql = "insert into rows values (" + next + ", " + System.currentTimeMillis() + ")";
                var result = address == null ? psql(host, sql) : psqlInside(host, address, sql);
                if (result.ok()) {
                    acknowledged.put(next, Instant.now());
                    next++;
                } else {
                    Agent.sleep(50);
                }
            }
        }

        /** The ids it inserts start at {@code first} (a later writer of the same table). */
        void next(int first) {
            next = first;
        }

        /** The id it would insert next. */
        int nextId() {
            return next;
        }

        Instant lastAck() {
            return acknowledged.values().stream().max(Instant::compareTo).orElse(Instant.EPOCH);
        }

        /**
         * The first acknowledgement after the outage that began around {@code t}: the end of the longest gap between two
         * acknowledgements that ends after {@code t} (an insert in flight at {@code t} may still be acknowledged just after it).
         */
        Instant firstAckAfterOutage(Instant t) {
            var times = acknowledged.values().stream().sorted().toList();
            Instant best = null;
            long longest = -1;
            for (int i = 1; i < times.size(); i++) {
                long gap = Duration.between(times.get(i - 1), times.get(i)).toMillis();
                if (times.get(i).isAfter(t) && gap > longest) {
                    longest = gap;
                    best = times.get(i);
                }
            }
            return best;
        }
    }

    static java.util.Set<Integer> ids(Result result) {
        assertThat(result.ok()).as(result.out()).isTrue();
        var set = new java.util.HashSet<Integer>();
        result.out().lines().map(String::strip).filter(s -> !s.isEmpty()).forEach(s -> set.add(Integer.parseInt(s)));
        return set;
    }

    record Result(boolean ok, String out) {
    }

    static Result psql(int host, String sql) {
        return run(List.of("psql", "-h", cluster.host(host).ip(), "-p", Integer.toString(PORT), "-U", "postgres", "-At", "-v",
                "ON_ERROR_STOP=1", "-c", sql));
    }

    static Result psqlInside(int host, String address, String sql) {
        return run(List.of(cluster.host(host).inNamespace("psql", "-h", address, "-p", "5432", "-U", "postgres", "-At", "-v",
                "ON_ERROR_STOP=1", "-c", sql)));
    }

    private static Result run(List<String> command) {
        return run(command, 3);
    }

    /** Runs a psql command line with the lab database's password, giving up a connection after {@code connectTimeout} s. */
    static Result run(List<String> command, int connectTimeout) {
        try {
            var builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().put("PGPASSWORD", "secret");
            builder.environment().put("PGCONNECT_TIMEOUT", Integer.toString(connectTimeout));
            var process = builder.start();
            var out = new String(process.getInputStream().readAllBytes());
            boolean done = process.waitFor(30, TimeUnit.SECONDS);
            return new Result(done && process.exitValue() == 0, out);
        } catch (IOException e) {
            return new Result(false, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, "interrupted");
        }
    }
}
