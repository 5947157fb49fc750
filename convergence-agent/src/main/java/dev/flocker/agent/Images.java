package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.api.client.FlockerClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the images this host lacks for applications configured on it, when flocker-deploy built them from a Compose
 * file and uploaded them to the control service: one background download per image (streamed into Docker's load), then
 * a check that what Docker now holds has the id asked for. A failed load is tried again after {@link #RETRY_AFTER}.
 * Each load that ends signals the loop, which starts the application once its image is here.
 */
final class Images {
    private static final Logger LOG = LoggerFactory.getLogger(Images.class);
    static final Duration RETRY_AFTER = Duration.ofSeconds(10);

    private final Containers containers;
    private final FlockerClient api;
    private final Wakeup wakeup;
    private final Set<String> loading = ConcurrentHashMap.newKeySet();
    private final Map<String, Instant> failedAt = new ConcurrentHashMap<>();
    private final Map<String, String> errors = new ConcurrentHashMap<>(); // by image id

    Images(Containers containers, FlockerClient api, Wakeup wakeup) {
        this.containers = containers;
        this.api = api;
        this.wakeup = wakeup;
    }

    /** Why the image's last load failed, or null when it did not (or none was tried). */
    String error(String imageId) {
        return errors.get(imageId);
    }

    /** Starts loading the change's image unless it is loading already, or failed less than {@link #RETRY_AFTER} ago. */
    void fetch(Change.FetchImage change) {
        var id = change.imageId();
        var failed = failedAt.get(id);
        if (failed != null && failed.plus(RETRY_AFTER).isAfter(Instant.now())) {
            return;
        }
        if (!loading.add(id)) {
            return;
        }
        Thread.ofVirtual().name("image-" + id.substring(7, 19)).start(() -> {
            long started = System.nanoTime();
            try {
                LOG.atInfo().addKeyValue("image", id).addKeyValue("application", change.application()).log("loading image from the control service");
                try (var archive = api.downloadImage(id)) {
                    containers.loadImage(archive);
                }
                if (!containers.imageIds().contains(id)) {
                    throw new IllegalStateException("the archive the control service holds for " + id + " loaded another image");
                }
                failedAt.remove(id);
                errors.remove(id);
                LOG.atInfo().addKeyValue("image", id).addKeyValue("ms", (System.nanoTime() - started) / 1_000_000).log("image loaded");
            } catch (Exception e) {
                failedAt.put(id, Instant.now());
                errors.put(id, "cannot load image " + id + " from the control service: " + ChangeExecutor.rootMessage(e));
                LOG.atWarn().addKeyValue("image", id).addKeyValue("application", change.application())
                        .log("cannot load the image; trying again in " + RETRY_AFTER.toSeconds() + " s: " + ChangeExecutor.rootMessage(e));
            } finally {
                loading.remove(id);
                wakeup.signal("image-loaded");
            }
        });
    }
}
