package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.NodeId;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images built from Compose files, kept by the control service for clusters without a registry: uploaded by users,
 * read back whole by users and nodes, never written by nodes, and never shown half-written.
 */
class ImageStoreTest {
    @TempDir
    static Path data;
    static RunningService svc;
    static final String ID = "sha256:" + "ab".repeat(32);

    @BeforeAll
    static void start() {
        svc = RunningService.start(data, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        svc.close();
    }

    @Test
    void anUploadedArchiveIsReadBackWholeByUsersAndNodes() throws Exception {
        var archive = new byte[3 << 20]; // larger than the JSON body limit: image archives stream to disk
        new Random(7).nextBytes(archive);
        var user = svc.client();
        assertThat(user.hasImage(ID)).isFalse();
        user.uploadImage(ID, () -> new ByteArrayInputStream(archive));
        assertThat(user.hasImage(ID)).isTrue();
        try (var in = user.downloadImage(ID)) {
            assertThat(in.readAllBytes()).isEqualTo(archive);
        }
        var node = new FlockerClient(svc.api(), RunningService.CERTS.node(NodeId.random()));
        try (var in = node.downloadImage(ID)) {
            assertThat(in.readAllBytes()).isEqualTo(archive);
        }
        assertThat(Files.list(data.resolve("images")).map(p -> p.getFileName().toString())).containsExactly("ab".repeat(32) + ".tar");
    }

    @Test
    void aNodeMayNotUploadAndNothingIsKept() {
        var id = "sha256:" + "cd".repeat(32);
        var node = new FlockerClient(svc.api(), RunningService.CERTS.node(NodeId.random()));
        assertThatThrownBy(() -> node.uploadImage(id, () -> new ByteArrayInputStream(new byte[100])))
                .isInstanceOfSatisfying(FlockerApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(403);
                    assertThat(e.description()).contains("This API is for users");
                });
        assertThat(svc.client().hasImage(id)).isFalse();
    }

    @Test
    void aMissingImageOrABadIdIsAnErrorThatSaysWhatToDo() {
        var user = svc.client();
        assertThatThrownBy(() -> user.downloadImage("sha256:" + "ef".repeat(32))).isInstanceOfSatisfying(FlockerApiException.class, e -> {
            assertThat(e.status()).isEqualTo(404);
            assertThat(e.description()).contains("No image sha256:" + "ef".repeat(32)).contains("flocker-deploy");
        });
        assertThatThrownBy(() -> user.uploadImage("nginx", () -> new ByteArrayInputStream(new byte[10])))
                .isInstanceOfSatisfying(FlockerApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.description()).contains("64 hexadecimal digits").contains("'nginx'");
                });
        assertThatThrownBy(() -> user.uploadImage("sha256:" + "01".repeat(32), () -> new ByteArrayInputStream(new byte[0])))
                .isInstanceOfSatisfying(FlockerApiException.class, e -> assertThat(e.description()).contains("empty"));
        assertThat(user.hasImage("sha256:" + "01".repeat(32))).isFalse();
    }
}
