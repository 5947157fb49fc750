package dev.flocker.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.lab.FreePorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The routing proxy on loopback with real sockets: forwarding, holding and releasing in order, limits, faults. */
class RoutingProxyTest {
    final List<AutoCloseable> closing = new ArrayList<>();
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final ProxySettings FAST = new ProxySettings(Duration.ofSeconds(5), 100, Duration.ofSeconds(1), Duration.ofSeconds(30));

    @AfterEach
    void close() throws Exception {
        for (var c : closing.reversed()) {
            c.close();
        }
    }

    /**
     * A line server that answers each line with "<name>:<line>" and records the first line of each connection by the
     * order in which it accepted the connection (handler threads read them in any order).
     */
    final class LineServer implements AutoCloseable {
        final String name;
        final ServerSocket server;
        final java.util.concurrent.ConcurrentSkipListMap<Integer, String> byAcceptOrder = new java.util.concurrent.ConcurrentSkipListMap<>();
        final List<String> firstLines = new CopyOnWriteArrayList<>();
        private int accepted;

        LineServer(String name, int port) throws IOException {
            this.name = name;
            this.server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(LOOPBACK, port));
            Thread.ofVirtual().start(this::serve);
            closing.add(this);
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve() {
            while (!server.isClosed()) {
                try {
                    var socket = server.accept();
                    int index = accepted++;
                    Thread.ofVirtual().start(() -> answer(socket, index));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void answer(Socket socket, int index) {
            try (socket; var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                 var out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8)) {
                boolean first = true;
                for (String line; (line = in.readLine()) != null; ) {
                    if (first) {
                        firstLines.add(line);
                        byAcceptOrder.put(index, line);
                        first = false;
                    }
                    out.println(name + ":" + line);
                }
            } catch (IOException e) {
                // client gone
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    RoutingProxy proxy(ProxySettings settings, boolean everyoneIsAPeer) {
        var proxy = new RoutingProxy(LOOPBACK, settings, address -> everyoneIsAPeer, kernel());
        closing.add(proxy);
        if (everyoneIsAPeer) {
            proxy.peers(java.util.Set.of(LOOPBACK)); // the agent tells its proxy the peers its predicate knows
        }
        return proxy;
    }

    /** The proxy's kernel forwarding: none here; {@link KernelForwardingTest} runs every test again with it. */
    KernelForwarding kernel() {
        return null;
    }

    static Socket connect(int port) throws IOException {
        var socket = new Socket();
        socket.connect(new InetSocketAddress(LOOPBACK, port), 1000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Sends one line and reads the answer, or null when the proxy closed the connection. */
    static String ask(Socket socket, String line) throws IOException {
        socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    @Test
    void forwardsBothWaysToALocalApplication() throws Exception {
        var app = new LineServer("app", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        assertThat(proxy.update(Map.of(port, Route.local("127.0.0.1", app.port())))).isEmpty();
        try (var client = connect(port)) {
            assertThat(ask(client, "hello")).isEqualTo("app:hello");
            assertThat(ask(client, "again")).isEqualTo("app:again");
        }
        assertThat(proxy.stats(port).orElseThrow().forwarded()).isEqualTo(1);
    }

    @Test
    void holdsNewConnectionsDuringAHandoffAndReleasesThemInOrderToTheNewPlace() throws Exception {
        var old = new LineServer("old", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", old.port())));
        proxy.route(port, Route.hold("handoff of app"));
        var clients = new ArrayList<Socket>();
        for (int i = 0; i < 5; i++) {
            var client = connect(port); // accepted, not refused
            client.getOutputStream().write(("c" + i + "\n").getBytes(StandardCharsets.UTF_8));
            clients.add(client);
            Thread.sleep(20);
        }
        Thread.sleep(200);
        assertThat(proxy.stats(port).orElseThrow().heldNow()).isEqualTo(5);
        var moved = new LineServer("new", FreePorts.next());
        proxy.update(Map.of(port, Route.remote("127.0.0.1", moved.port())));
        for (int i = 0; i < 5; i++) {
            var in = new BufferedReader(new InputStreamReader(clients.get(i).getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("new:c" + i);
            clients.get(i).close();
        }
        assertThat(moved.byAcceptOrder.values()).as("the order the application accepted them in").containsExactly("c0", "c1", "c2", "c3", "c4");
        assertThat(old.firstLines).isEmpty();
        var stats = proxy.stats(port).orElseThrow();
        assertThat(stats.lastReleased()).isEqualTo(5);
        assertThat(stats.lastHoldMillis()).isGreaterThanOrEqualTo(250);
    }

    @Test
    void routesPlannedBeforeAHandoffsOwnSwitchDoNotUndoIt() throws Exception {
        var old = new LineServer("old", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", old.port())));
        long plannedBefore = System.nanoTime(); // a loop reads the moves' progress, then the handoff switches the port
        var moved = new LineServer("new", FreePorts.next());
        proxy.route(port, Route.remote("127.0.0.1", moved.port()));
        proxy.update(Map.of(port, Route.hold("planned before the switch")), plannedBefore);
        assertThat(proxy.routeOf(port)).as("the older plan is not applied to this port").contains(Route.remote("127.0.0.1", moved.port()));
        try (var client = connect(port)) {
            assertThat(ask(client, "hi")).isEqualTo("new:hi");
        }
        proxy.update(Map.of(port, Route.local("127.0.0.1", old.port())), System.nanoTime());
        assertThat(proxy.routeOf(port)).as("a plan made after the switch is").contains(Route.local("127.0.0.1", old.port()));
    }

    @Test
    void aLocalApplicationThatIsNotListeningYetIsRetriedUntilItAnswers() throws Exception {
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        int appPort = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", appPort)));
        try (var client = connect(port)) {
            client.getOutputStream().write("early\n".getBytes(StandardCharsets.UTF_8));
            Thread.sleep(300);
            new LineServer("late", appPort);
            assertThat(new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)).readLine()).isEqualTo("late:early");
        }
    }

    /**
     * Many clients of an application that is not listening yet (starting after a handoff) do not each try it again: one
     * tries at a time, the others wait for it to get in, then all connect. Each tried every 20 ms on its own before: 40
     * clients for 400 ms made ~800 refused connects, beside the application's start.
     */
    @Test
    void clientsOfAStartingApplicationTryItOneAtATimeAndAllGetInOnceItListens() throws Exception {
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        int appPort = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", appPort)));
        var clients = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 40; i++) {
                var client = connect(port);
                clients.add(client);
                client.getOutputStream().write(("c" + i + "\n").getBytes(StandardCharsets.UTF_8));
            }
            Thread.sleep(400);
            long refused = proxy.stats(port).orElseThrow().refused();
            new LineServer("late", appPort);
            for (int i = 0; i < clients.size(); i++) {
                assertThat(new BufferedReader(new InputStreamReader(clients.get(i).getInputStream(), StandardCharsets.UTF_8)).readLine())
                        .isEqualTo("late:c" + i);
            }
            // One connection every 5 ms for 400 ms (~80) and each client's first try (40), with room for a slow machine;
            // 40 clients each every 20 ms would be ~800.
            assertThat(refused).as("refused connects while the application was not listening").isBetween(40L, 250L);
        } finally {
            for (var client : clients) {
                client.close();
            }
        }
    }

    @Test
    void aConnectionHeldLongerThanTheMaximumIsClosedAndCounted() throws Exception {
        var proxy = proxy(new ProxySettings(Duration.ofMillis(300), 100, Duration.ofSeconds(1), Duration.ofSeconds(30)), false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.hold("nothing runs the app")));
        try (var client = connect(port)) {
            long start = System.nanoTime();
            assertThat(client.getInputStream().read()).isEqualTo(-1);
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(200L, 3000L);
        }
        assertThat(proxy.stats(port).orElseThrow().timedOut()).isEqualTo(1);
    }

    @Test
    void connectionsBeyondTheMaximumHeldAreClosedAtOnce() throws Exception {
        var proxy = proxy(new ProxySettings(Duration.ofSeconds(10), 2, Duration.ofSeconds(1), Duration.ofSeconds(30)), false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.hold("handoff")));
        try (var a = connect(port); var b = connect(port); var c = connect(port)) {
            assertThat(c.getInputStream().read()).isEqualTo(-1);
            assertThat(proxy.stats(port).orElseThrow().rejected()).isEqualTo(1);
            assertThat(proxy.stats(port).orElseThrow().heldNow()).isEqualTo(2);
        }
    }

    @Test
    void aDeadTargetHostFailsConnectionsFastAndTheListenerStaysUp() throws Exception {
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.remote("127.0.0.1", FreePorts.next())));
        try (var client = connect(port)) {
            long start = System.nanoTime();
            assertThat(client.getInputStream().read()).isEqualTo(-1);
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1000);
        }
        assertThat(proxy.stats(port).orElseThrow().failed()).isEqualTo(1);
        var app = new LineServer("back", FreePorts.next());
        proxy.update(Map.of(port, Route.remote("127.0.0.1", app.port())));
        try (var client = connect(port)) {
            assertThat(ask(client, "up")).isEqualTo("back:up");
        }
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        var app = new LineServer("app", FreePorts.next());
        var proxy = proxy(new ProxySettings(Duration.ofSeconds(5), 100, Duration.ofSeconds(1), Duration.ofMillis(300)), false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", app.port())));
        try (var client = connect(port)) {
            long start = System.nanoTime();
            assertThat(client.getInputStream().read()).isEqualTo(-1); // sends nothing, like a slowloris client
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(250L, 3000L);
        }
        try (var client = connect(port)) {
            assertThat(ask(client, "busy")).isEqualTo("app:busy");
        }
    }

    @Test
    void aConnectionFromAnotherHostsProxyIsHeldInsteadOfForwardedOnArrivalThenReleasedWhereTheRouteGoes() throws Exception {
        var elsewhere = new LineServer("elsewhere", FreePorts.next());
        var proxy = proxy(FAST, true);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.remote("127.0.0.1", elsewhere.port())));
        try (var client = connect(port)) {
            client.getOutputStream().write("from-peer\n".getBytes(StandardCharsets.UTF_8));
            Thread.sleep(300);
            assertThat(elsewhere.firstLines).isEmpty();
            assertThat(proxy.stats(port).orElseThrow().heldNow()).isEqualTo(1);
            var moved = new LineServer("moved", FreePorts.next());
            proxy.update(Map.of(port, Route.remote("127.0.0.1", moved.port())));
            assertThat(new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)).readLine())
                    .isEqualTo("moved:from-peer");
        }
        try (var client = connect(port)) {
            var here = new LineServer("here", FreePorts.next());
            proxy.update(Map.of(port, Route.local("127.0.0.1", here.port())));
            assertThat(ask(client, "direct")).isEqualTo("here:direct");
        }
    }

    @Test
    void aPortAlreadyInUseOnTheHostIsReportedWithTheReasonAndRetried() throws Exception {
        int port = FreePorts.next();
        var squatter = new ServerSocket();
        squatter.bind(new InetSocketAddress(LOOPBACK, port));
        var proxy = proxy(FAST, false);
        var errors = proxy.update(Map.of(port, Route.hold("x")));
        assertThat(errors).containsOnlyKeys(port);
        assertThat(errors.get(port)).contains("cannot listen on 127.0.0.1:" + port);
        squatter.close();
        assertThat(proxy.update(Map.of(port, Route.hold("x")))).isEmpty();
        assertThat(proxy.routeOf(port)).contains(Route.hold("x"));
    }

    @Test
    void routesFlippingBackAndForthNeverRefuseOrDropAConnection() throws Exception {
        var a = new LineServer("a", FreePorts.next());
        var b = new LineServer("b", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", a.port())));
        var failures = new AtomicInteger();
        var answers = new AtomicInteger();
        var client = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 300; i++) {
                try (var socket = connect(port)) {
                    var answer = ask(socket, "n" + i);
                    if (answer == null || !answer.endsWith(":n" + i)) {
                        failures.incrementAndGet();
                    } else {
                        answers.incrementAndGet();
                    }
                } catch (IOException e) {
                    failures.incrementAndGet();
                }
            }
        });
        for (int flip = 0; client.isAlive(); flip++) {
            proxy.update(Map.of(port, flip % 3 == 0 ? Route.hold("flip") : Route.local("127.0.0.1", flip % 3 == 1 ? b.port() : a.port())));
            Thread.sleep(3);
        }
        client.join();
        assertThat(failures.get()).isZero();
        assertThat(answers.get()).isEqualTo(300);
    }
}
