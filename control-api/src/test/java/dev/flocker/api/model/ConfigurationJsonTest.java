package dev.flocker.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigurationJsonTest {
    private static final NodeId NODE = NodeId.of("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f");

    @Test
    void configurationRoundTripsThroughJsonWithFlockerNames() {
        var id = DatasetId.random();
        var config = Configuration.EMPTY
                .withDataset(new Dataset(id, NODE, false, Map.of("name", "db"), 67108864L))
                .withApplication(new Application(NODE, "db", "postgres:15", List.of(new Application.Port(5432, 15432)), Map.of("A", "b"),
                        null, List.of(), List.of(new Application.Volume(id, "/data")), null, null, List.of()))
                .withLease(new Lease(id, NODE, Instant.parse("2030-01-01T00:00:00Z")));
        var json = Json.write(config);
        assertThat(json).contains("\"dataset_id\":\"" + id + "\"").contains("\"maximum_size\":67108864").contains("\"node_uuid\"")
                .contains("\"restart_policy\":{\"name\":\"never\"}");
        var back = Json.read(json, Configuration.class);
        assertThat(back).isEqualTo(config);
        assertThat(back.version()).isEqualTo(3);
    }

    @Test
    void clusterStateRoundTrips() {
        var state = new ClusterState(Map.of(NODE, new NodeState(NODE, "10.0.0.1", "era-1",
                List.of(new NodeState.DatasetState(DatasetId.random(), true, "/flocker/x", null, 2)), List.of(), List.of())));
        assertThat(Json.read(Json.write(state), ClusterState.class)).isEqualTo(state);
    }
}
