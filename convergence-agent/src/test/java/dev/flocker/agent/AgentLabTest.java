package dev.flocker.agent;

import dev.flocker.lab.Lab;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every end-to-end test class on a lab of agents starts from: a {@link LabCluster} with an agent on each host of
 * the lab (the subclass names it, and its number of hosts, with {@code @WithLab}), closed after the class, its agents'
 * logs kept.
 */
abstract class AgentLabTest {
    @TempDir
    static Path work;
    static LabCluster cluster;

    @BeforeAll
    static void startCluster(Lab lab) throws Exception {
        long start = System.nanoTime();
        cluster = LabCluster.withAgents(lab, work, lab.hosts().size());
        System.err.printf("cluster on lab %s: control service and %d agents reporting in %d ms%n", lab.name(), lab.hosts().size(),
                (System.nanoTime() - start) / 1_000_000);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            long start = System.nanoTime();
            cluster.close();
            System.err.printf("cluster on lab %s closed in %d ms%n", cluster.lab.name(), (System.nanoTime() - start) / 1_000_000);
            cluster = null;
        }
    }
}
