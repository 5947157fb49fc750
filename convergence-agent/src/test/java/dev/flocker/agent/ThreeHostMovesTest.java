package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.NodeId;
import dev.flocker.lab.LabExtension.WithLab;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A dataset that travels round three hosts and comes back: n3 gets its first copy whole from n2, so it shares no
 * snapshot with n1's old replica, which is replaced (it records an older handoff generation) instead of refusing the
 * move; every file written on the way arrives.
 */
@Tag("e2e")
@WithLab(name = "tthree", nodes = 3)
class ThreeHostMovesTest extends AgentLabTest {
    @Test
    void aDatasetMovedRoundThreeHostsComesBackWithEverything() throws Exception {
        var n1 = LabCluster.nodeId(1);
        var id = cluster.client.createDataset(n1, 256L << 20, Map.of("name", "round"), null, null).datasetId();
        cluster.await("n1 mounts the new dataset", 30, () -> n1.equals(cluster.primaryOf(id)));
        var all = MovesTest.writeFiles(cluster.mountpoint(1, id), 4, 1 << 20);
        for (int host : new int[] {2, 3, 1}) {
            NodeId to = LabCluster.nodeId(host);
            cluster.client.moveDataset(id, to);
            cluster.await("n" + host + " holds the writable copy", 90, () -> to.equals(cluster.primaryOf(id)));
            assertThat(MovesTest.checksums(cluster.mountpoint(host, id))).as("every file written so far, on n%d", host).isEqualTo(all);
            all = MovesTest.writeFiles(cluster.mountpoint(host, id), 2, 4096); // every file now there, these two included
        }
        assertThat(java.nio.file.Files.readString(cluster.agentLog(3))).contains("replacing a stale replica");
    }
}
