package dev.flocker.agent;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Failover benchmark ({@code scripts/bench-failover.sh}), on a three-host lab at default settings (failover after 10 s,
 * agents' leases 5 s, replication every second):
 * <ol>
 * <li>PostgreSQL with one standby, a client inserting one row at a time through n3's address; {@code failovers} times the
 *     primary's host dies (agent kill -9, database killed, link cut): RTO (death to the first insert acknowledged after
 *     the outage) and RPO (acknowledged rows missing, and how long before the death the oldest was acknowledged), then
 *     the dead host comes back as the standby of the next round;</li>
 * <li>replication lag of a dataset with one standby while an application writes 1 MiB/s and 10 MiB/s: the age of the
 *     standby's newest snapshot, sampled every 200 ms from the API for {@code seconds}.</li>
 * </ol>
 * Targets (issue 16): RTO <= 15 s, RPO <= 2 s of writes, lag p99 <= 2 s at 1 MiB/s.
 */
public final class FailoverBenchmark {
    private static final String LAB = "bfail";
    private static final int PG_PORT = FailoverLabTest.PORT;

    public static void main(String[] args) throws Exception {
        int failovers = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Lab.down(LAB);
        var lab = Lab.up(LAB, 3, "busybox", "postgres");
        var work = Files.createTempDirectory("flocker-bench-failover");
        var report = new StringBuilder();
        try (var cluster = LabCluster.withAgents(lab, work, 3)) {
            FailoverLabTest.cluster = cluster;
            var rtos = new ArrayList<Double>();
            var rpoRows = new ArrayList<Double>();
            var rpoSeconds = new ArrayList<Double>();
            failovers(cluster, lab, failovers, rtos, rpoRows, rpoSeconds);
            report.append(String.format("failover after host death, n=%d: RTO s %s (target <= 15); RPO rows %s, RPO s %s (target <= 2)%n",
                    rtos.size(), stats(rtos), stats(rpoRows), stats(rpoSeconds)));
            System.out.print(report);
            for (int mibPerSecond : new int[] {1, 10}) {
                var lags = lag(cluster, mibPerSecond, seconds);
                report.append(String.format("replication lag at %d MiB/s, n=%d samples: s p50 %.2f, p99 %.2f, max %.2f%s%n", mibPerSecond,
                        lags.size(), percentile(lags, 50), percentile(lags, 99), percentile(lags, 100),
                        mibPerSecond == 1 ? " (target p99 <= 2)" : ""));
                System.out.print(report);
            }
        } finally {
            FailoverLabTest.cluster = null;
            System.out.println();
            System.out.print(report);
            BenchSupport.cleanUp(LAB, work);
        }
    }

    private static void failovers(LabCluster cluster, Lab lab, int count, List<Double> rtos, List<Double> rpoRows, List<Double> rpoSeconds)
            throws Exception {
        var client = cluster.client;
        var id = client.createDataset(node(1), null, Map.of("name", "bench-pg"), null, null).datasetId();
        client.setReplicas(id, 1, List.of(node(2)));
        client.createContainer(new Application(node(1), "pg", "flocker/postgres:15", List.of(new Application.Port(5432, PG_PORT)),
                Map.of("POSTGRES_PASSWORD", "secret"), null, List.of(), List.of(new Application.Volume(id, "/var/lib/postgresql/data")),
                null, null, List.of()));
        cluster.await("PostgreSQL answers through n3", 120, () -> psql(3, "select 1").ok());
        if (!psql(3, "create table rows (id int primary key, acked bigint)").ok()) {
            throw new IllegalStateException("cannot create the table");
        }
        int primary = 1;
        int standby = 2;
        int next = 1;
        for (int round = 1; round <= count; round++) {
            int p = primary;
            int s = standby;
            cluster.await("n" + s + "'s standby copy is current", 300, () -> lag(id, node(s)) != null && lag(id, node(s)) < 3);
            var writer = new FailoverLabTest.Writer(3);
            writer.next(next);
            var writing = Thread.ofVirtual().start(writer);
            cluster.await("the client inserts", 60, () -> writer.acknowledged.size() > 30);
            var death = Instant.now();
            cluster.killAgent(p);
            cluster.docker(p, "kill", "pg");
            lab.cut(p);
            cluster.await("n" + s + " holds the writable copy", 120, () -> node(s).equals(cluster.primaryOf(id)));
            cluster.await("inserts succeed again", 120, () -> writer.lastAck().isAfter(death.plusSeconds(1)));
            writer.stop = true;
            writing.join();
            next = writer.nextId();
            var rto = Duration.between(death, writer.firstAckAfterOutage(death)).toMillis() / 1000.0;
            var present = FailoverLabTest.ids(psql(3, "select id from rows"));
            var missing = writer.acknowledged.entrySet().stream().filter(e -> !present.contains(e.getKey())).toList();
            var oldest = missing.stream().map(Map.Entry::getValue).min(Instant::compareTo);
            double span = oldest.map(t -> Duration.between(t, death).toMillis() / 1000.0).orElse(0.0);
            rtos.add(rto);
            rpoRows.add((double) missing.size());
            rpoSeconds.add(span);
            System.out.printf("failover %d n%d->n%d: RTO %.1f s, RPO %d rows over %.1f s%n", round, p, s, rto, missing.size(), span);
            lab.heal(p);
            cluster.startAgent(p, "");
            cluster.await("n" + p + " reports again", 60, () -> cluster.client.nodes().size() == 3);
            primary = s;
            standby = p;
        }
        client.deleteContainer("pg");
    }

    /** Samples the standby's lag every 200 ms while an application writes {@code mibPerSecond}. */
    private static List<Double> lag(LabCluster cluster, int mibPerSecond, int seconds) throws Exception {
        var client = cluster.client;
        var id = client.createDataset(node(1), null, Map.of("name", "bench-lag-" + mibPerSecond), null, null).datasetId();
        client.setReplicas(id, 1, List.of(node(2)));
        var name = "writer-" + mibPerSecond;
        // 1 MiB blocks, 64 MiB of them rewritten in turn: a steady rate without filling the pool.
        var script = "i=0; while true; do dd if=/dev/urandom of=/data/churn bs=1M count=1 seek=$((i % 64)) conv=notrunc 2>/dev/null;"
                + " i=$((i+1)); sleep " + (1.0 / mibPerSecond) + "; done";
        client.createContainer(new Application(node(1), name, "flocker/busybox:local", List.of(), Map.of(), null, List.of("sh", "-c", script),
                List.of(new Application.Volume(id, "/data")), null, null, List.of()));
        cluster.await("the standby gets its first copy", 300, () -> lag(id, node(2)) != null);
        Thread.sleep(5000); // past the first rounds
        var lags = new ArrayList<Double>();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            var at = Instant.now();
            var snapshot = snapshotTime(id, node(2));
            if (snapshot != null) {
                lags.add(Math.max(0, Duration.between(snapshot, at).toMillis()) / 1000.0);
            }
            Thread.sleep(200);
        }
        client.deleteContainer(name);
        return lags;
    }

    static Double lag(DatasetId id, NodeId standby) {
        var time = snapshotTime(id, standby);
        return time == null ? null : Duration.between(time, Instant.now()).toMillis() / 1000.0;
    }

    /** The newest snapshot the standby holds, as the primary reports it. */
    static Instant snapshotTime(DatasetId id, NodeId standby) {
        for (var entry : FailoverLabTest.cluster.client.datasetStateJson()) {
            if (entry.path("dataset_id").asText().equals(id.toString())) {
                for (var s : entry.path("standbys")) {
                    if (s.path("node_uuid").asText().equals(standby.toString()) && s.hasNonNull("snapshot_time")) {
                        return Instant.parse(s.get("snapshot_time").asText());
                    }
                }
            }
        }
        return null;
    }

    private static FailoverLabTest.Result psql(int host, String sql) {
        return FailoverLabTest.psql(host, sql);
    }

    private static NodeId node(int host) {
        return LabCluster.nodeId(host);
    }

    static double percentile(List<Double> values, int p) {
        var sorted = values.stream().sorted().toList();
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static String stats(List<Double> values) {
        return String.format("%.1f/%.1f/%.1f", percentile(values, 0), percentile(values, 50), percentile(values, 100));
    }
}
