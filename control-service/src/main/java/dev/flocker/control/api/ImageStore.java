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
 * <p>Kept by the replica that received it; another replica asked for it fetches it once from the replica that has it
 * (their API addresses are in a Hazelcast map; the fetch presents this replica's control-service certificate and
 * asks for a local answer only, so two replicas that both lack it do not ask each other in circles).
 */
public final class ImageStore {
    /**
     * @param dir   where archives are kept
     * @param peers the other replicas' API addresses, as they are now
     * @param tls   this replica's certificate, to fetch from them
     */
    public record Settings(Path dir, java.util.function.Supplier<java.util.List<java.net.URI>> peers, dev.flocker.api.tls.TlsFiles tls) {
    }

    static final String LOCAL_ONLY = "X-Flocker-Local-Only";
    private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
    static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** Larger archives are refused: a registry is the tool for those. */
    static final long MAX_BYTES = 8L << 30;

    private final Vertx vertx;
    private final Settings settings;
    private volatile java.net.http.HttpClient client;

    ImageStore(Vertx vertx, Settings settings) {
        this.vertx = vertx;
        this.settings = settings;
    }

    /** Where image {@code id}'s archive is, once received whole. */
    Path archive(String id) {
        return settings.dir().resolve(id + ".tar");
    }

    /** A new file to receive image {@code id}'s archive into, renamed to {@link #archive} once whole. */
    private Path partial(String id) {
        return settings.dir().resolve(id + ".tar.part-" + UUID.randomUUID());
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
        if (Files.isRegularFile(archive)) {
            ctx.response().putHeader("Content-Type", "application/x-tar").sendFile(archive.toString());
            return;
        }
        if (ctx.request().getHeader(LOCAL_ONLY) != null) {
            notHere(ctx, id);
            return;
        }
        vertx.executeBlocking(() -> fetchFromPeers(id), false).onComplete(fetched -> {
            if (fetched.succeeded() && fetched.result()) {
                ctx.response().putHeader("Content-Type", "application/x-tar").sendFile(archive.toString());
            } else {
                notHere(ctx, id);
            }
        });
    }

    private static void notHere(RoutingContext ctx, String id) {
        HttpApiServer.error(ctx.response(), 404, "No image sha256:" + id + " was uploaded to this control service: deploy the Compose file"
                + " that builds it again with flocker-deploy.");
    }

    /** Copies the archive from the first other replica that has it; false when none has. Runs off the event loop. */
    private boolean fetchFromPeers(String id) {
        for (var peer : settings.peers().get()) {
            var partial = partial(id);
            try {
                var request = java.net.http.HttpRequest.newBuilder(peer.resolve("/v1/images/" + id)).header(LOCAL_ONLY, "1")
                        .timeout(java.time.Duration.ofHours(1)).GET().build();
                var response = client().send(request, java.net.http.HttpResponse.BodyHandlers.ofInputStream());
                try (var body = response.body()) {
                    if (response.statusCode() != 200) {
                        continue;
                    }
                    Files.createDirectories(settings.dir());
                    Files.copy(body, partial);
                }
                Files.move(partial, archive(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                LOG.atInfo().addKeyValue("image", "sha256:" + id).addKeyValue("from", peer).log("image fetched from another replica");
                return true;
            } catch (java.io.IOException e) {
                LOG.atWarn().addKeyValue("image", "sha256:" + id).addKeyValue("from", peer).log("cannot fetch the image: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                try {
                    Files.deleteIfExists(partial);
                } catch (java.io.IOException ignored) {
                    // a leftover part file is harmless: never read, overwritten by name
                }
            }
        }
        return false;
    }

    private java.net.http.HttpClient client() {
        var known = client;
        if (known == null) {
            known = java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5)).sslContext(settings.tls().context()).build();
            client = known;
        }
        return known;
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
        var partial = partial(id);
        vertx.executeBlocking(() -> {
            Files.createDirectories(settings.dir());
            return null;
        }, false).compose(v -> vertx.fileSystem().open(partial.toString(), new OpenOptions().setCreateNew(true).setWrite(true)))
                .compose(file -> request.pipeTo(file))
                .compose(v -> vertx.executeBlocking(() -> {
                    long size = Files.size(partial);
                    if (size == 0 || size > MAX_BYTES) {
                        Files.delete(partial);
                        throw new IllegalArgumentException(size == 0 ? "the archive is empty" : "it is larger than " + MAX_BYTES
                                + " bytes; push larger images to a registry every node can pull from");
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
