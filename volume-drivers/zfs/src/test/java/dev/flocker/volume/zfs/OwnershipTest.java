package dev.flocker.volume.zfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.NodeId;
import org.junit.jupiter.api.Test;

class OwnershipTest {
    static final NodeId NODE = NodeId.of("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f");

    @Test
    void ownerAndGenerationAreOneValue() {
        var ownership = new Ownership(NODE, 7);
        assertThat(ownership.property()).isEqualTo("flocker:owner=" + NODE + "@7");
        assertThat(Ownership.parse(ownership.value(), "-")).isEqualTo(ownership);
        assertThat(Ownership.parse(ownership.value(), "3")).as("the older property is ignored once the new form is there").isEqualTo(ownership);
    }

    @Test
    void copiesWrittenInTheOlderFormAreReadFromBothProperties() {
        assertThat(Ownership.parse(NODE.toString(), "12")).isEqualTo(new Ownership(NODE, 12));
        assertThat(Ownership.parse(NODE.toString(), "-")).isEqualTo(new Ownership(NODE, 0));
        assertThat(Ownership.parse("-", "-")).as("only ever received").isEqualTo(new Ownership(null, 0));
        assertThat(Ownership.parse(null, null)).isEqualTo(new Ownership(null, 0));
    }

    @Test
    void valuesNeitherFormAllowsAreRefused() {
        assertThatThrownBy(() -> Ownership.parse(NODE + "@x", "-")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ownership.parse("not-a-node@3", "-")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ownership.parse(NODE + "@-1", "-")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ownership.parse(NODE.toString(), "many")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ownership.parse("", "-")).as("an empty answer is not 'no owner'").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ownership.parse(NODE.toString(), "")).as("nor generation 0").isInstanceOf(IllegalArgumentException.class);
    }
}
