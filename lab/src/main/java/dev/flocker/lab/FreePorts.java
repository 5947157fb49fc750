package dev.flocker.lab;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports for servers that tests start in other processes, where the port must be known before the server
 * binds it (peers' addresses on a command line).
 *
 * <p>A port handed out by the kernel ({@code bind(0)}) comes from the ephemeral range, which every outgoing connection
 * on the machine also draws from: between the test picking it and the server binding it, a client's connection can
 * take it. These ports come from below the ephemeral range, where only listeners live. A process is never handed the
 * same port twice (a port picked but not bound yet is free again to the kernel).
 */
public final class FreePorts {
    private static final int LOW = 20_000;
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private FreePorts() {}

    /** A port that was free on loopback a moment ago and lies outside the ephemeral range. */
    public static int next() {
        int high = ephemeralLow() - 1;
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOW, high);
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (var socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
                return port;
            } catch (IOException busy) {
                // try another
            }
        }
        throw new IllegalStateException("no free port between " + LOW + " and " + high);
    }

    private static int ephemeralLow() {
        try {
            var range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Math.max(LOW + 1000, Integer.parseInt(range[0]));
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
