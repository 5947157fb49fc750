package dev.flocker.volume.transfer;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One persistent SSH session per peer, reused across transfers and commands (a new handshake costs
 * about 0.3 s here), with key authentication, the peer's host key pinned from configuration, and
 * AES-GCM, which JSch pushes fastest.
 */
public final class SshConnections implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SshConnections.class);
    static final String CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr";

    private final byte[] privateKey;
    private final Duration connectTimeout;
    private final Map<Peer, Connection> sessions = new ConcurrentHashMap<>();

    private record Connection(Session session, PinnedHostKey hostKey) {
    }

    /** @param privateKey the cluster's private key, in OpenSSH or PEM form */
    public SshConnections(byte[] privateKey, Duration connectTimeout) {
        this.privateKey = privateKey.clone();
        this.connectTimeout = connectTimeout;
        warmCipher();
    }

    private static final java.util.concurrent.atomic.AtomicBoolean CIPHER_WARMED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Runs the JDK's AES-GCM (what JSch encrypts with) over 20 MiB in 1 KiB packets, once per process, in the background.
     * Its AES and GHASH intrinsics are used only once the methods that call them are compiled, which takes thousands of
     * calls: a cold process encrypted its first 64 MiB in ~0.9 s against ~25 ms warm, and a volume's first move (its whole
     * send) waited for that. Many small packets get them compiled in ~0.35 s of one core; after that the first transfer
     * runs at full speed.
     */
    static void warmCipher() {
        if (!CIPHER_WARMED.compareAndSet(false, true)) {
            return;
        }
        var thread = new Thread(() -> {
            try {
                var key = new javax.crypto.spec.SecretKeySpec(new byte[16], "AES");
                var packet = new byte[1024];
                var out = new byte[packet.length + 16];
                var nonce = new byte[12];
                for (int i = 0; i < 20_000; i++) {
                    nonce[8] = (byte) (i >> 16);
                    nonce[9] = (byte) (i >> 8);
                    nonce[10] = (byte) i;
                    var cipher = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
                    cipher.init(javax.crypto.Cipher.ENCRYPT_MODE, key, new javax.crypto.spec.GCMParameterSpec(128, nonce));
                    cipher.updateAAD(packet, 0, 4);
                    cipher.doFinal(packet, 4, packet.length - 4, out, 0);
                }
            } catch (java.security.GeneralSecurityException e) {
                LOG.atDebug().setCause(e).log("the cipher warm-up failed; the first transfer warms it instead");
            }
        }, "ssh-cipher-warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    private final Map<Peer, Long> warming = new ConcurrentHashMap<>();
    /** After a failed warm-up, a peer is not tried in the background again for this long (a use still tries at once). */
    static final long WARM_RETRY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

    /**
     * Opens a session to {@code peer} in the background unless one is open or being opened, so the first transfer to it
     * (an idle dataset's or a Docker volume's first move, whose whole send is waited for) does not pay the handshake
     * (about 0.3 s here). A failure is logged and not tried in the background again for 30 s.
     */
    public void warm(Peer peer) {
        if (isOpen(peer)) {
            return;
        }
        long now = System.nanoTime();
        var claimed = new boolean[1];
        warming.compute(peer, (p, since) -> {
            if (since != null && now - since < WARM_RETRY_NANOS) {
                return since;
            }
            claimed[0] = true;
            return now;
        });
        if (!claimed[0]) {
            return;
        }
        Thread.ofVirtual().name("ssh-warm-" + peer.host()).start(() -> {
            try {
                session(peer);
                warming.remove(peer);
            } catch (RuntimeException e) {
                LOG.atInfo().addKeyValue("peer", peer.address()).log("ssh session not opened ahead of use: " + e.getMessage());
            }
        });
    }

    /** Whether a session to {@code peer} is open now. */
    public boolean isOpen(Peer peer) {
        var existing = sessions.get(peer);
        return existing != null && existing.session().isConnected();
    }

    /** The connected session to {@code peer}, opening (or re-opening) it when needed. */
    public Session session(Peer peer) {
        var connection = sessions.compute(peer, (p, existing) -> {
            if (existing != null && existing.session().isConnected()) {
                return existing;
            }
            return connect(p);
        });
        return connection.session();
    }

    private Connection connect(Peer peer) {
        var pinned = new PinnedHostKey(peer.hostKey());
        try {
            var jsch = new JSch();
            jsch.addIdentity("flocker-cluster", privateKey, null, null);
            jsch.setHostKeyRepository(pinned);
            var session = jsch.getSession(peer.user(), peer.host(), peer.port());
            session.setSocketFactory(new BigBufferSockets((int) connectTimeout.toMillis()));
            session.setConfig("StrictHostKeyChecking", "yes");
            session.setConfig("PreferredAuthentications", "publickey");
            session.setConfig("cipher.c2s", CIPHERS);
            session.setConfig("cipher.s2c", CIPHERS);
            session.setConfig("compression.c2s", "none");
            session.setConfig("compression.s2c", "none");
            session.setServerAliveInterval(5_000);
            session.setServerAliveCountMax(3);
            session.connect((int) connectTimeout.toMillis());
            LOG.atInfo().addKeyValue("peer", peer.address()).addKeyValue("cipher", session.getConfig("cipher.c2s"))
                    .log("ssh session open");
            return new Connection(session, pinned);
        } catch (JSchException e) {
            var message = e.getMessage() == null ? e.toString() : e.getMessage();
            if (message.contains("HostKey has been changed") || message.contains("reject HostKey")) {
                throw new TransferException("refusing peer " + peer.address() + ": its SSH host key is not the pinned one ("
                        + pinned.describeMismatch() + ")", e);
            }
            if (message.contains("Auth fail") || message.contains("USERAUTH fail")) {
                throw new TransferException("peer " + peer.address() + " refused the cluster key for user " + peer.user(), e);
            }
            throw new TransferException("cannot connect to peer " + peer.address() + " over SSH: " + message, e);
        }
    }

    /** Sockets with large kernel buffers, so a stream keeps the link busy while either end is briefly descheduled. */
    private record BigBufferSockets(int timeoutMillis) implements com.jcraft.jsch.SocketFactory {
        private static final int BUFFER = 4 << 20;

        @Override
        public java.net.Socket createSocket(String host, int port) throws java.io.IOException {
            var socket = new java.net.Socket();
            socket.setSendBufferSize(BUFFER);
            socket.setReceiveBufferSize(BUFFER);
            socket.setTcpNoDelay(true);
            socket.connect(new java.net.InetSocketAddress(host, port), timeoutMillis);
            return socket;
        }

        @Override
        public java.io.InputStream getInputStream(java.net.Socket socket) throws java.io.IOException {
            return socket.getInputStream();
        }

        @Override
        public java.io.OutputStream getOutputStream(java.net.Socket socket) throws java.io.IOException {
            return socket.getOutputStream();
        }
    }

    /** Opens an exec channel for {@code command} (not yet connected, so the caller can wire streams first). */
    public ChannelExec exec(Peer peer, String command) {
        try {
            var channel = (ChannelExec) session(peer).openChannel("exec");
            channel.setCommand(command);
            return channel;
        } catch (JSchException e) {
            // A session that died since the last check: forget it so the next call reconnects.
            sessions.remove(peer);
            throw new TransferException("cannot open a channel to " + peer.address() + ": " + e.getMessage(), e);
        }
    }

    /** Runs a command on the peer and returns its stdout; throws with its stderr on a non-zero exit. */
    public String run(Peer peer, String command) {
        var result = runForResult(peer, command);
        if (result.exit() != 0) {
            throw new RemoteCommandException(peer, command, result.exit(), result.stderr());
        }
        return result.stdout();
    }

    public record Result(int exit, String stdout, String stderr) {
    }

    public Result runForResult(Peer peer, String command) {
        try {
            return runOnce(peer, command);
        } catch (ChannelNotOpened e) {
            // The session died after it was last seen alive (the peer's sshd restarted, a connection was cut): the command
            // never started, so it is safe to run it once more on a fresh session.
            forget(peer);
            try {
                return runOnce(peer, command);
            } catch (ChannelNotOpened again) {
                throw new TransferException("running '" + command + "' on " + peer.address() + " failed: " + again.getCause().getMessage(),
                        again.getCause());
            }
        }
    }

    private static boolean sessionAlive(ChannelExec channel) {
        try {
            return channel.getSession().isConnected();
        } catch (JSchException e) {
            return false;
        }
    }

    /** The channel could not be opened because its session was down, so the command did not run. */
    private static final class ChannelNotOpened extends Exception {
        ChannelNotOpened(JSchException cause) {
            super(cause);
        }
    }

    private Result runOnce(Peer peer, String command) throws ChannelNotOpened {
        var channel = exec(peer, command);
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        channel.setOutputStream(out);
        channel.setErrStream(err);
        try {
            channel.setInputStream(null);
            try {
                start(channel);
            } catch (JSchException e) {
                if (!sessionAlive(channel)) {
                    throw new ChannelNotOpened(e);
                }
                throw new TransferException("running '" + command + "' on " + peer.address() + " failed: " + e.getMessage(), e);
            }
            awaitClosed(channel, COMMAND_TIMEOUT, "'" + command + "' on " + peer.address());
            return new Result(channel.getExitStatus(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            channel.disconnect();
        }
    }

    /**
     * Opens the channel and sends its command without waiting for the peer's answer to it. With a timeout, JSch asks for
     * that answer and polls for it every 10 ms (its {@code Request.write}): 10-15 ms on every command, a push's and a
     * handoff's pass included, against the 1-3 ms the peer takes. Without one, the channel's opening still waits (woken
     * as soon as the peer confirms, at most 20 s), and a command the peer refuses to start closes the channel without an
     * exit status, which every caller reads as a failure.
     */
    static void start(ChannelExec channel) throws JSchException {
        channel.connect();
    }

    /**
     * How long a command on a peer (list, set an owner, destroy) may take: as long as a local zfs command, so a peer
     * whose zfs hangs fails the change instead of hanging the loop that runs it.
     */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);

    /** Waits for the channel to close (its command to end); a {@link TransferException} after {@code limit}. */
    static void awaitClosed(ChannelExec channel, Duration limit, String what) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!channel.isClosed()) {
            if (System.nanoTime() > deadline) {
                throw new TransferException(what + " did not end within " + limit.toSeconds() + " s");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TransferException("interrupted while waiting for " + what);
            }
        }
    }

    /** Waits up to {@code limit} for a channel to close (e.g. the peer's command to exit after a broken stream). */
    static void awaitClosedQuietly(ChannelExec channel, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!channel.isClosed() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Drops the session to {@code peer} (e.g. after a failure), so the next use reconnects. */
    public void forget(Peer peer) {
        var connection = sessions.remove(peer);
        if (connection != null) {
            connection.session().disconnect();
        }
    }

    @Override
    public void close() {
        sessions.values().forEach(c -> c.session().disconnect());
        sessions.clear();
    }
}
