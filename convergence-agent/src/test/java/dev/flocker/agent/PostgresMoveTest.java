package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The locally built PostgreSQL image with a real database moves between two lab hosts while a client keeps inserting
 * rows: every row the database acknowledged, before the move and during its pre-copy, is there afterwards.
 */
@Tag("e2e")
@WithLab(name = "tpg", nodes = 2, images = {"postgres"})
class PostgresMoveTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);
    static final int PORT = 15432;
    @TempDir
    static Path work;
    static LabCluster cluster;

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyAcknowledgedRowSurvivesTheMove(Lab lab) throws Exception {
        cluster = new LabCluster(lab, work);
        cluster.startAgent(1, "");
        cluster.startAgent(2, "");
        cluster.await("both agents report", 60, () -> cluster.client.nodes().size() == 2);
        var id = cluster.client.createDataset(N1, null, Map.of("name", "pgdata"), null, null).datasetId();
        cluster.client.createContainer(new Application(N1, "pg", "flocker/postgres:15", List.of(new Application.Port(5432, PORT)),
                Map.of("POSTGRES_PASSWORD", "secret"), null, List.of(), List.of(new Application.Volume(id, "/var/lib/postgresql/data")),
                null, null, List.of()));
        cluster.await("PostgreSQL answers on n1", 120, () -> psql(1, "select 1").ok());
        assertThat(psql(1, "create table rows (id int primary key, body text)").ok()).isTrue();
        assertThat(psql(1, "insert into rows select g, repeat('x', 1000) from generate_series(1, 20000) g").ok()).isTrue();
        Set<Integer> acknowledged = new ConcurrentSkipListSet<>();
        for (int i = 1; i <= 20000; i++) {
            acknowledged.add(i);
        }

        var writer = new Writer(acknowledged);
        var thread = Thread.ofVirtual().start(writer);
        cluster.await("the writer inserts on n1", 30, () -> writer.next > 20010);
        cluster.client.moveContainer("pg", N2);
        cluster.await("PostgreSQL answers on n2", 120, () -> writer.after > 20);
        writer.stop = true;
        thread.join();

        var stored = psql(2, "select id from rows order by id");
        assertThat(stored.ok()).as(stored.out()).isTrue();
        var ids = stored.out().lines().map(String::strip).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList();
        assertThat(ids).as("rows on n2 after the move").containsAll(acknowledged);
        assertThat(writer.before).as("rows acknowledged by n1 while it pre-copied").isGreaterThan(0);
        System.out.printf("postgres move: %d rows acknowledged on n1 during the move, %d on n2; longest gap between acknowledged inserts %d ms%n",
                writer.before, writer.after, writer.longestGapMillis);
    }

    /** Inserts one row at a time, on whichever host answers, and records the rows the database acknowledged. */
    static final class Writer implements Runnable {
        final Set<Integer> acknowledged;
        volatile boolean stop;
        volatile int next = 20001;
        volatile int onHost = 1;
        volatile int firstOnN2 = Integer.MAX_VALUE;
        volatile int before;
        volatile int after;
        long longestGapMillis;

        Writer(Set<Integer> acknowledged) {
            this.acknowledged = acknowledged;
        }

        @Override
        public void run() {
            long last = System.nanoTime();
            while (!stop) {
                var result = psql(onHost, "insert into rows values (" + next + ", 'during the move')");
                if (result.ok()) {
                    acknowledged.add(next);
                    if (onHost == 1) {
                        before++;
                    } else {
                        after++;
                        firstOnN2 = Math.min(firstOnN2, next);
                    }
                    next++;
                    long now = System.nanoTime();
                    longestGapMillis = Math.max(longestGapMillis, (now - last) / 1_000_000);
                    last = now;
                } else {
                    onHost = onHost == 1 ? 2 : 1; // until the proxy routes one address, try the other host
                }
            }
        }
    }

    record Result(boolean ok, String out) {
    }

    static Result psql(int host, String sql) {
        var command = new ArrayList<>(List.of("psql", "-h", cluster.host(host).ip(), "-p", Integer.toString(PORT), "-U", "postgres",
                "-At", "-v", "ON_ERROR_STOP=1", "-c", sql));
        try {
            var builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().put("PGPASSWORD", "secret");
            builder.environment().put("PGCONNECT_TIMEOUT", "2");
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
