package dev.flocker.deploy.ui;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;

/**
 * {@code flocker-deploy ui}: a local web page of the cluster (nodes, applications, datasets, moves live) that relays the
 * control service's API with the user's certificate, as {@code kubectl proxy} does, so no browser needs a client
 * certificate. It listens on loopback by default. Other web pages open in the same browser must not drive it: it answers
 * only requests whose Host is its own address (no DNS rebinding), and changes only with a header that a cross-site
 * form or script cannot send without a CORS pre-flight, which it never grants.
 */
public final class Dashboard implements AutoCloseable {
    /** The header every changing request must carry (the page sends it). */
    public static final String CHANGE_HEADER = "X-Flocker-UI";
    private static final Set<String> FORWARDED_REQUEST_HEADERS = Set.of("content-type", "x-if-configuration-matches");
    private static final Set<String> FORWARDED_RESPONSE_HEADERS = Set.of("content-type", "x-configuration-tag", "cache-control");

    private final HttpServer server;
    private final URI control;
    private final HttpClient http;
    /** The Host headers this page answers to: its own address, and on loopback the loopback names. */
    private final Set<String> hostNames;

    private Dashboard(HttpServer server, URI control, HttpClient http) {
        this.server = server;
        this.control = control;
        this.http = http;
        this.hostNames = hostNames(server.getAddress());
    }

    /** Serves the page and the relay at {@code listen}; {@code control} is the API ({@code https://host:4523}). */
    public static Dashboard start(InetSocketAddress listen, URI control, SSLContext tls) throws IOException {
        var server = HttpServer.create(listen, 64);
        var http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
        var dashboard = new Dashboard(server, control, http);
        server.createContext("/", dashboard::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return dashboard;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            var host = exchange.getRequestHeaders().getFirst("Host");
            if (host == null || !hostNames.contains(host)) {
                send(exchange, 403, "text/plain", "this page answers only at its own address, not as " + host + "\n");
                return;
            }
            var path = exchange.getRequestURI().getRawPath();
            var method = exchange.getRequestMethod();
            if (path.equals("/") && method.equals("GET")) {
                send(exchange, 200, "text/html; charset=utf-8", page());
            } else if (path.startsWith("/v1/")) {
                if (!method.equals("GET") && !"1".equals(exchange.getRequestHeaders().getFirst(CHANGE_HEADER))) {
                    send(exchange, 403, "application/json", "{\"description\": \"changes need the " + CHANGE_HEADER + ": 1 header the dashboard sends\"}");
                    return;
                }
                relay(exchange, method, path);
            } else {
                send(exchange, 404, "text/plain", "not found\n");
            }
        }
    }

    private static Set<String> hostNames(InetSocketAddress bound) {
        var port = bound.getPort();
        var address = bound.getAddress();
        var names = new java.util.HashSet<>(List.of(address.getHostAddress() + ":" + port));
        if (address.isLoopbackAddress()) {
            names.addAll(List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port));
        }
        return Set.copyOf(names);
    }

    /** Passes the request to the control service with the user's certificate, and streams the answer back. */
    private void relay(HttpExchange exchange, String method, String path) throws IOException {
        var query = exchange.getRequestURI().getRawQuery();
        var target = control.resolve(path + (query == null ? "" : "?" + query));
        var body = exchange.getRequestBody().readAllBytes();
        var request = HttpRequest.newBuilder(target).method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (FORWARDED_REQUEST_HEADERS.contains(name.toLowerCase())) {
                values.forEach(v -> request.header(name, v));
            }
        });
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            send(exchange, 502, "application/json", "{\"description\": \"cannot reach the control service at " + control + ": "
                    + e.getMessage().replace("\"", "'") + "\"}");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        response.headers().map().forEach((name, values) -> {
            if (FORWARDED_RESPONSE_HEADERS.contains(name.toLowerCase())) {
                values.forEach(v -> exchange.getResponseHeaders().add(name, v));
            }
        });
        var streaming = response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
        if (!streaming) {
            byte[] answer;
            try (var in = response.body()) {
                answer = in.readAllBytes();
            }
            exchange.sendResponseHeaders(response.statusCode(), answer.length == 0 ? -1 : answer.length);
            exchange.getResponseBody().write(answer);
            return;
        }
        exchange.sendResponseHeaders(response.statusCode(), 0);
        try (var in = response.body(); var out = exchange.getResponseBody()) {
            var buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush(); // each server-sent event reaches the page at once
            }
        } catch (IOException e) {
            // the page went away (an event stream closes this way)
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String text) throws IOException {
        var bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.getResponseHeaders().add("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static String page() throws IOException {
        try (var in = Dashboard.class.getResourceAsStream("index.html")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
