package dev.flocker.control.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The benchmark's reads: HTTP/1.1 GETs over mutual TLS (OpenSSL, the host name checked), kept-alive connections, at most
 * {@code maxConnections} per replica (more requests wait for one), each answer's bytes counted as they arrive and let go.
 * <p>
 * Netty rather than Vert.x's HTTP client: Vert.x copies every chunk of an answer out of Netty's pooled buffer into a new
 * heap buffer before its handler sees it (its "safe buffer"), and at 100,000 datasets (3 MB an answer, 600 MB/s) that
 * copy was 41 % of the benchmark process's samples (JFR, three replicas), on the two cores the replicas are measured on.
 * A client elsewhere (Go's, Python's) costs the service's machine nothing; this one should cost it as little as it can.
 */
final class LeanReads implements AutoCloseable {
    /** What a read got: its status and the bytes of its body as sent (gzip). */
    record Answer(int status, long bytes) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final SslContext ssl;
    private final List<Pool> pools;

    LeanReads(List<URI> bases, KeyManagerFactory keys, TrustManagerFactory trust, int maxConnections) throws SSLException {
        ssl = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL).keyManager(keys).trustManager(trust)
                .endpointIdentificationAlgorithm("HTTPS").build();
        pools = bases.stream().map(b -> new Pool(b.getHost(), b.getPort(), maxConnections)).toList();
    }

    /** GETs {@code path} from replica {@code replica}, asking for gzip. */
    CompletableFuture<Answer> get(int replica, String path) {
        var read = new Read(path);
        pools.get(replica).send(read);
        return read.answer;
    }

    @Override
    public void close() {
        // The waiting reads fail first: a connection closed by the shutdown would otherwise hand one to a connect on the
        // stopped group. The reads in flight fail as their connections close.
        pools.forEach(Pool::failWaiting);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Read {
        final String path;
        final CompletableFuture<Answer> answer = new CompletableFuture<>();
        int status;
        long bytes;

        Read(String path) {
            this.path = path;
        }
    }

    /** One replica's connections: idle ones reused, new ones opened up to the limit, reads beyond it queued. */
    private final class Pool {
        private final String host;
        private final int port;
        private final int max;
        private final ArrayDeque<Channel> idle = new ArrayDeque<>();
        private final ArrayDeque<Read> waiting = new ArrayDeque<>();
        private int open;
        private final Bootstrap bootstrap;

        Pool(String host, int port, int max) {
            this.host = host;
            this.port = port;
            this.max = max;
            this.bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline().addLast(ssl.newHandler(channel.alloc(), host, port), new HttpClientCodec(), new Connection());
                        }
                    });
        }

        void send(Read read) {
            Channel channel;
            synchronized (this) {
                channel = idle.poll();
                if (channel == null) {
                    if (open >= max) {
                        waiting.add(read);
                        return;
                    }
                    open++;
                }
            }
            if (channel != null) {
                write(channel, read);
            } else {
                connect(read);
            }
        }

        private void connect(Read read) {
            bootstrap.connect(host, port).addListener((io.netty.channel.ChannelFutureListener) connected -> {
                if (connected.isSuccess()) {
                    write(connected.channel(), read);
                } else {
                    read.answer.completeExceptionally(connected.cause());
                    lost(null);
                }
            });
        }

        private void write(Channel channel, Read read) {
            var connection = channel.pipeline().get(Connection.class);
            if (connection == null || !channel.isActive()) {
                send(read); // closed by the server while idle (its handler counted it lost): another one
                return;
            }
            connection.current = read;
            var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, read.path);
            request.headers().set(HttpHeaderNames.HOST, host + ":" + port).set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.GZIP);
            channel.writeAndFlush(request);
        }

        /** A read on {@code channel} is answered: the next waiting read goes on it, or it waits idle. */
        private void released(Channel channel) {
            Read next;
            synchronized (this) {
                next = waiting.poll();
                if (next == null) {
                    idle.add(channel);
                    return;
                }
            }
            write(channel, next);
        }

        /** {@code channel} (null: one that never connected) is gone: a waiting read gets a new connection. */
        private void lost(Channel channel) {
            Read next;
            synchronized (this) {
                if (channel != null) {
                    idle.remove(channel);
                }
                open--;
                next = waiting.poll();
                if (next != null) {
                    open++;
                }
            }
            if (next != null) {
                connect(next);
            }
        }

        void failWaiting() {
            synchronized (this) {
                waiting.forEach(r -> r.answer.completeExceptionally(new IllegalStateException("Client is closed")));
                waiting.clear();
            }
        }

        /** A connection's handler: counts the answer's bytes, releases every message. */
        private final class Connection extends SimpleChannelInboundHandler<HttpObject> {
            volatile Read current;

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpObject message) {
                var read = current;
                if (read == null) {
                    return;
                }
                if (message instanceof HttpResponse response) {
                    read.status = response.status().code();
                }
                if (message instanceof HttpContent content) {
                    read.bytes += content.content().readableBytes();
                }
                if (message instanceof LastHttpContent) {
                    current = null;
                    read.answer.complete(new Answer(read.status, read.bytes));
                    released(ctx.channel());
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                var read = current;
                current = null;
                if (read != null) {
                    read.answer.completeExceptionally(cause);
                }
                ctx.close();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                var read = current;
                current = null;
                if (read != null) {
                    read.answer.completeExceptionally(new IllegalStateException("Client is closed"));
                }
                lost(ctx.channel());
            }
        }
    }
}
