package dev.flocker.agent;

import dev.flocker.lab.Lab;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every end-to-end test class on a two-host lab starts from: a {@link LabCluster} with an agent on each host
 * (the subclass names its lab with {@code @WithLab}), closed after the class, its agents' logs kept.
 */
abstract class TwoAgentLabTest {
    @TempDir
    static Path work;
    static LabCluster cluster;

    @BeforeAll
    static void startCluster(Lab lab) throws Exception {
        cluster = LabCluster.withAgents(lab, work, 2);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }
}
