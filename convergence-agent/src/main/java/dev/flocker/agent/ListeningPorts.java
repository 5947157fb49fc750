package dev.flocker.agent;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The TCP ports something listens on at this host's address (bound to it, or to every address), from the kernel's
 * socket tables ({@code /proc/net/tcp}, {@code tcp6}) of the agent's network namespace. The agent reports those its
 * proxy does not hold, so the control service refuses them as external ports when an application is configured, instead
 * of a proxy discovering the conflict by a failing bind.
 */
final class ListeningPorts {
    private static final String LISTEN = "0A";
    private static final Path TCP = Path.of("/proc/net/tcp");
    private static final Path TCP6 = Path.of("/proc/net/tcp6");

    private ListeningPorts() {
    }

    /** Ports listened on at {@code address} or at any address, read now. */
    static Set<Integer> at(Inet4Address address) throws IOException {
        var ports = new TreeSet<Integer>();
        ports.addAll(parse(Files.readString(TCP), address));
        if (Files.exists(TCP6)) {
            ports.addAll(parse(Files.readString(TCP6), address));
        }
        return ports;
    }

    /**
     * The listening ports in one socket table's text whose local address is {@code address}, the wildcard, or (tcp6)
     * the wildcard or {@code address} mapped to IPv6.
     */
    static Set<Integer> parse(String table, Inet4Address address) {
        var mine = little(address.getAddress());
        var wildcard4 = "00000000";
        var wildcard6 = "00000000000000000000000000000000";
        var mapped = "0000000000000000FFFF0000" + mine;
        var ports = new TreeSet<Integer>();
        for (var socket : sockets(table)) {
            if (socket.state().equals(LISTEN) && (socket.host().equals(mine) || socket.host().equals(wildcard4) || socket.host().equals(wildcard6)
                    || socket.host().equals(mapped))) {
                ports.add(socket.port());
            }
        }
        return ports;
    }

    /** One row of a socket table: its local address (hex, upper case) and port, and its state (hex: 01 established, 0A listening). */
    record Socket(String host, int port, String state) {
    }

    /** The rows of one socket table's text ({@code sl local_address rem_address st ...}, addresses as hex {@code IP:PORT}). */
    static List<Socket> sockets(String table) {
        var sockets = new ArrayList<Socket>();
        for (var line : table.lines().skip(1).toList()) {
            var fields = line.strip().split("\\s+");
            int colon = fields.length < 4 ? -1 : fields[1].indexOf(':');
            if (colon < 0) {
                continue;
            }
            sockets.add(new Socket(fields[1].substring(0, colon).toUpperCase(), Integer.parseInt(fields[1].substring(colon + 1), 16), fields[3]));
        }
        return sockets;
    }

    /** An IPv4 address as the kernel prints it in /proc/net/tcp: the 32-bit value in host (little-endian) order. */
    private static String little(byte[] address) {
        return HexFormat.of().withUpperCase().formatHex(new byte[] {address[3], address[2], address[1], address[0]});
    }

    static Inet4Address ipv4(String address) {
        try {
            if (InetAddress.getByName(address) instanceof Inet4Address v4) {
                return v4;
            }
        } catch (java.net.UnknownHostException e) {
            // below
        }
        throw new IllegalArgumentException("not an IPv4 address: " + address);
    }
}
