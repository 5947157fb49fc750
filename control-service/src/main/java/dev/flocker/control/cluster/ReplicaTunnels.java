package dev.flocker.control.cluster;

import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsFiles;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas' own traffic (Hazelcast's member protocol, which its open-source edition sends in the clear and accepts
 * from anyone who reaches the port) kept off the network: each replica's Hazelcast listens on a loopback address of
 * its own, and replicas on other hosts reach it only through this replica's tunnel on the public cluster port, which
 * speaks TLS and lets in only a peer that presents a control-service certificate of the cluster CA (not revoked) from
 * the address of a listed replica. For each replica on another host, a local end listens on that replica's loopback
 * address and carries Hazelcast's connections to it over TLS the same way.
 *
 * <p>Every replica names every other by its public {@code host:port} (the {@code --peer} list); the loopback address
 * of a replica is derived from that name ({@code 127.<hash>}, port + 1), so all replicas agree on it without talking.
 * Replicas on the same host reach each other over loopback directly.
 */
public final class ReplicaTunnels implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaTunnels.class);
    private static final int HANDSHAKE_TIMEOUT_MS = 10_000;

    private final List<ServerSocket> listeners = new ArrayList<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ReplicaTunnels() {
    }

    /** Where Hazelcast listens for the replica called {@code peer} ({@code host:port}): a loopback address of its own. */
    public static InetSocketAddress loopbackFor(String peer) {
        try {
            var hash = MessageDigest.getInstance("SHA-256").digest(peer.getBytes(StandardCharsets.UTF_8));
            var address = InetAddress.getByAddress(new byte[] {127, (byte) (64 + (hash[0] & 0x7f)), hash[1], (byte) (1 + (hash[2] & 0xff) % 254)});
            return new InetSocketAddress(address, port(peer) + 1);
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException("cannot derive the loopback address of replica " + peer, e);
        }
    }

    /**
     * Opens the tunnels of the replica called {@code self} among {@code replicas} (every replica's public {@code host:port},
     * this one's included), listening on {@code bindHost:port of self}.
     */
    public static ReplicaTunnels open(String self, List<String> replicas, String bindHost, TlsFiles tls) throws IOException {
        var tunnels = new ReplicaTunnels();
        var seen = new HashMap<InetSocketAddress, String>();
        for (var replica : replicas) {
            var previous = seen.put(loopbackFor(replica), replica);
            if (previous != null && !previous.equals(replica)) {
                throw new IllegalArgumentException("replicas " + previous + " and " + replica + " map to the same loopback address; use another port");
            }
        }
        var allowed = new ArrayList<InetAddress>();
        for (var replica : replicas) {
            allowed.addAll(List.of(InetAddress.getAllByName(host(replica))));
        }
        var context = tls.context();
        try {
            var server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
            server.setNeedClientAuth(true);
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(bindHost, port(self)));
            tunnels.listeners.add(server);
            Thread.ofVirtual().name("replica-tunnel-in").start(() -> tunnels.acceptPeers(server, loopbackFor(self), allowed));
            for (var replica : replicas) {
                if (replica.equals(self) || isLocal(host(replica))) {
                    continue;
                }
                var local = new ServerSocket();
                local.setReuseAddress(true);
                local.bind(loopbackFor(replica));
                tunnels.listeners.add(local);
                var remote = new InetSocketAddress(host(replica), port(replica));
                Thread.ofVirtual().name("replica-tunnel-to-" + replica).start(() -> tunnels.carryTo(local, remote, context));
            }
        } catch (IOException | RuntimeException e) {
            tunnels.close();
            throw e;
        }
        LOG.atInfo().addKeyValue("listen", bindHost + ":" + port(self)).addKeyValue("hazelcast", loopbackFor(self))
                .log("replica traffic goes through mutual-TLS tunnels only");
        return tunnels;
    }

    /** Peers' connections in: TLS with a control-service certificate from a listed replica's address, then to Hazelcast. */
    private void acceptPeers(SSLServerSocket server, InetSocketAddress hazelcast, List<InetAddress> allowed) {
        while (!closed) {
            Socket accepted;
            try {
                accepted = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.atWarn().log("replica tunnel stopped accepting: " + e.getMessage());
                }
                return;
            }
            Thread.ofVirtual().name("replica-tunnel-peer").start(() -> {
                var peer = (SSLSocket) accepted;
                try {
                    peer.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
                    peer.startHandshake();
                    var identity = Identity.of(List.of(peer.getSession().getPeerCertificates()));
                    if (identity.role() != Identity.Role.CONTROL) {
                        throw new IOException("the certificate is " + identity + "'s, not a control service's");
                    }
                    if (!accepted.getInetAddress().isLoopbackAddress() && !allowed.contains(accepted.getInetAddress())) {
                        throw new IOException(accepted.getInetAddress().getHostAddress() + " is not the address of a listed replica (--peer)");
                    }
                    peer.setSoTimeout(0);
                    var inside = new Socket();
                    inside.connect(hazelcast, HANDSHAKE_TIMEOUT_MS);
                    pipe(peer, inside);
                } catch (IOException | RuntimeException e) {
                    LOG.atWarn().addKeyValue("peer", accepted.getRemoteSocketAddress()).log("refused a connection to the replica port: " + e.getMessage());
                    quietlyClose(accepted);
                }
            });
        }
    }

    /** Hazelcast's connections to a replica on another host: accepted on its loopback address, carried over TLS. */
    private void carryTo(ServerSocket local, InetSocketAddress remote, javax.net.ssl.SSLContext context) {
        while (!closed) {
            Socket accepted;
            try {
                accepted = local.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().name("replica-tunnel-out").start(() -> {
                SSLSocket out = null;
                try {
                    out = (SSLSocket) context.getSocketFactory().createSocket();
                    out.connect(remote, HANDSHAKE_TIMEOUT_MS);
                    out.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
                    out.startHandshake();
                    var identity = Identity.of(List.of(out.getSession().getPeerCertificates()));
                    if (identity.role() != Identity.Role.CONTROL) {
                        throw new IOException(remote + " presents " + identity + "'s certificate, not a control service's");
                    }
                    out.setSoTimeout(0);
                    pipe(accepted, out);
                } catch (IOException | RuntimeException e) {
                    LOG.atDebug().addKeyValue("replica", remote).log("cannot reach the replica: " + e.getMessage());
                    quietlyClose(accepted);
                    if (out != null) {
                        quietlyClose(out);
                    }
                }
            });
        }
    }

    private void pipe(Socket a, Socket b) throws IOException {
        open.add(a);
        open.add(b);
        var aIn = a.getInputStream();
        var bOut = b.getOutputStream();
        var bIn = b.getInputStream();
        var aOut = a.getOutputStream();
        Thread.ofVirtual().name("replica-tunnel-copy").start(() -> copy(aIn, bOut, a, b));
        Thread.ofVirtual().name("replica-tunnel-copy").start(() -> copy(bIn, aOut, a, b));
    }

    private void copy(InputStream in, OutputStream out, Socket a, Socket b) {
        var buffer = new byte[64 * 1024];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the other side closed or broke: both ends go
        } finally {
            quietlyClose(a);
            quietlyClose(b);
            open.remove(a);
            open.remove(b);
        }
    }

    private static boolean isLocal(String host) {
        try {
            for (var address : InetAddress.getAllByName(host)) {
                if (address.isLoopbackAddress() || address.isAnyLocalAddress() || NetworkInterface.getByInetAddress(address) != null) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    static String host(String peer) {
        return peer.substring(0, peer.lastIndexOf(':'));
    }

    static int port(String peer) {
        return Integer.parseInt(peer.substring(peer.lastIndexOf(':') + 1));
    }

    private static void quietlyClose(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        listeners.forEach(ReplicaTunnels::quietlyClose);
        open.forEach(ReplicaTunnels::quietlyClose);
    }
}
