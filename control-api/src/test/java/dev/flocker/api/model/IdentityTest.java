package dev.flocker.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentityTest {
    @Test
    void datasetIdsAreVersionFourUuidsKeptInLowerCase() {
        var id = DatasetId.of("2B1D7D2C-5F3E-4C1A-9D2E-0A1B2C3D4E5F");
        assertThat(id.toString()).isEqualTo("2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f");
        assertThat(id).isEqualTo(DatasetId.of("2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f"));
        assertThat(DatasetId.random().toString()).matches("[0-9a-f-]{36}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "x", "../etc/passwd", "2b1d7d2c-5f3e-1c1a-9d2e-0a1b2c3d4e5f", "2b1d7d2c-5f3e-4c1a-7d2e-0a1b2c3d4e5f",
            "2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f; rm -rf /", " 2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f", "2b1d7d2c/5f3e-4c1a-9d2e-0a1b2c3d4e5f"})
    void anythingElseIsRefusedWithTheValueNamed(String value) {
        assertThatThrownBy(() -> DatasetId.of(value)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dataset_id '" + value + "'");
        assertThat(DatasetId.isValid(value)).isFalse();
    }

    @Test
    void nodeIdsAreUuidsOfAnyVersion() {
        assertThat(NodeId.of("0F6C1B6E-8A1D-1C5B-9F5E-3B2A1C0D9E8F").toString()).isEqualTo("0f6c1b6e-8a1d-1c5b-9f5e-3b2a1c0d9e8f");
        assertThatThrownBy(() -> NodeId.of("node-1")).hasMessageContaining("node uuid 'node-1'");
        assertThatThrownBy(() -> NodeId.of(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
