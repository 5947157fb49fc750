package dev.flocker.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flocker.api.model.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's Chromium, headless, driven over the DevTools protocol (a WebSocket; no driver to download): open a page,
 * run JavaScript in it, click, accept its dialogs, take screenshots. Started per test and killed afterwards.
 */
final class HeadlessChromium implements AutoCloseable {
    private final Process process;
    private final WebSocket page;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
    private final StringBuilder partial = new StringBuilder();
    /** A WebSocket takes one send at a time ("Send pending" otherwise): the test's calls and the dialog's answer share it. */
    private final Object sending = new Object();

    private HeadlessChromium(Process process, WebSocket page) {
        this.process = process;
        this.page = page;
    }

    static HeadlessChromium start(Path profile) throws Exception {
        // Its singleton socket's directory goes to TMPDIR, and a killed browser leaves it: beside the profile, not in /tmp.
        var temp = Files.createDirectories(profile.resolveSibling(profile.getFileName() + "-tmp"));
        var builder = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1280,960", "about:blank")
                .redirectErrorStream(true);
        builder.environment().put("TMPDIR", temp.toString());
        var process = builder.start();
        String endpoint = null;
        var reader = new BufferedReader(new InputStreamReader(process.getInputStream()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (String line; endpoint == null && System.nanoTime() < deadline && (line = reader.readLine()) != null; ) {
            if (line.contains("DevTools listening on ")) {
                endpoint = line.substring(line.indexOf("ws://"));
            }
        }
        if (endpoint == null) {
            process.destroyForcibly();
            throw new IllegalStateException("chromium did not open its DevTools port");
        }
        Thread.ofVirtual().start(() -> reader.lines().forEach(l -> { })); // keep its output drained
        var port = URI.create(endpoint).getPort();
        var http = HttpClient.newHttpClient();
        var targets = Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        String pageUrl = null;
        for (var target : targets) {
            if (target.path("type").asText().equals("page")) {
                pageUrl = target.path("webSocketDebuggerUrl").asText();
            }
        }
        var holder = new CompletableFuture<HeadlessChromium>();
        var listener = new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                holder.join().receive(data, last);
                socket.request(1);
                return null;
            }
        };
        var socket = http.newWebSocketBuilder().buildAsync(URI.create(pageUrl), listener).get(10, TimeUnit.SECONDS);
        var chromium = new HeadlessChromium(process, socket);
        holder.complete(chromium);
        chromium.call("Page.enable", Map.of());
        chromium.call("Runtime.enable", Map.of());
        return chromium;
    }

    private synchronized void receive(CharSequence data, boolean last) {
        partial.append(data);
        if (!last) {
            return;
        }
        var message = Json.read(partial.toString(), JsonNode.class);
        partial.setLength(0);
        if (message.has("id")) {
            var call = calls.remove(message.get("id").asInt());
            if (call != null) {
                call.complete(message);
            }
        } else if (message.path("method").asText().equals("Page.javascriptDialogOpening")) {
            // A confirm() from the page: the user says yes.
            Thread.ofVirtual().start(() -> {
                try {
                    call("Page.handleJavaScriptDialog", Map.of("accept", true));
                } catch (RuntimeException e) {
                    System.err.println("chromium: the dialog could not be accepted: " + e);
                }
            });
        }
    }

    JsonNode call(String method, Map<String, Object> params) {
        int id = ids.incrementAndGet();
        var future = new CompletableFuture<JsonNode>();
        calls.put(id, future);
        ObjectNode message = Json.MAPPER.createObjectNode().put("id", id).put("method", method);
        message.set("params", Json.MAPPER.valueToTree(params));
        synchronized (sending) {
            page.sendText(Json.write(message), true).join();
        }
        try {
            var answer = future.get(30, TimeUnit.SECONDS);
            if (answer.has("error")) {
                throw new IllegalStateException(method + ": " + answer.get("error"));
            }
            return answer.path("result");
        } catch (Exception e) {
            throw new IllegalStateException(method + " did not answer: " + e.getMessage(), e);
        }
    }

    void open(String url) {
        call("Page.navigate", Map.of("url", url));
    }

    /** The value of a JavaScript expression in the page (awaited if it is a promise). */
    JsonNode evaluate(String expression) {
        var result = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("page script failed: " + result.get("exceptionDetails"));
        }
        return result.path("result").path("value");
    }

    String text(String selector) {
        return evaluate("(document.querySelector(" + Json.write(selector) + ") || {}).innerText || ''").asText();
    }

    /** Waits until {@code expression} is true in the page. */
    void await(String what, Duration timeout, String expression) throws InterruptedException {
        await(what, timeout, () -> evaluate(expression).asBoolean());
    }

    void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page never showed: " + what + "\n" + text("body"));
            }
            Thread.sleep(100);
        }
    }

    void screenshot(Path file) throws IOException {
        var data = call("Page.captureScreenshot", Map.of("format", "png")).path("data").asText();
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(data));
    }

    @Override
    public void close() {
        page.abort();
        process.destroyForcibly();
    }
}
