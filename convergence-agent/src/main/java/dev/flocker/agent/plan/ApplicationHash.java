package dev.flocker.agent.plan;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A digest of everything in an application's configuration that its container is made from (image, command,
 * environment, ports, links, volume, limits, restart policy) but not where it runs: a container whose label differs
 * from its application's digest is replaced.
 */
public final class ApplicationHash {
    private ApplicationHash() {}

    public static String of(Application application) {
        var placeless = application.withNode(PLACELESS);
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(Json.write(placeless).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final dev.flocker.api.model.NodeId PLACELESS = dev.flocker.api.model.NodeId.of("00000000-0000-4000-8000-000000000000");
}
