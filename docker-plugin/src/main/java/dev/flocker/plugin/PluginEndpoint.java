package dev.flocker.plugin;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * Where the plugin listens: a unix socket (Docker finds {@code /run/docker/plugins/<driver>.sock} by itself) or a TCP
 * address announced to Docker by a spec file under {@code /etc/docker/plugins}.
 *
 * @param socket the unix socket's path, or null for TCP
 * @param host   the TCP address to bind, or null for a unix socket
 */
public record PluginEndpoint(Path socket, String host, int port) {
    public PluginEndpoint {
        if ((socket == null) == (host == null)) {
            throw new IllegalArgumentException("a plugin endpoint is either a unix socket or a TCP address");
        }
        if (host != null && (port < 1 || port > 65535)) {
            throw new IllegalArgumentException("plugin port " + port + " is out of range 1-65535");
        }
    }

    /** Parses {@code unix:///run/docker/plugins/flocker.sock} or {@code tcp://127.0.0.1:4525}. */
    public static PluginEndpoint parse(String text) {
        if (text.startsWith("unix://")) {
            var path = Path.of(text.substring("unix://".length()));
            if (!path.isAbsolute()) {
                throw new IllegalArgumentException("'" + text + "' must name an absolute socket path, e.g. unix:///run/docker/plugins/flocker.sock");
            }
            return new PluginEndpoint(path.normalize(), null, 0);
        }
        var tcp = java.util.regex.Pattern.compile("tcp://([0-9.]+):([0-9]{1,5})").matcher(text);
        if (tcp.matches()) {
            int port = Integer.parseInt(tcp.group(2));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("'" + text + "': port " + port + " is out of range 1-65535");
            }
            return new PluginEndpoint(null, tcp.group(1), port);
        }
        throw new IllegalArgumentException("'" + text + "' is not a plugin address; use unix:///run/docker/plugins/flocker.sock or tcp://127.0.0.1:4525");
    }

    SocketAddress address() {
        if (socket != null) {
            return UnixDomainSocketAddress.of(socket);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("plugin address " + host + " is not an address", e);
        }
    }

    /** What a spec file under /etc/docker/plugins holds to point Docker here. */
    public String url() {
        return socket != null ? "unix://" + socket : "tcp://" + host + ":" + port;
    }

    @Override
    public String toString() {
        return url();
    }
}
