package dev.flocker.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The agent channel's messages keep the JSON form agents and services of earlier versions speak. */
class AgentMessageTest {
    static final NodeId NODE = NodeId.of("aaaaaaaa-0000-4000-8000-000000000001");
    static final DatasetId DATASET = DatasetId.of("dddddddd-0000-4000-8000-000000000004");

    @Test
    void everyMessageReadsBackAsWritten() {
        var state = new NodeState(NODE, "10.0.0.1", "era", List.of(new NodeState.DatasetState(DATASET, true, "/flocker/d", null, 3)),
                List.of(new NodeState.ApplicationState("db", null, false, null, null, null, true), new NodeState.ApplicationState("web", null, true, null)),
                List.of(new NodeState.MoveState(DATASET, NODE, NodeId.random(), MovePhase.HANDOFF, 1, 2, 3.0, null, "final increment")), "pool");
        var config = Configuration.EMPTY.withDataset(new Dataset(DATASET, NODE, false, Map.of("name", "db"), null));
        var cluster = new ClusterState(Map.of(NODE, state), Map.of());
        for (AgentMessage message : List.of(new AgentMessage.State(state), new AgentMessage.Ping(), new AgentMessage.Error("why"),
                new AgentMessage.Update(config, cluster),
                new AgentMessage.Diff(ConfigurationDiff.between(Configuration.EMPTY, config), ClusterStateDiff.between(ClusterState.EMPTY, cluster)))) {
            assertThat(AgentMessage.read(AgentMessage.write(message))).as(message.toString()).isEqualTo(message);
        }
    }

    @Test
    void theWireFormIsTheOneAgentsAlwaysSpoke() throws Exception {
        assertThat(AgentMessage.write(new AgentMessage.Ping())).isEqualTo("{\"type\":\"ping\"}");
        assertThat(AgentMessage.write(new AgentMessage.Error("no"))).isEqualTo("{\"type\":\"error\",\"description\":\"no\"}");
        var state = Json.MAPPER.readTree(AgentMessage.write(new AgentMessage.State(new NodeState(NODE, "10.0.0.1", "e", List.of(), List.of(), List.of()))));
        assertThat(state.get("type").asText()).isEqualTo("state");
        assertThat(state.get("state").get("uuid").asText()).isEqualTo(NODE.toString());
        var move = Json.MAPPER.readTree(Json.write(new NodeState.MoveState(DATASET, NODE, null, MovePhase.PRE_COPY, 0, 0, 0, null, null)));
        assertThat(move.get("phase").asText()).isEqualTo("pre-copy");
        // A container made and never started says so (a move's target, ready for the handoff); any other says nothing of it.
        assertThat(Json.write(new NodeState.ApplicationState("db", null, false, null, null, null, true)))
                .isEqualTo("{\"name\":\"db\",\"running\":false,\"made\":true}");
        assertThat(Json.write(new NodeState.ApplicationState("db", null, true, null))).isEqualTo("{\"name\":\"db\",\"running\":true}");
    }

    @Test
    void badMessagesSayWhatIsWrong() {
        assertThatThrownBy(() -> AgentMessage.read("{\"type\":\"shout\"}")).hasMessageContaining("unknown message type 'shout'");
        assertThatThrownBy(() -> AgentMessage.read("[1]")).hasMessageContaining("a JSON object with a 'type'");
        assertThatThrownBy(() -> AgentMessage.read("{\"type\":\"state\"}")).hasMessageContaining("'state' message without 'state'");
        assertThatThrownBy(() -> AgentMessage.read("{")).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> AgentMessage.read("{\"type\":\"state\",\"state\":{\"uuid\":\"" + NODE + "\",\"host\":\"x\"}}"))
                .hasMessageContaining("bad 'state' message").hasMessageContaining("must be an IPv4 address");
        assertThatThrownBy(() -> MovePhase.of("sleeping")).hasMessageContaining("move phase 'sleeping' is not one of");
    }
}
