package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class PersistenceTest {
    @Test
    void aRestartKeepsTheConfigurationAndItsTag(@TempDir Path data) {
        String id;
        String tag;
        try (var svc = RunningService.start(data, Duration.ofSeconds(30))) {
            id = svc.call("POST", "/v1/configuration/datasets", "{\"primary\":\"" + FlockerApiContractTest.NODE_A
                    + "\",\"metadata\":{\"name\":\"kept\"}}").body().get("dataset_id").asText();
            tag = svc.call("GET", "/v1/configuration/datasets", null).tag();
        }
        assertThat(data.resolve("current_configuration.json")).exists();
        assertThat(data.resolve("current_configuration.json.tmp")).doesNotExist();
        try (var svc = RunningService.start(data, Duration.ofSeconds(30))) {
            var list = svc.call("GET", "/v1/configuration/datasets", null);
            assertThat(list.raw()).contains(id).contains("kept");
            assertThat(list.tag()).isEqualTo(tag);
        }
    }

    @Test
    void anOlderSchemaIsUpgradedAndAnUnreadableFileStopsTheStartWithAClearError(@TempDir Path data) throws Exception {
        var id = "2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f";
        Files.writeString(data.resolve("current_configuration.json"), "{\"version\":7,\"datasets\":[{\"dataset_id\":\"" + id
                + "\",\"primary\":\"" + FlockerApiContractTest.NODE_A + "\",\"deleted\":false,\"metadata\":{}}],\"applications\":[],\"leases\":[]}");
        try (var svc = RunningService.start(data, Duration.ofSeconds(30))) {
            var list = svc.call("GET", "/v1/configuration/datasets", null);
            assertThat(list.raw()).contains(id);
            assertThat(list.tag()).isEqualTo("7");
        }
        assertThat(Files.readString(data.resolve("current_configuration.json"))).contains("\"schema_version\":2");
        Files.writeString(data.resolve("current_configuration.json"), "{\"schema_version\":99}");
        assertThatThrownBy(() -> RunningService.start(data, Duration.ofSeconds(30)))
                .hasMessageContaining("schema_version 99 is newer than this service understands");
    }
}
