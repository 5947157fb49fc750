package dev.flocker.proxy;

import dev.flocker.lab.FreePorts;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The routing proxy against a direct connection, on loopback, in one run (proxy issue): throughput of one bulk stream,
 * connection rate (connect, one byte each way, close), and request rate and p99 latency of wrk against busybox httpd.
 * Each measure is repeated; min/median/max and the ratio of medians are printed.
 *
 * <p>Run with {@code scripts/bench-proxy.sh [repeats=3] [bulk MiB=2048] [seconds per rate run=5]}.
 */
public final class ProxyBenchmark {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    public static void main(String[] args) throws Exception {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int bulkMiB = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        if (args.length > 3) {
            PATHS = List.of(args[3].split(","));
        }
        var report = new ArrayList<String>();
        var kernel = KernelForwarding.open("bench" + ProcessHandle.current().pid() % 100000, LOOPBACK)
                .orElseThrow(() -> new IllegalStateException("iptables cannot be used here; run as root"));
        // Each path has servers of its own: a client cannot see that a DNAT'd connection's real 4-tuple is one a direct
        // connection to the same server port left in TIME_WAIT a moment ago, and PAWS then drops its SYN for a 1 s retry.
        // Clients of a real application reach it one way, not both within seconds from one address and port range.
        var closing = new ArrayList<AutoCloseable>();
        try (var userland = new RoutingProxy(LOOPBACK, ProxySettings.DEFAULTS, a -> false);
             var steady = new RoutingProxy(LOOPBACK, ProxySettings.DEFAULTS, a -> false, kernel)) {
            int[][] ports = new int[3][3]; // [measure: sink, echo, httpd][path: direct, proxy, kernel]
            var proxies = List.of(userland, steady);
            for (int path = 0; path < 3; path++) {
                var sink = new Server(Server.Kind.SINK);
                var echo = new Server(Server.Kind.ONE_BYTE);
                var httpd = new Httpd();
                closing.addAll(List.of(sink, echo, httpd));
                int[] targets = {sink.port(), echo.port(), httpd.port};
                for (int m = 0; m < 3; m++) {
                    ports[m][path] = path == 0 ? targets[m] : FreePorts.next();
                }
                if (path > 0) {
                    var routes = new java.util.HashMap<Integer, Route>();
                    for (int m = 0; m < 3; m++) {
                        routes.put(ports[m][path], Route.local("127.0.0.1", targets[m]));
                    }
                    proxies.get(path - 1).update(routes);
                }
            }
            for (int port : new int[] {ports[0][2], ports[1][2], ports[2][2]}) { // the first connection makes the kernel take over
                try (var socket = new Socket(LOOPBACK, port)) {
                    socket.getOutputStream().write(1);
                    socket.shutdownOutput();
                    socket.getInputStream().read();
                }
                if (!steady.kernelForwards(port)) {
                    throw new IllegalStateException("the kernel does not forward port " + port + " after its application answered");
                }
            }
            report.add(String.format("%-30s %-9s %-26s %s", "measure", "path", "min/median/max", "vs direct (medians)"));
            compare(report, "bulk stream MiB/s", repeats, port -> bulk(port, bulkMiB), ports[0]);
            compare(report, "connections/s (2 threads)", repeats, port -> connections(port, seconds), ports[1]);
            compare(report, "wrk -t2 -c16 requests/s", repeats, port -> wrk(port, seconds)[0], ports[2]);
            compare(report, "wrk -t2 -c16 p99 latency ms", repeats, port -> wrk(port, seconds)[1], ports[2]);
        } finally {
            for (var c : closing) {
                c.close();
            }
        }
        System.out.println();
        System.out.println("direct: to the server itself; proxy: through the proxy's own copies (how a handoff's held and");
        System.out.println("released connections, and the first after an application starts, travel); kernel: the steady state");
        System.out.println("once the application answered (a DNAT rule).");
        report.forEach(System.out::println);
    }

    private static final List<String> ALL_PATHS = List.of("direct", "proxy", "kernel");
    private static List<String> PATHS = ALL_PATHS;

    interface Measure {
        double run(int port) throws Exception;
    }

    /** Direct, through the proxy's copies and through the kernel, interleaved, so drift on the machine touches all alike. */
    /** ports: direct, through the proxy's copies, through the kernel. */
    private static void compare(List<String> report, String name, int repeats, Measure measure, int[] ports) throws Exception {
        var results = List.of(new ArrayList<Double>(), new ArrayList<Double>(), new ArrayList<Double>());
        for (int i = 0; i < repeats; i++) {
            for (int p = 0; p < 3; p++) {
                if (PATHS.contains(ALL_PATHS.get(p))) {
                    results.get(p).add(measure.run(ports[p]));
                }
            }
        }
        for (int p = 0; p < 3; p++) {
            if (results.get(p).isEmpty()) {
                continue;
            }
            var line = String.format("%-30s %-9s %-26s", name, ALL_PATHS.get(p), stats(results.get(p)));
            if (results.get(0).isEmpty()) {
                // no direct run to compare with
            } else if (p > 0 && name.contains("latency")) {
                line += String.format(" %+.2f ms", median(results.get(p)) - median(results.get(0)));
            } else if (p > 0) {
                line += String.format(" %.2fx", median(results.get(p)) / median(results.get(0)));
            }
            report.add(line);
            System.out.println(line);
        }
    }

    private static double median(List<Double> values) {
        return values.stream().sorted().toList().get(values.size() / 2);
    }

    private static String stats(List<Double> values) {
        var sorted = values.stream().sorted().toList();
        return String.format("%.2f/%.2f/%.2f", sorted.get(0), median(values), sorted.get(sorted.size() - 1));
    }

    /** Sends {@code mib} MiB down one connection; MiB/s until the server has read it all. */
    private static double bulk(int port, int mib) throws IOException {
        var block = new byte[256 * 1024];
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port));
            long start = System.nanoTime();
            var out = socket.getOutputStream();
            for (long sent = 0; sent < (long) mib << 20; sent += block.length) {
                out.write(block);
            }
            socket.shutdownOutput();
            socket.getInputStream().read(); // the sink answers one byte after end of stream: everything arrived
            return mib / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Two threads connecting, sending one byte, reading one back and closing, for {@code seconds}; connections/s. */
    private static double connections(int port, int seconds) throws InterruptedException {
        var done = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        var threads = new ArrayList<Thread>();
        for (int t = 0; t < 2; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < end) {
                    try (var socket = new Socket()) {
                        socket.connect(new InetSocketAddress(LOOPBACK, port));
                        socket.getOutputStream().write(1);
                        if (socket.getInputStream().read() == 1) {
                            done.incrementAndGet();
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException("connection " + done.get() + " failed", e);
                    }
                }
            }));
        }
        for (var thread : threads) {
            thread.join();
        }
        return done.get() / (double) seconds;
    }

    /** wrk -t2 -c16 against the port: {requests/s, p99 latency in ms}. */
    private static double[] wrk(int port, int seconds) throws IOException, InterruptedException {
        var result = dev.flocker.lab.Wrk.run("http://127.0.0.1:" + port + "/index.html", seconds);
        return new double[] {result.requestsPerSecond(), result.p99Millis()};
    }

    /** Loopback test servers: a sink that answers one byte at end of stream, and a one-byte echo. */
    private static final class Server implements AutoCloseable {
        enum Kind { SINK, ONE_BYTE }

        private final ServerSocket server;
        private final Kind kind;

        Server(Kind kind) throws IOException {
            this.kind = kind;
            this.server = new ServerSocket(0, 1024, LOOPBACK);
            Thread.ofPlatform().daemon().start(this::serve);
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve() {
            while (!server.isClosed()) {
                try {
                    var socket = server.accept();
                    Thread.ofVirtual().start(() -> handle(socket));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void handle(Socket socket) {
            try (socket) {
                InputStream in = socket.getInputStream();
                if (kind == Kind.ONE_BYTE) {
                    int b = in.read();
                    socket.getOutputStream().write(b);
                    return;
                }
                var buffer = new byte[256 * 1024];
                while (in.read(buffer) >= 0) {
                    // discard
                }
                socket.getOutputStream().write(1);
            } catch (IOException e) {
                // client gone
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** busybox httpd on loopback serving a 3-byte page (the same binary as the lab's busybox image). */
    private static final class Httpd implements AutoCloseable {
        final int port = FreePorts.next();
        final Process process;
        final Path root;

        Httpd() throws IOException, InterruptedException {
            root = Files.createTempDirectory("bench-httpd");
            Files.writeString(root.resolve("index.html"), "ok\n");
            process = new ProcessBuilder("busybox", "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", root.toString()).inheritIO().start();
            for (int i = 0; i < 100; i++) {
                try (var socket = new Socket()) {
                    socket.connect(new InetSocketAddress(LOOPBACK, port));
                    return;
                } catch (IOException e) {
                    Thread.sleep(50);
                }
            }
            throw new IllegalStateException("busybox httpd did not start on port " + port);
        }

        @Override
        public void close() throws IOException {
            process.destroy();
            Files.deleteIfExists(root.resolve("index.html"));
            Files.deleteIfExists(root);
        }
    }
}
