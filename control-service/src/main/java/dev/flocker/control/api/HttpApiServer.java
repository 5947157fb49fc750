package dev.flocker.control.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.model.Json;
import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsFiles;
import dev.flocker.control.MutualTls;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link FlockerApi} over HTTP with Flocker's v1 paths. Every answer is JSON, errors included
 * ({@code {"description": ...}}); bad input is a 4xx, never a 500. Work that touches the cluster runs
 * off the event loop. Also serves {@code GET /v1/events}: server-sent events on every configuration or
 * state change, so clients need not poll.
 */
public final class HttpApiServer {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApiServer.class);
    public static final int BODY_LIMIT = 1 << 20;

    private final Vertx vertx;
    private final FlockerApi api;
    private final io.micrometer.core.instrument.MeterRegistry metrics;
    private final Set<HttpServerResponse> watchers = ConcurrentHashMap.newKeySet();
    private final ImageStore images;

    /**
     * @param metrics where every request is timed by route template, method and status
     * @param images  where images uploaded by flocker-deploy (built from Compose files) are kept
     */
    public HttpApiServer(Vertx vertx, FlockerApi api, io.micrometer.core.instrument.MeterRegistry metrics, ImageStore.Settings images) {
        this.vertx = vertx;
        this.api = api;
        this.metrics = metrics;
        this.images = new ImageStore(vertx, images);
    }

    /** Listens with mutual TLS: only API users' certificates ({@code user-<name>}) of the cluster CA are served. */
    public Future<HttpServer> listen(String host, int port, TlsFiles tls) {
        revocations = tls.revocations();
        var options = MutualTls.serverOptions(tls);
        return dev.flocker.control.EventLoopServers.listen(vertx, () -> vertx.createHttpServer(options).requestHandler(router()), host, port);
    }

    /** The cluster's revocation list, once listening. */
    private volatile dev.flocker.api.tls.RevocationList revocations;

    private void timed(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addBodyEndHandler(v -> {
            var route = ctx.currentRoute() == null || ctx.currentRoute().getPath() == null ? "unmatched" : ctx.currentRoute().getPath();
            io.micrometer.core.instrument.Timer.builder("flocker.api.requests").description("HTTP API requests by route, method and status")
                    .tag("route", route).tag("method", ctx.request().method().name())
                    .tag("status", Integer.toString(ctx.response().getStatusCode())).publishPercentileHistogram()
                    .register(metrics).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        });
        ctx.next();
    }

    Router router() {
        var router = Router.router(vertx);
        router.route().handler(this::timed);
        router.route().handler(this::requireUser);
        // Image archives stream to disk, before the body handler that would hold a body in memory.
        router.put("/v1/images/:id").handler(images::put);
        router.head("/v1/images/:id").handler(images::head);
        router.get("/v1/images/:id").handler(images::get);
        router.route().handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
        router.get("/v1/version").handler(ctx -> reply(ctx, api::version));
        router.get("/v1/configuration/datasets").handler(ctx -> reply(ctx, api::listDatasets));
        router.post("/v1/configuration/datasets").handler(ctx -> withBody(ctx, body -> api.createDataset(ifMatches(ctx), body)));
        router.post("/v1/configuration/datasets/:id").handler(ctx -> withBody(ctx, body -> api.updateDataset(ifMatches(ctx), ctx.pathParam("id"), body)));
        router.delete("/v1/configuration/datasets/:id").handler(ctx -> reply(ctx, () -> api.deleteDataset(ifMatches(ctx), ctx.pathParam("id"))));
        router.get("/v1/state/datasets").handler(ctx -> reply(ctx, api::datasetState));
        router.get("/v1/state/nodes").handler(ctx -> reply(ctx, api::nodes));
        router.get("/v1/state/nodes/by_era/:era").handler(ctx -> reply(ctx, () -> api.nodeByEra(ctx.pathParam("era"))));
        router.get("/v1/state/moves").handler(ctx -> reply(ctx, api::moves));
        router.get("/v1/configuration/leases").handler(ctx -> reply(ctx, api::listLeases));
        router.post("/v1/configuration/leases").handler(ctx -> withBody(ctx, api::acquireLease));
        router.delete("/v1/configuration/leases/:id").handler(ctx -> reply(ctx, () -> api.releaseLease(ctx.pathParam("id"))));
        router.get("/v1/configuration/containers").handler(ctx -> reply(ctx, api::listContainers));
        router.post("/v1/configuration/containers").handler(ctx -> withBody(ctx, api::createContainer));
        router.post("/v1/configuration/containers/:name").handler(ctx -> withBody(ctx, body -> api.moveContainer(ctx.pathParam("name"), body)));
        router.delete("/v1/configuration/containers/:name").handler(ctx -> reply(ctx, () -> api.deleteContainer(ctx.pathParam("name"))));
        router.get("/v1/state/containers").handler(ctx -> reply(ctx, api::containerState));
        router.post("/v1/configuration/_compose").handler(ctx -> withBody(ctx, body -> api.compose(ifMatches(ctx), body)));
        router.get("/v1/events").handler(this::events);
        router.get("/v1/_health").handler(ctx -> reply(ctx, api::health));

        router.errorHandler(404, ctx -> error(ctx.response(), 404, "Not found."));
        router.errorHandler(405, ctx -> error(ctx.response(), 405, "Method not allowed."));
        router.errorHandler(413, ctx -> error(ctx.response(), 413, "The request body is larger than " + BODY_LIMIT + " bytes."));
        router.errorHandler(400, ctx -> error(ctx.response(), 400, "Bad request."));
        router.errorHandler(500, ctx -> {
            var incident = FlockerApi.incident();
            LOG.atError().addKeyValue("incident", incident).setCause(ctx.failure()).log("unexpected error");
            send(ctx.response(), 500, incident, Map.of());
        });
        return router;
    }

    /**
     * The API is for users (and the Docker plugin, user "plugin"); nodes have their own channel, and read only images here
     * (an agent loads the image of an application it is to run).
     */
    private void requireUser(RoutingContext ctx) {
        Identity identity;
        try {
            var certificates = ctx.request().connection().peerCertificates();
            identity = Identity.of(certificates);
            // Also checked in the handshake; here too, for connections (and resumed sessions) older than the revocation.
            if (revocations != null && !certificates.isEmpty() && certificates.get(0) instanceof java.security.cert.X509Certificate cert) {
                revocations.check(cert);
            }
        } catch (java.security.cert.CertificateException e) {
            LOG.atWarn().addKeyValue("path", ctx.request().path()).log("refused: " + e.getMessage());
            error(ctx.response(), 403, "This client's certificate is refused: " + e.getMessage());
            return;
        } catch (javax.net.ssl.SSLPeerUnverifiedException | IllegalArgumentException e) {
            error(ctx.response(), 403, "A client certificate of an API user (CN user-<name>) is required: " + e.getMessage());
            return;
        }
        // Nodes load images; other replicas fetch those they were not sent.
        boolean nodeReadsImage = identity.role() != Identity.Role.USER && ctx.request().path().startsWith("/v1/images/")
                && (ctx.request().method() == io.vertx.core.http.HttpMethod.GET || ctx.request().method() == io.vertx.core.http.HttpMethod.HEAD);
        if (identity.role() != Identity.Role.USER && !nodeReadsImage) {
            LOG.atWarn().addKeyValue("identity", identity).addKeyValue("path", ctx.request().path()).log("refused: not an API user");
            error(ctx.response(), 403, "This API is for users; the certificate presented is " + identity
                    + ". Use a user certificate (flocker-ca create-api-certificate <name>).");
            return;
        }
        ctx.put("identity", identity);
        ctx.next();
    }

    private static String ifMatches(RoutingContext ctx) {
        return ctx.request().getHeader("X-If-Configuration-Matches");
    }

    /** The body is parsed when the handler asks for it, so a handler can check the tag first, as Flocker does. */
    private void withBody(RoutingContext ctx, java.util.function.Function<java.util.function.Supplier<JsonNode>, Reply> handler) {
        var text = ctx.body().asString();
        java.util.function.Supplier<JsonNode> body = () -> {
            try {
                return text == null || text.isBlank() ? null : Json.MAPPER.readTree(text);
            } catch (JsonProcessingException e) {
                throw new ApiError(400, "The request body is not valid JSON: " + e.getOriginalMessage());
            }
        };
        reply(ctx, () -> handler.apply(body));
    }

    private void reply(RoutingContext ctx, Callable<Reply> handler) {
        vertx.executeBlocking(handler, false).onComplete(result -> {
            var response = ctx.response();
            if (result.succeeded()) {
                var reply = result.result();
                var tag = reply.headers().get("X-Configuration-Tag");
                if (tag != null && reply.status() == 200 && ctx.request().method() == io.vertx.core.http.HttpMethod.GET) {
                    // A read of a tagged configuration is validated by its tag (weak: gzip or not, the same list): a client
                    // that polls gets 304 and no body while nothing changed, not megabytes at 100,000 datasets.
                    var headers = new LinkedHashMap<>(reply.headers());
                    headers.put("ETag", "W/\"" + tag + "\"");
                    if (notModified(ctx.request().getHeader("If-None-Match"), tag)) {
                        if (!response.ended() && !response.closed()) {
                            response.setStatusCode(304);
                            headers.forEach(response::putHeader);
                            response.end();
                        }
                        return;
                    }
                    reply = new Reply(reply.status(), reply.body(), headers);
                }
                if (reply.body() instanceof RawJson raw && acceptsGzip(ctx) && raw.length() > 8192) {
                    response.putHeader("Content-Encoding", "gzip");
                    sendBuffer(response, reply.status(), raw.gzippedBuffer(), reply.headers());
                } else {
                    send(response, reply.status(), reply.body(), reply.headers());
                }
            } else if (result.cause() instanceof ApiError e) {
                var body = new LinkedHashMap<String, Object>();
                body.put("description", e.getMessage());
                if (e.errors() != null) {
                    body.put("errors", e.errors());
                }
                send(response, e.status(), body, Map.of());
            } else {
                var incident = FlockerApi.incident();
                LOG.atError().addKeyValue("incident", incident).addKeyValue("path", ctx.request().path())
                        .setCause(result.cause()).log("unexpected error");
                send(response, 500, incident, Map.of());
            }
        });
    }

    /** Whether {@code ifNoneMatch} (RFC 9110: a list of entity tags, or *) names {@code tag}, compared weakly. */
    static boolean notModified(String ifNoneMatch, String tag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (var entry : ifNoneMatch.split(",")) {
            var value = entry.strip();
            if (value.equals("*")) {
                return true;
            }
            if (value.startsWith("W/")) {
                value = value.substring(2);
            }
            if (value.equals("\"" + tag + "\"")) {
                return true;
            }
        }
        return false;
    }

    private static boolean acceptsGzip(RoutingContext ctx) {
        var accept = ctx.request().getHeader("Accept-Encoding");
        return accept != null && accept.toLowerCase().contains("gzip");
    }

    private static void sendBuffer(HttpServerResponse response, int status, io.vertx.core.buffer.Buffer body, Map<String, String> headers) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json");
        headers.forEach(response::putHeader);
        response.end(body);
    }

    static void error(HttpServerResponse response, int status, String description) {
        send(response, status, Map.of("description", description), Map.of());
    }

    static void send(HttpServerResponse response, int status, Object body, Map<String, String> headers) {
        sendBuffer(response, status, body instanceof RawJson raw ? raw.buffer() : io.vertx.core.buffer.Buffer.buffer(Json.write(body)), headers);
    }

    private void events(RoutingContext ctx) {
        var response = ctx.response();
        response.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
        watchers.add(response);
        response.closeHandler(v -> watchers.remove(response));
        response.write(event("configuration", Map.of("tag", api.currentConfiguration().tag())));
    }

    /** Tells every open event stream that something changed; coalescing is the client's to do. */
    public void announce(String kind, Object data) {
        var text = event(kind, data);
        vertx.runOnContext(v -> watchers.forEach(w -> {
            if (!w.closed()) {
                w.write(text);
            }
        }));
    }

    private static String event(String kind, Object data) {
        return "event: " + kind + "\ndata: " + Json.write(data) + "\n\n";
    }
}
