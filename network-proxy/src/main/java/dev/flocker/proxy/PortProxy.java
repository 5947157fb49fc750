package dev.flocker.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One external port: its listener, its current {@link Route}, the connections it holds and the ones it carries. Every
 * connection is accepted (never refused while the port is configured); where it goes is decided by the route at that
 * moment. Held connections are released in the order they arrived as soon as the route forwards again.
 */
final class PortProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PortProxy.class);
    private static final int BUFFER = 64 * 1024;
    /**
     * A connection to a container on this host completes in well under a millisecond unless its SYN was dropped (a
     * full listen queue: busybox httpd listens with a backlog of 9), and then the kernel retries only after 1 s.
     * Giving up after this long and connecting again turns that second into a few milliseconds.
     */
    private static final int LOCAL_CONNECT_MILLIS = 50;
    private static final long RETRY_MILLIS = 5;
    private static final int CHECK_MILLIS = 500;
    private static final long PEER_BOUNCE_NANOS = 1_000_000_000L;

    private final int port;
    private final ServerSocket server;
    private final ProxySettings settings;
    private final Predicate<InetAddress> fromPeer;
    private final BiConsumer<Integer, Route.Forward> answered;
    /** The local route whose application was last seen accepting a connection, reported to {@link #answered} once. */
    private Route.Forward answeredRoute; // guarded by lock
    private final Object lock = new Object();
    private Route route; // guarded by lock
    private final ArrayDeque<Held> held = new ArrayDeque<>(); // guarded by lock
    private long holdingSince = -1; // guarded by lock
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong heldTotal = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong lastHoldMillis = new AtomicLong(-1);
    private final AtomicInteger lastReleased = new AtomicInteger();
    private final List<io.micrometer.core.instrument.Meter> meters = new java.util.ArrayList<>();

    private record Held(Socket client, long since, long deadline, boolean peer) {
    }

    /**
     * @param answered told (once per route) when the application of a local route has accepted a connection: from then
     *                 on new connections may bypass the proxy (see {@link KernelForwarding})
     */
    PortProxy(InetAddress bind, int port, Route initial, ProxySettings settings, Predicate<InetAddress> fromPeer,
              BiConsumer<Integer, Route.Forward> answered) throws IOException {
        this.port = port;
        this.settings = settings;
        this.fromPeer = fromPeer;
        this.answered = answered;
        this.route = initial;
        if (initial instanceof Route.Hold) {
            holdingSince = System.nanoTime();
        }
        var socket = new ServerSocket();
        socket.setReuseAddress(true);
        try {
            socket.bind(new InetSocketAddress(bind, port), 1024);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        this.server = socket;
        measure();
        Thread.ofPlatform().daemon().name("proxy-accept-" + port).start(this::acceptLoop);
        Thread.ofVirtual().name("proxy-expire-" + port).start(this::expireLoop);
    }

    /** This port's connections by outcome, for the agent's /metrics (removed again when the port closes). */
    private void measure() {
        var registry = io.micrometer.core.instrument.Metrics.globalRegistry;
        var counts = java.util.Map.of("accepted", accepted, "forwarded", forwarded, "held", heldTotal, "timed_out", timedOut,
                "rejected", rejected, "failed", failed);
        counts.forEach((outcome, count) -> meters.add(io.micrometer.core.instrument.FunctionCounter.builder("flocker.proxy.connections",
                        count, AtomicLong::get).tag("port", Integer.toString(port)).tag("outcome", outcome)
                .description("Connections the routing proxy took on an external port, by what became of them (accepted counts all;"
                        + " the kernel's forwarded ones are not seen)").register(registry)));
        meters.add(io.micrometer.core.instrument.FunctionCounter.builder("flocker.proxy.refused", refused, AtomicLong::get)
                .tag("port", Integer.toString(port))
                .description("Connects to a local application that refused them (not listening yet: starting); tried again, one connection at a time")
                .register(registry));
        meters.add(io.micrometer.core.instrument.Gauge.builder("flocker.proxy.held.now", this, p -> p.stats().heldNow())
                .tag("port", Integer.toString(port)).description("Connections held now (a handoff, or an application not running yet)")
                .register(registry));
    }

    int port() {
        return port;
    }

    Route route() {
        synchronized (lock) {
            return route;
        }
    }

    /** Switches the route atomically; a forwarding route releases the held connections it may take, in order. */
    void route(Route next) {
        List<Held> release = new ArrayList<>();
        long heldMillis = -1;
        synchronized (lock) {
            var previous = route;
            route = next;
            answeredRoute = null;
            if (next instanceof Route.Hold) {
                if (!(previous instanceof Route.Hold)) {
                    holdingSince = System.nanoTime();
                }
                return;
            }
            var forward = (Route.Forward) next;
            if (holdingSince >= 0) {
                heldMillis = (System.nanoTime() - holdingSince) / 1_000_000;
                holdingSince = -1;
            }
            release.addAll(held);
            held.clear();
        }
        if (heldMillis >= 0) {
            io.micrometer.core.instrument.Timer.builder("flocker.proxy.hold").tag("port", Integer.toString(port))
                    .description("How long new connections were held before being released to where the application runs (a move's outage here)")
                    .register(io.micrometer.core.instrument.Metrics.globalRegistry).record(java.time.Duration.ofMillis(heldMillis));
            lastHoldMillis.set(heldMillis);
            lastReleased.set(release.size());
            LOG.atInfo().addKeyValue("port", port).addKeyValue("held_ms", heldMillis).addKeyValue("connections", release.size())
                    .addKeyValue("target", ((Route.Forward) next).target()).log("routing again; releasing held connections in order");
        }
        if (!release.isEmpty()) {
            // One thread connects them one after another, so they reach the application in the order they arrived.
            Thread.ofVirtual().name("proxy-release-" + port).start(() -> {
                for (var h : release) {
                    dispatch(h.client, h.since, h.deadline, h.peer, true);
                }
            });
        }
    }

    ProxyStats stats() {
        int heldNow;
        synchronized (lock) {
            heldNow = held.size();
        }
        return new ProxyStats(port, accepted.get(), forwarded.get(), heldTotal.get(), heldNow, timedOut.get(), rejected.get(), failed.get(),
                lastHoldMillis.get(), lastReleased.get(), refused.get());
    }

    /**
     * A connection that arrives from another host's proxy is not sent on to a third place (routes must not loop while
     * hosts' views differ): it is delivered here or held. Once held, it goes wherever the route next forwards: that
     * bounce ends at the application's host, which routes to its own container before it reports the application
     * running.
     */
    private static boolean mustHold(Route route, boolean peer, boolean released) {
        return route instanceof Route.Hold || (peer && !released && route instanceof Route.Forward f && !f.local());
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.atWarn().addKeyValue("port", port).log("accept failed: " + e.getMessage());
                }
                continue;
            }
            accepted.incrementAndGet();
            open.add(client);
            long now = System.nanoTime();
            long deadline = now + settings.maxHoldTime().toNanos();
            boolean peer = fromPeer.test(client.getInetAddress());
            if (holdOrRoute(client, now, deadline, peer, false) != null) {
                Thread.ofVirtual().start(() -> dispatch(client, now, deadline, peer, false));
            }
        }
    }

    /**
     * Holds the client if the route says so (or closes it past max_held) and returns null; else returns where to
     * forward it. Called on the accept thread for new connections, so they are held in the order they arrived.
     */
    private Route.Forward holdOrRoute(Socket client, long since, long deadline, boolean peer, boolean released) {
        synchronized (lock) {
            if (!mustHold(route, peer, released)) {
                return (Route.Forward) route;
            }
            if (held.size() >= settings.maxHeld()) {
                rejected.incrementAndGet();
                LOG.atWarn().addKeyValue("port", port).addKeyValue("client", client.getRemoteSocketAddress())
                        .log("closing connection: already holding " + settings.maxHeld() + " connections (proxy max_held)");
                close(client);
                return null;
            }
            held.add(new Held(client, since, deadline, peer));
            if (!released) {
                heldTotal.incrementAndGet();
            }
            return null;
        }
    }

    /**
     * Sends one client where the route says, now: holds it, or connects it to the target (retrying a local target that
     * refuses, until the deadline, since a starting application is not listening yet) and starts carrying its bytes.
     */
    private void dispatch(Socket client, long since, long deadline, boolean peer, boolean released) {
        try {
            dispatchOrRetry(client, since, deadline, peer, released);
        } finally {
            retries.leave();
        }
    }

    private void dispatchOrRetry(Socket client, long since, long deadline, boolean peer, boolean released) {
        while (!closed) {
            var forward = holdOrRoute(client, since, deadline, peer, released);
            if (forward == null) {
                return;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(forward.target(), forward.local() ? LOCAL_CONNECT_MILLIS : (int) settings.connectTimeout().toMillis());
                upstream.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                forwarded.incrementAndGet();
                retries.admitted();
                if (forward.local()) {
                    reportAnswered(forward); // before carrying: once this client has an answer, the kernel forwards
                }
                pipe(client, upstream);
                return;
            } catch (java.net.SocketTimeoutException dropped) {
                close(upstream);
                if (!forward.local() || System.nanoTime() >= deadline) {
                    failed.incrementAndGet();
                    LOG.atWarn().addKeyValue("port", port).addKeyValue("target", forward.target())
                            .log("closing connection: the application does not accept connections: " + dropped.getMessage());
                    close(client);
                    return;
                }
                // connect again at once: see LOCAL_CONNECT_MILLIS
            } catch (IOException e) {
                close(upstream);
                if (forward.local()) {
                    refused.incrementAndGet();
                }
                if (!forward.local() || System.nanoTime() + RETRY_MILLIS * 1_000_000 >= deadline) {
                    failed.incrementAndGet();
                    LOG.atWarn().addKeyValue("port", port).addKeyValue("target", forward.target())
                            .addKeyValue("client", client.getRemoteSocketAddress())
                            .log("closing connection: cannot reach the application: " + e.getMessage());
                    close(client);
                    return;
                }
                retries.awaitTurn(deadline);
            }
        }
        close(client);
    }

    private final Retries retries = new Retries();

    /**
     * A local application that refuses connections (starting: a handoff's target, where the route goes to the container
     * as it starts) is tried again by one connection at a time, every {@link #RETRY_MILLIS}; the others wait until it got
     * in (then they all connect at once) or gave up (then one of them takes its turn). Before, every such connection tried
     * on its own every 20 ms: with 100-200 clients arriving during a start, thousands of refused connects a second beside
     * Docker's start of the application, which they slowed (by hand on a lab host: `docker start` 175-232 ms beside 150
     * such connections, 119-183 without).
     */
    private final class Retries {
        private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        private final java.util.concurrent.locks.Condition changed = lock.newCondition();
        private Thread trying; // the connection whose turn it is; guarded by lock
        private long admitted; // connections made; guarded by lock

        /** Waits for this connection's turn to try again; returns at once when another got in meanwhile. */
        void awaitTurn(long deadline) {
            var me = Thread.currentThread();
            lock.lock();
            try {
                long seen = admitted;
                while (trying != null && trying != me && admitted == seen && !closed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return;
                    }
                    changed.awaitNanos(left);
                }
                if (admitted != seen || closed) {
                    return;
                }
                trying = me;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
            sleep(RETRY_MILLIS);
        }

        /** A connection was made (wherever the route now goes): the waiting ones try now. */
        void admitted() {
            lock.lock();
            try {
                admitted++;
                if (trying == Thread.currentThread()) {
                    trying = null;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** This connection no longer tries (connected, given up, or closed): another takes its turn. */
        void leave() {
            lock.lock();
            try {
                if (trying == Thread.currentThread()) {
                    trying = null;
                    changed.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void reportAnswered(Route.Forward forward) {
        synchronized (lock) {
            if (!forward.equals(route) || forward.equals(answeredRoute)) {
                return;
            }
            answeredRoute = forward;
        }
        answered.accept(port, forward);
    }

    private void pipe(Socket client, Socket upstream) {
        open.add(upstream);
        var connection = new Connection(client, upstream);
        Thread.ofVirtual().start(() -> copy(connection, client, upstream));
        Thread.ofVirtual().start(() -> copy(connection, upstream, client));
    }

    /** The two sockets of one carried connection and when bytes last moved either way. */
    private final class Connection {
        final Socket client;
        final Socket upstream;
        final AtomicLong lastActivity = new AtomicLong(System.nanoTime());
        final AtomicInteger directionsDone = new AtomicInteger();

        Connection(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void closeBoth() {
            close(client);
            close(upstream);
        }
    }

    private void copy(Connection connection, Socket from, Socket to) {
        var buffer = new byte[BUFFER];
        try {
            from.setSoTimeout((int) Math.min(CHECK_MILLIS, settings.idleTimeout().toMillis()));
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException idle) {
                    if (System.nanoTime() - connection.lastActivity.get() > settings.idleTimeout().toNanos()) {
                        LOG.atDebug().addKeyValue("port", port).addKeyValue("client", connection.client.getRemoteSocketAddress())
                                .log("closing idle connection (proxy idle_timeout)");
                        connection.closeBoth();
                        return;
                    }
                    continue;
                }
                if (n < 0) {
                    to.shutdownOutput(); // half-close: the other direction may still be sending
                    if (connection.directionsDone.incrementAndGet() == 2) {
                        connection.closeBoth();
                    }
                    return;
                }
                out.write(buffer, 0, n);
                connection.lastActivity.set(System.nanoTime());
            }
        } catch (IOException e) {
            connection.closeBoth(); // a reset on either side ends the connection on both
        }
    }

    private void expireLoop() {
        while (!closed) {
            sleep(50);
            var expired = new ArrayList<Held>();
            var bounce = new ArrayList<Held>();
            long now = System.nanoTime();
            synchronized (lock) {
                for (var it = held.iterator(); it.hasNext(); ) {
                    var h = it.next();
                    if (now >= h.deadline) {
                        expired.add(h);
                        it.remove();
                    } else if (h.peer && route instanceof Route.Forward && now - h.since > PEER_BOUNCE_NANOS) {
                        // The host that sent it here thought the application ran here; it runs where our route says.
                        bounce.add(h);
                        it.remove();
                    }
                }
            }
            for (var h : bounce) {
                Thread.ofVirtual().start(() -> dispatch(h.client, h.since, h.deadline, h.peer, true));
            }
            for (var h : expired) {
                timedOut.incrementAndGet();
                LOG.atWarn().addKeyValue("port", port).addKeyValue("client", h.client.getRemoteSocketAddress())
                        .log("closing connection: held " + (now - h.since) / 1_000_000 + " ms, longer than the proxy's max_hold_seconds ("
                                + settings.maxHoldTime().toSeconds() + " s), while " + describe(route()));
                close(h.client);
            }
        }
    }

    private static String describe(Route route) {
        return switch (route) {
            case Route.Hold hold -> "holding: " + hold.reason();
            case Route.Forward forward -> "routing to " + forward.target();
        };
    }

    private void close(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops listening and closes every connection it holds or carries. */
    @Override
    public void close() {
        closed = true;
        meters.forEach(io.micrometer.core.instrument.Metrics.globalRegistry::remove);
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        synchronized (lock) {
            held.clear();
        }
        for (var socket : List.copyOf(open)) {
            close(socket);
        }
    }
}
