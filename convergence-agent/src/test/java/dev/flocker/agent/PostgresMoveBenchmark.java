package dev.flocker.agent;

import static dev.flocker.agent.BenchSupport.median;
import static dev.flocker.agent.BenchSupport.stats;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * PostgreSQL move benchmark (issue: moves at the physical floor). A client inserts one row at a time (psql, a connection
 * per insert) while the locally built PostgreSQL image moves between two lab hosts; the outage is the longest gap
 * between acknowledged inserts around the move (PostgreSQL's shutdown, start and recovery included).
 *
 * <ul>
 * <li><b>ours</b>: moved through the control service; the client always inserts at n1's address (the routing proxies
 *     hold and forward).</li>
 * <li><b>floor</b>: the same image and data moved by hand with the fewest steps: pre-sync while it runs (untimed), then
 *     {@code docker stop} (PostgreSQL's fast shutdown) + {@code zfs snapshot} + incremental {@code zfs send | ssh zfs
 *     recv -F} over an open OpenSSH ControlMaster + {@code docker start} of a pre-created container on the target, on the
 *     host's network; the client switches to the target's address as the stop begins (an operator's fastest re-point).</li>
 * </ul>
 *
 * <p>Run with {@code scripts/bench-postgres.sh [moves=3] [quiet|load]}; {@code load} adds the move benchmark's steady
 * CPU and disk load on both hosts for the whole run.
 */
public final class PostgresMoveBenchmark {
    private static final String LAB = "bpg";
    private static final int PORT = 15432;
    private static final int FLOOR_PORT = 15433;
    private static final String IMAGE = "flocker/postgres:15";
    private static final String DATA = "/var/lib/postgresql/data";

    private final LabCluster cluster;
    private final Lab lab;

    private PostgresMoveBenchmark(LabCluster cluster) {
        this.cluster = cluster;
        this.lab = cluster.lab;
    }

    public static void main(String[] args) throws Exception {
        int moves = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        boolean loaded = args.length > 1 && args[1].equals("load");
        if (args.length > 1 && !loaded && !args[1].equals("quiet")) {
            throw new IllegalArgumentException("the second argument is 'quiet' (the default) or 'load', not '" + args[1] + "'");
        }
        Lab.down(LAB);
        var lab = Lab.upWithPoolSize(LAB, 2, "4G", "busybox", "postgres");
        var work = Files.createTempDirectory("flocker-bench-pg");
        var report = new ArrayList<String>();
        try (var cluster = new LabCluster(lab, work)) {
            cluster.startAgent(1, "");
            cluster.startAgent(2, "");
            cluster.await("both agents report", 60, () -> cluster.client.nodes().size() == 2);
            var bench = new PostgresMoveBenchmark(cluster);
            if (loaded) {
                Load.start(lab);
                report.add("UNDER LOAD (" + Load.DESCRIPTION + ")");
            }
            var ours = bench.ourMoves(moves);
            var floor = bench.floorMoves(moves);
            report.add(String.format("PostgreSQL move, longest gap between acknowledged inserts, ms min/median/max: floor %s, ours %s;"
                    + " ours/floor %.2fx (target <= 1.25x)", stats(floor), stats(ours), median(ours) / median(floor)));
        } finally {
            Load.stop(lab);
            System.out.println();
            report.forEach(System.out::println);
            BenchSupport.cleanUp(LAB, work);
        }
    }

    private List<Double> ourMoves(int moves) throws Exception {
        var client = cluster.client;
        var id = client.createDataset(node(1), null, Map.of("name", "bench-pg"), null, null).datasetId();
        client.createContainer(new Application(node(1), "pg", IMAGE, List.of(new Application.Port(5432, PORT)),
                Map.of("POSTGRES_PASSWORD", "secret"), null, List.of(), List.of(new Application.Volume(id, DATA)), null, null, List.of()));
        cluster.await("PostgreSQL answers on n1", 180, () -> psql(lab.host(1).ip(), PORT, "select 1"));
        if (!psql(lab.host(1).ip(), PORT, "create table rows (id serial primary key, body text)")) {
            throw new IllegalStateException("cannot create the table");
        }
        var gaps = new ArrayList<Double>();
        try (var writer = new Writer(lab.host(1).ip(), PORT)) {
            for (int m = 0; m < moves; m++) {
                int to = m % 2 == 0 ? 2 : 1;
                Thread.sleep(3000); // rows to pre-copy, and to hand off
                long start = System.nanoTime();
                client.moveContainer("pg", node(to));
                cluster.await("n" + to + " holds the writable copy", 300, () -> node(to).equals(cluster.primaryOf(id)));
                long handed = System.nanoTime();
                cluster.await("inserts go on after the move", 120, () -> writer.acknowledgedAfter(handed) > 5);
                Thread.sleep(1000);
                var gap = writer.longestGap(start, System.nanoTime());
                System.out.printf("ours PostgreSQL move %d to n%d: longest gap %.0f ms%n", m + 1, to, gap);
                gaps.add(gap);
            }
        }
        client.deleteContainer("pg");
        cluster.await("PostgreSQL is removed", 60, () -> cluster.docker(moves % 2 == 0 ? 1 : 2, "ps", "-q", "--filter", "name=^pg$").isBlank());
        client.deleteDataset(id);
        return gaps;
    }

    private List<Double> floorMoves(int moves) throws Exception {
        var gaps = new ArrayList<Double>();
        try (var ssh = new SshMasters(lab)) {
            zfs("create", "-o", "mountpoint=" + floorMount(1), floorDataset(1));
            for (int i = 1; i <= 2; i++) {
                var args = new ArrayList<>(List.of(i == 1 ? "run" : "create"));
                if (i == 1) {
                    args.add("-d");
                }
                args.addAll(List.of("--name", "pgfloor", "--network", "host", "-e", "POSTGRES_PASSWORD=secret", "-v", floorMount(i) + ":" + DATA,
                        IMAGE, "postgres", "-p", Integer.toString(FLOOR_PORT)));
                if (i == 2) {
                    // made once the data is there; its mount source must exist now
                    zfs("snapshot", floorDataset(1) + "@f0");
                    ssh.pipe(1, 2, "zfs send " + floorDataset(1) + "@f0", "zfs recv -F " + floorDataset(2));
                    zfs("set", "mountpoint=" + floorMount(2), floorDataset(2));
                }
                cluster.docker(i, args.toArray(String[]::new));
                if (i == 1) {
                    cluster.await("the floor's PostgreSQL answers on n1", 180, () -> psql(lab.host(1).ip(), FLOOR_PORT, "select 1"));
                    if (!psql(lab.host(1).ip(), FLOOR_PORT, "create table rows (id serial primary key, body text)")) {
                        throw new IllegalStateException("cannot create the floor's table");
                    }
                }
            }
            String common = "f0";
            try (var writer = new Writer(lab.host(1).ip(), FLOOR_PORT)) {
                for (int m = 0; m < moves; m++) {
                    int from = m % 2 == 0 ? 1 : 2;
                    int to = 3 - from;
                    Thread.sleep(3000);
                    String pre = "p" + m;
                    zfs("snapshot", floorDataset(from) + "@" + pre);
                    ssh.pipe(from, to, "zfs send -i @" + common + " " + floorDataset(from) + "@" + pre, "zfs recv -F " + floorDataset(to));
                    long start = System.nanoTime();
                    writer.host = lab.host(to).ip();
                    cluster.docker(from, "stop", "pgfloor");
                    String last = "l" + m;
                    zfs("snapshot", floorDataset(from) + "@" + last);
                    ssh.pipe(from, to, "zfs send -i @" + pre + " " + floorDataset(from) + "@" + last, "zfs recv -F " + floorDataset(to));
                    cluster.docker(to, "start", "pgfloor");
                    cluster.await("inserts go on at n" + to, 120, () -> writer.acknowledgedAfter(start) > 5);
                    Thread.sleep(1000);
                    var gap = writer.longestGap(start, System.nanoTime());
                    System.out.printf("floor PostgreSQL move %d n%d->n%d: longest gap %.0f ms%n", m + 1, from, to, gap);
                    gaps.add(gap);
                    common = last;
                }
            }
        } finally {
            for (int i = 1; i <= 2; i++) {
                BenchSupport.tryRun(lab, i, List.of("/usr/bin/docker", "-H", lab.host(i).dockerHost(), "rm", "-f", "pgfloor"));
                BenchSupport.destroyDataset(lab, i, floorDataset(i));
            }
        }
        return gaps;
    }

    /** Inserts one row at a time at {@code host}, recording when each insert was acknowledged. */
    private static final class Writer implements AutoCloseable {
        volatile String host;
        private final int port;
        private final List<Long> acknowledged = new CopyOnWriteArrayList<>();
        private volatile boolean stop;
        private final Thread thread;

        Writer(String host, int port) {
            this.host = host;
            this.port = port;
            this.thread = Thread.ofPlatform().daemon().name("pg-writer").start(() -> {
                while (!stop) {
                    if (psql(this.host, this.port, "insert into rows (body) values ('during the move')")) {
                        acknowledged.add(System.nanoTime());
                    }
                }
            });
        }

        long acknowledgedAfter(long since) {
            return acknowledged.stream().filter(t -> t > since).count();
        }

        /** The longest time without an acknowledged insert from a second before {@code since} to {@code until}, in ms. */
        double longestGap(long since, long until) {
            var times = acknowledged.stream().filter(t -> t >= since - 1_000_000_000L && t <= until).sorted().toList();
            long longest = 0;
            for (int i = 1; i < times.size(); i++) {
                longest = Math.max(longest, times.get(i) - times.get(i - 1));
            }
            return longest / 1e6;
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(30_000);
        }
    }

    private static boolean psql(String host, int port, String sql) {
        try {
            var builder = new ProcessBuilder("psql", "-h", host, "-p", Integer.toString(port), "-U", "postgres", "-At", "-v", "ON_ERROR_STOP=1",
                    "-c", sql).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.environment().put("PGPASSWORD", "secret");
            builder.environment().put("PGCONNECT_TIMEOUT", "10");
            var process = builder.start();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static NodeId node(int host) {
        return LabCluster.nodeId(host);
    }

    private String floorDataset(int host) {
        return lab.host(host).pool() + "/pgfloor";
    }

    private Path floorMount(int host) {
        return lab.host(host).dir().resolve("pgfloor");
    }

    private String zfs(String... args) {
        var command = new ArrayList<>(List.of("zfs"));
        command.addAll(List.of(args));
        return BenchSupport.run(lab, 1, command);
    }
}
