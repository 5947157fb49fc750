package dev.flocker.control.api;

import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Images built by flocker-deploy from a Compose file's {@code build:}, for clusters without a registry: each is the
 * {@code docker save} archive of one image, kept under the data path by the image's content id (Docker's image id, the
 * digest of its configuration), so a name never points at other content. flocker-deploy uploads with
 * {@code PUT /v1/images/<id>} (users only); an agent that is to run an application whose image it lacks downloads it with
 * {@code GET /v1/images/<id>} and checks that what it loaded has that id. {@code HEAD} says whether it is here.
 *
 * <p>Kept by the replica that received it: with several replicas, an agent connected to another one is told the image
 * is not there (documented in docs/COMPOSE.md as a limit).
 */
final class ImageStore {
    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** Larger archives are refused: a registry is the tool for those. */
    static final long MAX_BYTES = 8L << 30;

    private final Vertx vertx;
    private final Path dir;

    ImageStore(Vertx vertx, Path dir) {
        this.vertx = vertx;
        this.dir = dir;
    }

    /** Where image {@code id}'s archive is, once received whole. */
    Path archive(String id) {
        return dir.resolve(id + ".tar");
    }

    /** The id of a request's path, or null after answering 400 for one that is not 64 hexadecimal digits. */
    private static String id(RoutingContext ctx) {
        var id = ctx.pathParam("id");
        if (id.startsWith("sha256:")) {
            id = id.substring("sha256:".length());
        }
        if (!ID.matcher(id).matches()) {
            HttpApiServer.error(ctx.response(), 400, "An image id is 64 hexadecimal digits (sha256:<digits> as 'docker images --no-trunc'"
                    + " shows it), not '" + ctx.pathParam("id") + "'.");
            return null;
        }
        return id;
    }

    void head(RoutingContext ctx) {
        var id = id(ctx);
        if (id != null) {
            ctx.response().setStatusCode(Files.isRegularFile(archive(id)) ? 200 : 404).end();
        }
    }

    void get(RoutingContext ctx) {
        var id = id(ctx);
        if (id == null) {
            return;
        }
        var archive = archive(id);
        if (!Files.isRegularFile(archive)) {
            HttpApiServer.error(ctx.response(), 404, "No image sha256:" + id + " was uploaded to this control service: deploy the Compose file"
                    + " that builds it again with flocker-deploy.");
            return;
        }
        ctx.response().putHeader("Content-Type", "application/x-tar").sendFile(archive.toString());
    }

    /** Receives an archive into a temporary file, then renames it into place: a reader never sees part of one. */
    void put(RoutingContext ctx) {
        var id = id(ctx);
        if (id == null) {
            return;
        }
        var length = ctx.request().getHeader("Content-Length");
        if (length != null && Long.parseLong(length) > MAX_BYTES) {
            HttpApiServer.error(ctx.response(), 413, "An image archive may be at most " + MAX_BYTES + " bytes; push larger images to a"
                    + " registry every node can pull from.");
            return;
        }
        var request = ctx.request();
        request.pause();
        var partial = dir.resolve(id + ".tar.part-" + UUID.randomUUID());
        vertx.executeBlocking(() -> {
            Files.createDirectories(dir);
            return null;
        }, false).compose(v -> vertx.fileSystem().open(partial.toString(), new OpenOptions().setCreateNew(true).setWrite(true)))
                .compose(file -> request.pipeTo(file))
                .compose(v -> vertx.executeBlocking(() -> {
                    long size = Files.size(partial);
                    if (size == 0) {
                        Files.delete(partial);
                        throw new IllegalArgumentException("the archive is empty");
                    }
                    Files.move(partial, archive(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    return size;
                }, false))
                .onSuccess(size -> {
                    LOG.atInfo().addKeyValue("image", "sha256:" + id).addKeyValue("bytes", size).log("image received");
                    HttpApiServer.send(ctx.response(), 201, java.util.Map.of("image_id", "sha256:" + id, "bytes", size), java.util.Map.of());
                })
                .onFailure(e -> {
                    vertx.executeBlocking(() -> Files.deleteIfExists(partial), false);
                    if (!ctx.response().ended()) {
                        HttpApiServer.error(ctx.response(), 400, "The image archive was not received whole: " + e.getMessage());
                    }
                });
    }
}
