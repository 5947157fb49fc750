package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
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
        cluster = LabCluster.withAgents(lab, work, 2);
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
        int atMove = writer.next;
        cluster.client.moveContainer("pg", N2);
        cluster.await("n2 holds the writable copy", 120, () -> N2.equals(cluster.primaryOf(id)));
        int atHandoff = writer.next;
        // Still through n1's address: its proxy now sends the clients to n2.
        cluster.await("PostgreSQL answers on n2 through n1's address", 120, () -> writer.next > atHandoff + 20);
        writer.stop = true;
        thread.join();

        var stored = psql(2, "select id from rows order by id");
        assertThat(stored.ok()).as(stored.out()).isTrue();
        var ids = stored.out().lines().map(String::strip).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList();
        assertThat(ids).as("rows on n2 after the move").containsAll(acknowledged);
        assertThat(atHandoff - atMove).as("rows acknowledged while the move pre-copied").isGreaterThan(0);
        System.out.printf("postgres move: %d rows acknowledged between the move request and n2 owning the data; longest gap between "
                + "acknowledged inserts %d ms; %d inserts failed and were retried (%s)%n", atHandoff - atMove, writer.longestGapMillis,
                writer.failures, writer.firstFailure);
    }

    /** Inserts one row at a time through n1's address (the app's original one) and records the rows acknowledged. */
    static final class Writer implements Runnable {
        final Set<Integer> acknowledged;
        volatile boolean stop;
        volatile int next = 20001;
        volatile int failures;
        volatile String firstFailure = "";
        long longestGapMillis;

        Writer(Set<Integer> acknowledged) {
            this.acknowledged = acknowledged;
        }

        @Override
        public void run() {
            long last = System.nanoTime();
            while (!stop) {
                var result = psql(1, "insert into rows values (" + next + ", 'during the move')");
                if (result.ok()) {
                    acknowledged.add(next);
                    next++;
                    long now = System.nanoTime();
                    longestGapMillis = Math.max(longestGapMillis, (now - last) / 1_000_000);
                    last = now;
                } else {
                    // PostgreSQL refuses queries while it starts ("the database system is starting up"): an answer, retried.
                    if (failures++ == 0) {
                        firstFailure = result.out().strip();
                    }
                }
            }
        }
    }

    record Result(boolean ok, String out) {
    }

    static Result psql(int host, String sql) {
        var command = List.of("psql", "-h", cluster.host(host).ip(), "-p", Integer.toString(PORT), "-U", "postgres",
                "-At", "-v", "ON_ERROR_STOP=1", "-c", sql);
        var result = FailoverLabTest.run(command, 10); // a connection held through a handoff waits
        return new Result(result.ok(), result.out());
    }
}
