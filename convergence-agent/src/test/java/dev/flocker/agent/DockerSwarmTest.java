package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A two-host Docker Swarm on the lab whose service keeps its data in a Flocker volume: moving the service to the other
 * host by its placement constraint brings the data along, and a start-first update never has two writable mounts.
 */
@Tag("e2e")
@WithLab(name = "tswarm", nodes = 2)
class DockerSwarmTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);
    static String image;

    @BeforeAll
    static void startSwarm(Lab lab) throws Exception {
        cluster.docker(1, "swarm", "init", "--advertise-addr", lab.host(1).ip());
        var token = cluster.docker(1, "swarm", "join-token", "-q", "worker").strip();
        cluster.docker(2, "swarm", "join", "--advertise-addr", lab.host(2).ip(), "--token", token, lab.host(1).ip() + ":2377");
        for (int i = 1; i <= 2; i++) {
            var node = cluster.docker(i, "info", "-f", "{{.Swarm.NodeID}}").strip();
            cluster.docker(1, "node", "update", "--label-add", "host=n" + i, node);
        }
        // By ID, the same on every host (the lab loads one saved image): Swarm then runs it without trying a registry.
        image = cluster.docker(1, "image", "inspect", "-f", "{{.Id}}", "flocker/busybox:local").strip();
    }

    @Test
    void aServiceMovedToAnotherHostByItsConstraintFindsItsDataAndAStartFirstUpdateNeverMountsTwice() throws Exception {
        cluster.docker(1, "service", "create", "-d", "--name", "keeper", "--stop-grace-period", "2s", "--constraint", "node.labels.host==n1",
                "--mount", "type=volume,source=swarmvol,destination=/data,volume-driver=flocker", image, "sleep", "100000");
        var first = runningTask(1, 60);
        cluster.docker(1, "exec", first, "sh", "-c", "seq 1 5000 > /data/numbers && sync");
        var dataset = dataset("swarmvol");
        assertThat(dataset.primary()).isEqualTo(N1);
        assertThat(leaseHolder(dataset)).contains(N1);

        cluster.docker(1, "service", "update", "-d", "--constraint-rm", "node.labels.host==n1", "--constraint-add", "node.labels.host==n2",
                "keeper");
        var second = runningTask(2, 90);
        assertThat(cluster.docker(2, "exec", second, "sh", "-c", "wc -l < /data/numbers").strip()).isEqualTo("5000");
        assertThat(cluster.docker(2, "exec", second, "tail", "-n", "1", "/data/numbers").strip()).isEqualTo("5000");
        assertThat(dataset("swarmvol").primary()).isEqualTo(N2);
        assertThat(cluster.primaryOf(dataset.datasetId())).isEqualTo(N2);
        assertThat(leaseHolder(dataset)).contains(N2);

        // start-first: the new task on n1 would mount while the old one on n2 still runs. Its Mount is refused with the
        // reason; the old task keeps the only writable copy.
        cluster.docker(1, "service", "update", "-d", "--update-order", "start-first", "--constraint-rm", "node.labels.host==n2",
                "--constraint-add", "node.labels.host==n1", "keeper");
        cluster.await("the new task fails to mount with the reason", 60, () -> cluster.docker(1, "service", "ps", "--no-trunc",
                "--format", "{{.Error}}", "keeper").contains("swarmvol is in use on node " + N2));
        assertThat(runningTask(2, 5)).as("the old task still runs on n2").isEqualTo(second);
        assertThat(cluster.docker(2, "exec", second, "sh", "-c", "echo 5001 >> /data/numbers && wc -l < /data/numbers").strip())
                .isEqualTo("5001");
        assertThat(dataset("swarmvol").primary()).isEqualTo(N2);
        assertThat(cluster.primaryOf(dataset.datasetId())).isEqualTo(N2);
        assertThat(leaseHolder(dataset)).contains(N2);

        cluster.docker(1, "service", "rm", "keeper");
        cluster.await("the lease is released once the last task stops", 60, () -> leaseHolder(dataset).isEmpty());
    }

    /** The id of the service's running container on host {@code i}, once there is one. */
    private static String runningTask(int i, int seconds) throws InterruptedException {
        String[] found = {null};
        try {
            cluster.await("a running task of keeper on n" + i, seconds, () -> {
                var ids = cluster.docker(i, "ps", "-q", "--filter", "label=com.docker.swarm.service.name=keeper").strip();
                found[0] = ids.isEmpty() ? null : ids.lines().findFirst().orElse(null);
                return found[0] != null;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nservice ps:\n" + cluster.docker(1, "service", "ps", "--no-trunc", "keeper"), e);
        }
        return found[0];
    }

    private static Dataset dataset(String name) {
        var named = cluster.named(name);
        assertThat(named).as("datasets named " + name).hasSize(1);
        return named.get(0);
    }

    private static Optional<NodeId> leaseHolder(Dataset dataset) {
        return cluster.leaseHolder(dataset.datasetId());
    }
}
