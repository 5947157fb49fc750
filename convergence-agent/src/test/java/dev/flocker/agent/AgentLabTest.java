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
        cluster = LabCluster.withAgents(lab, work, lab.hosts().size());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }
}
