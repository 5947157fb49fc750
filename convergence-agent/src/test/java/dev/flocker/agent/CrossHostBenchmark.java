package dev.flocker.agent;

import static dev.flocker.agent.BenchSupport.median;
import static dev.flocker.agent.BenchSupport.stats;

import dev.flocker.api.model.Application;
import dev.flocker.lab.Lab;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cross-host routing benchmark (issue: moves at the physical floor). On a 2-host lab with a control service and an agent
 * per host, an application (busybox httpd in a container on n2, serving a 256 MiB file from the container's own file
 * system, so the page cache and not zfs-fuse feeds it) is reached by a client on the lab's bridge two ways, interleaved
 * in every repeat:
 * <ul>
 * <li><b>direct</b>: at n2's address, the host that runs it (its kernel forwards the port to the container);</li>
 * <li><b>cross</b>: at n1's address, a host that does not run it: n1's kernel forwards to n2 (DNAT, and SNAT so the
 *     answers come back through n1), where n2's forwards to the container.</li>
 * </ul>
 * Measures: one bulk download of the file (MiB/s), connection rate (2 threads: connect, GET a small page, read the
 * status line, close), and wrk -t2 -c16 requests/s and p99 latency. Ratios are cross against direct, within the run.
 *
 * <p>Run with {@code scripts/bench-crosshost.sh [repeats=5] [seconds per rate run=5] [kernel|copies]}; {@code copies} runs n1's
 * agent with {@code kernel_forwarding: false}, so that its proxy copies the cross path's bytes (how it was before).
 */
public final class CrossHostBenchmark {
    private static final String LAB = "bcross";
    private static final int PORT = 18090;
    private static final String APP = "mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=256 2>/dev/null && echo ok > /www/index.html"
            + " && exec httpd -f -p 8080 -h /www";
    private static final long BIG = 256L << 20;

    public static void main(String[] args) throws Exception {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        boolean copies = args.length > 2 && args[2].equals("copies");
        if (args.length > 2 && !copies && !args[2].equals("kernel")) {
            throw new IllegalArgumentException("the third argument is 'kernel' (the default) or 'copies', not '" + args[2] + "'");
        }
        Lab.down(LAB);
        var lab = Lab.upWithPoolSize(LAB, 2, "2G", "busybox");
        var work = Files.createTempDirectory("flocker-bench-cross");
        var report = new ArrayList<String>();
        try (var cluster = new LabCluster(lab, work)) {
            if (copies) {
                cluster.extraAgentConfig = "proxy: {kernel_forwarding: false}"; // n1's proxy copies what it forwards to n2
            }
            cluster.startAgent(1, "");
            cluster.extraAgentConfig = "";
            cluster.startAgent(2, "");
            cluster.await("both agents report", 60, () -> cluster.client.nodes().size() == 2);
            cluster.client.createContainer(new Application(LabCluster.nodeId(2), "web", "flocker/busybox:local",
                    List.of(new Application.Port(8080, PORT)), Map.of(), null, List.of("sh", "-c", APP), List.of(), null, null, List.of()));
            var direct = lab.host(2).ip();
            var cross = lab.host(1).ip();
            cluster.await("the application answers at both hosts", 120, () -> answers(direct) && answers(cross));
            cluster.await("n1's kernel forwards the port to n2", 60, () -> copies || BenchSupport.run(lab, 1, List.of("iptables", "-t", "nat", "-S"))
                    .contains("--dport " + PORT + " -j DNAT --to-destination " + direct + ":" + PORT));
            report.add("cross path: " + (copies ? "n1's proxy copies (kernel_forwarding: false on n1)" : "n1's kernel (DNAT to n2, SNAT back)"));
            get(direct, "/big"); // warm the page cache and the JIT, both ways
            get(cross, "/big");
            var paths = new LinkedHashMap<String, String>();
            paths.put("direct", direct);
            paths.put("cross", cross);
            compare(report, "bulk download MiB/s", repeats, paths, ip -> BIG / 1048576.0 / (get(ip, "/big") / 1e9), true);
            compare(report, "connections/s (GET, no keep-alive)", repeats, paths, ip -> connections(ip, seconds), true);
            compare(report, "wrk -t2 -c16 requests/s", repeats, paths, ip -> wrk(ip, seconds)[0], true);
            compare(report, "wrk -t2 -c16 p99 latency ms", repeats, paths, ip -> wrk(ip, seconds)[1], false);
        } finally {
            System.out.println();
            report.forEach(System.out::println);
            BenchSupport.cleanUp(LAB, work);
        }
    }

    private interface Measure {
        double at(String ip) throws Exception;
    }

    /** Measures every path {@code repeats} times, interleaved; prints min/median/max and cross vs direct. */
    private static void compare(List<String> report, String name, int repeats, Map<String, String> paths, Measure measure, boolean ratio)
            throws Exception {
        var results = new LinkedHashMap<String, List<Double>>();
        paths.keySet().forEach(path -> results.put(path, new ArrayList<>()));
        for (int r = 0; r < repeats; r++) {
            for (var path : paths.entrySet()) {
                results.get(path.getKey()).add(measure.at(path.getValue()));
            }
        }
        double direct = median(results.get("direct"));
        double cross = median(results.get("cross"));
        var line = String.format("%-36s direct %-22s cross %-22s %s", name, stats(results.get("direct")), stats(results.get("cross")),
                ratio ? String.format("cross/direct %.2fx", cross / direct) : String.format("cross - direct %+.1f ms", cross - direct));
        System.out.println(line);
        report.add(line);
    }

    private static boolean answers(String ip) {
        try {
            return status(ip, "/index.html").endsWith(" 200");
        } catch (IOException e) {
            return false;
        }
    }

    private static String status(String ip, String path) throws IOException {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(ip, PORT), 2000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            var line = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            return line.strip();
        }
    }

    /** Downloads {@code path} whole; the nanoseconds it took. */
    private static long get(String ip, String path) throws IOException {
        long start = System.nanoTime();
        try (var socket = new Socket()) {
            socket.setReceiveBufferSize(4 << 20);
            socket.connect(new InetSocketAddress(ip, PORT), 2000);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            var in = socket.getInputStream();
            var buffer = new byte[1 << 20];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
            }
            if (total < BIG) {
                throw new IllegalStateException("got " + total + " bytes of " + path + " from " + ip + ", expected more than " + BIG);
            }
        }
        return System.nanoTime() - start;
    }

    /** Two threads each connecting, asking for the small page, reading the status line, closing; connections/s. */
    private static double connections(String ip, int seconds) throws InterruptedException {
        var done = new AtomicLong();
        var failed = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        var threads = new ArrayList<Thread>();
        for (int t = 0; t < 2; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                while (System.nanoTime() < end) {
                    try {
                        if (status(ip, "/index.html").endsWith(" 200")) {
                            done.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                        }
                    } catch (IOException e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        for (var thread : threads) {
            thread.join();
        }
        if (failed.get() > done.get() / 100) {
            throw new IllegalStateException(failed.get() + " of " + (done.get() + failed.get()) + " connections to " + ip + " failed");
        }
        return done.get() / (double) seconds;
    }

    /** wrk -t2 -c16 against the small page: {requests/s, p99 latency in ms}. */
    private static double[] wrk(String ip, int seconds) throws IOException, InterruptedException {
        var result = dev.flocker.lab.Wrk.run("http://" + ip + ":" + PORT + "/index.html", seconds);
        return new double[] {result.requestsPerSecond(), result.p99Millis()};
    }
}
