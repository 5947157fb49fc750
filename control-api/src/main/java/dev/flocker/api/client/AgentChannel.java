package dev.flocker.api.client;

import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.AgentMessage;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.tls.TlsFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * An agent's end of the control service's channel: keeps the configuration and cluster state current from
 * the service's pushes (a full state, then diffs), and sends this node's state and keep-alive pings.
 */
public final class AgentChannel implements WebSocket.Listener, AutoCloseable {

    /** What the service last told this agent. */
    public record View(Configuration configuration, ClusterState clusterState) {
    }

    private final Consumer<View> onUpdate;
    private volatile Runnable onAck = () -> { };
    private final StringBuilder partial = new StringBuilder();
    private final CompletableFuture<String> closed = new CompletableFuture<>();
    private final CompletableFuture<View> first = new CompletableFuture<>();
    private volatile View view;
    private volatile WebSocket socket;

    private AgentChannel(Consumer<View> onUpdate) {
        this.onUpdate = onUpdate;
    }

    /**
     * Connects to {@code wss://host:4524/v1/agent} with this node's certificate; {@code onUpdate} runs on every push,
     * in order.
     */
    public static AgentChannel connect(URI uri, TlsFiles tls, Consumer<View> onUpdate) {
        var channel = new AgentChannel(onUpdate);
        try {
            channel.socket = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(tls.context()).build()
                    .newWebSocketBuilder().buildAsync(uri, channel).join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
                throw new IllegalStateException("the control service at " + uri + " refused this agent's channel (HTTP "
                        + refused.getResponse().statusCode() + "): it takes node certificates (CN node-<uuid>) of its cluster CA only, and "
                        + tls.certificate() + " is " + describe(tls), e);
            }
            throw e;
        }
        return channel;
    }

    private static String describe(TlsFiles tls) {
        try {
            return tls.identity().toString();
        } catch (RuntimeException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** Runs {@code action} on every acknowledgement of a state or ping this agent sent (in the order they were sent). */
    public void onAck(Runnable action) {
        this.onAck = action;
    }

    public View view() {
        return view;
    }

    /** Completes with the first full state the service pushes. */
    public CompletableFuture<View> firstView() {
        return first;
    }

    /** Completes with the reason when the channel closes, from either side. */
    public CompletableFuture<String> closed() {
        return closed;
    }

    public void report(NodeState state) {
        socket.sendText(AgentMessage.write(new AgentMessage.State(state)), true).join();
    }

    public void ping() {
        socket.sendText(AgentMessage.write(new AgentMessage.Ping()), true).join();
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            var text = partial.toString();
            partial.setLength(0);
            try {
                apply(AgentMessage.read(text));
            } catch (RuntimeException e) {
                closed.complete("bad push: " + e.getMessage());
                webSocket.abort();
                return null;
            }
        }
        webSocket.request(1);
        return null;
    }

    private void apply(AgentMessage message) {
        View next;
        switch (message) {
            case AgentMessage.Update m -> next = new View(m.configuration(), m.clusterState());
            case AgentMessage.Diff m -> {
                if (view == null) {
                    throw new IllegalStateException("a diff arrived before any full state");
                }
                next = new View(m.configuration().applyTo(view.configuration()), m.clusterState().applyTo(view.clusterState()));
            }
            case AgentMessage.Error m -> {
                closed.complete(m.description());
                return;
            }
            case AgentMessage.Ack m -> {
                onAck.run();
                return;
            }
            default -> throw new IllegalStateException("the service sent an agent's message: " + message);
        }
        view = next;
        first.complete(next);
        onUpdate.accept(next);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode + " " + reason);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete("error: " + error);
    }

    @Override
    public void close() {
        socket.abort();
        closed.complete("closed by this agent");
    }
}
