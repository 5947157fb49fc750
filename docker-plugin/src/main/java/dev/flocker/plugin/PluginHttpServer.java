package dev.flocker.plugin;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The small HTTP/1.1 server Docker's plugin client talks to: POSTs of JSON with a length or chunked, keep-alive, on a
 * unix socket or TCP (the JDK's own HTTP server cannot listen on a unix socket). Requests are bounded in size and
 * number of connections; anything malformed gets a 4xx with an {@code Err} text and the connection closed.
 */
public final class PluginHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginHttpServer.class);
    static final int MAX_BODY = 1 << 20;
    private static final int MAX_LINE = 8192;
    private static final int MAX_HEADERS = 100;
    private static final int MAX_CONNECTIONS = 256;

    /** Answers one request; never throws for bad input (the server answers 500 if it does). */
    public interface Handler {
        Reply handle(String method, String path, byte[] body);
    }

    /** An HTTP status and a JSON body. */
    public record Reply(int status, String json) {
    }

    private final ServerSocketChannel server;
    private final PluginEndpoint endpoint;
    private final Handler handler;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Thread acceptor;
    private volatile boolean closed;

    private PluginHttpServer(ServerSocketChannel server, PluginEndpoint endpoint, Handler handler) {
        this.server = server;
        this.endpoint = endpoint;
        this.handler = handler;
        this.acceptor = Thread.ofPlatform().name("plugin-accept").daemon().start(this::acceptLoop);
    }

    /**
     * Listens on {@code endpoint}. A unix socket left by a process that is gone is replaced; one that a live process
     * still answers on is not (two agents on one socket would answer for each other's volumes).
     */
    public static PluginHttpServer start(PluginEndpoint endpoint, Handler handler) throws IOException {
        ServerSocketChannel server;
        if (endpoint.socket() != null) {
            var path = endpoint.socket();
            Files.createDirectories(path.getParent());
            if (Files.exists(path)) {
                if (answers(path)) {
                    throw new IOException("another process already serves " + path + "; stop it or configure plugin.listen elsewhere");
                }
                Files.delete(path);
            }
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        } else {
            server = ServerSocketChannel.open();
            server.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(endpoint.address(), 128);
        }
        return new PluginHttpServer(server, endpoint, handler);
    }

    private static boolean answers(java.nio.file.Path socket) {
        try (var channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return channel.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    public PluginEndpoint endpoint() {
        return endpoint;
    }

    /** The bound TCP port (useful when configured as 0), or 0 for a unix socket. */
    public int port() {
        try {
            return server.getLocalAddress() instanceof java.net.InetSocketAddress inet ? inet.getPort() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                slots.acquire();
                SocketChannel channel;
                try {
                    channel = server.accept();
                } catch (IOException e) {
                    slots.release();
                    throw e;
                }
                open.add(channel);
                Thread.ofVirtual().name("plugin-conn").start(() -> {
                    try {
                        serve(channel);
                    } finally {
                        open.remove(channel);
                        closeQuietly(channel);
                        slots.release();
                    }
                });
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.atWarn().log("plugin accept failed: " + e.getMessage());
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel channel) {
        try {
            var in = new BufferedInputStream(Channels.newInputStream(channel), 16384);
            var out = Channels.newOutputStream(channel);
            while (!closed) {
                Request request;
                try {
                    request = Request.read(in);
                } catch (BadRequest e) {
                    write(out, new Reply(e.status, errJson(e.getMessage())), false);
                    return;
                }
                if (request == null) {
                    return; // the client closed a kept-alive connection
                }
                Reply reply;
                try {
                    reply = handler.handle(request.method, request.path, request.body);
                } catch (RuntimeException e) {
                    LOG.atError().setCause(e).addKeyValue("path", request.path).log("plugin request failed");
                    reply = new Reply(500, errJson("internal error handling " + request.path + ": " + e));
                }
                write(out, reply, request.keepAlive);
                if (!request.keepAlive) {
                    return;
                }
            }
        } catch (IOException e) {
            LOG.atDebug().log("plugin connection ended: " + e.getMessage());
        }
    }

    /** {"Err": text} as JSON. */
    public static String errJson(String text) {
        return dev.flocker.api.model.Json.write(java.util.Map.of("Err", text));
    }

    private static void write(OutputStream out, Reply reply, boolean keepAlive) throws IOException {
        var body = reply.json().getBytes(StandardCharsets.UTF_8);
        var head = "HTTP/1.1 " + reply.status() + " " + reason(reply.status()) + "\r\n"
                + "Content-Type: application/vnd.docker.plugins.v1+json\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + (keepAlive ? "" : "Connection: close\r\n") + "\r\n";
        var bytes = new ByteArrayOutputStream(head.length() + body.length);
        bytes.write(head.getBytes(StandardCharsets.US_ASCII));
        bytes.write(body);
        out.write(bytes.toByteArray());
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 413 -> "Payload Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }

    private static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private record Request(String method, String path, byte[] body, boolean keepAlive) {
        /** Reads one request, or returns null at a clean end of stream before it. */
        static Request read(InputStream in) throws IOException, BadRequest {
            var line = readLine(in, true);
            while (line != null && line.isEmpty()) {
                line = readLine(in, true); // tolerate stray CRLFs between requests
            }
            if (line == null) {
                return null;
            }
            var parts = line.split(" ");
            if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
                throw new BadRequest(400, "malformed HTTP request line");
            }
            long length = -1;
            boolean chunked = false;
            boolean keepAlive = parts[2].equals("HTTP/1.1");
            int headers = 0;
            for (var header = readLine(in, false); !header.isEmpty(); header = readLine(in, false)) {
                if (++headers > MAX_HEADERS) {
                    throw new BadRequest(431, "more than " + MAX_HEADERS + " header fields");
                }
                int colon = header.indexOf(':');
                if (colon <= 0) {
                    throw new BadRequest(400, "malformed header field");
                }
                var name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                var value = header.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> {
                        try {
                            length = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            throw new BadRequest(400, "Content-Length '" + value + "' is not a number");
                        }
                        if (length < 0) {
                            throw new BadRequest(400, "Content-Length is negative");
                        }
                    }
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "connection" -> {
                        if (value.equalsIgnoreCase("close")) {
                            keepAlive = false;
                        } else if (value.equalsIgnoreCase("keep-alive")) {
                            keepAlive = true;
                        }
                    }
                    default -> { }
                }
            }
            byte[] body;
            if (chunked) {
                body = readChunked(in);
            } else if (length > MAX_BODY) {
                throw new BadRequest(413, "request body of " + length + " bytes is over the limit of " + MAX_BODY);
            } else {
                body = length <= 0 ? new byte[0] : in.readNBytes((int) length);
                if (body.length < length) {
                    throw new BadRequest(400, "request body ended after " + body.length + " of " + length + " bytes");
                }
            }
            return new Request(parts[0], parts[1], body, keepAlive);
        }

        private static byte[] readChunked(InputStream in) throws IOException, BadRequest {
            var body = new ByteArrayOutputStream();
            while (true) {
                var sizeLine = readLine(in, false);
                int semicolon = sizeLine.indexOf(';');
                int size;
                try {
                    size = Integer.parseInt((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new BadRequest(400, "malformed chunk size");
                }
                if (size < 0 || body.size() + (long) size > MAX_BODY) {
                    throw new BadRequest(413, "request body is over the limit of " + MAX_BODY + " bytes");
                }
                if (size == 0) {
                    while (!readLine(in, false).isEmpty()) {
                        // trailer fields are ignored
                    }
                    return body.toByteArray();
                }
                var chunk = in.readNBytes(size);
                if (chunk.length < size) {
                    throw new BadRequest(400, "request body ended inside a chunk");
                }
                body.write(chunk);
                if (!readLine(in, false).isEmpty()) {
                    throw new BadRequest(400, "malformed chunk end");
                }
            }
        }

        /** A CRLF- (or LF-) terminated ASCII line; null at end of stream only when {@code endOk} and nothing was read. */
        private static String readLine(InputStream in, boolean endOk) throws IOException, BadRequest {
            var line = new StringBuilder();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    if (endOk && line.isEmpty()) {
                        return null;
                    }
                    throw new BadRequest(400, "request ended in the middle of a line");
                }
                if (b == '\n') {
                    int end = line.length();
                    if (end > 0 && line.charAt(end - 1) == '\r') {
                        line.setLength(end - 1);
                    }
                    return line.toString();
                }
                if (line.length() >= MAX_LINE) {
                    throw new BadRequest(431, "a request line or header field is longer than " + MAX_LINE + " bytes");
                }
                line.append((char) b);
            }
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        open.forEach(PluginHttpServer::closeQuietly);
        acceptor.interrupt();
        if (endpoint.socket() != null) {
            try {
                Files.deleteIfExists(endpoint.socket());
            } catch (IOException e) {
                LOG.atWarn().log("cannot remove plugin socket " + endpoint.socket() + ": " + e.getMessage());
            }
        }
    }
}
