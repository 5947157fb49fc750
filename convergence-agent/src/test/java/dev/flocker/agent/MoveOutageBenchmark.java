package dev.flocker.agent;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import static dev.flocker.agent.BenchSupport.fill;
import static dev.flocker.agent.BenchSupport.median;
import static dev.flocker.agent.BenchSupport.stats;

import dev.flocker.lab.Lab;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

/**
 * Move-outage benchmark (agent issue). On a 2-host lab with a control service and an agent per host, an application
 * (busybox httpd serving a page from its volume, while it keeps overwriting 1 MiB of the volume every 100 ms) with a
 * 1 GiB and a 4 GiB volume moves back and forth; a client starting a request every 5 ms on each host's address sees
 * the outage: the longest time without any answer around the move (held requests are answered late, not lost).
 *
 * <p>The floor, measured in the same run on the same hosts by the same client: the same container on the source, its
 * data pre-synced to the target while it runs (untimed, as our pre-copy), then {@code docker stop} + {@code zfs
 * snapshot} + incremental {@code zfs send | ssh zfs recv -F} of the last delta over an already-open OpenSSH
 * ControlMaster (aes128-gcm) + {@code docker start} of a pre-created container on the target, on the host's network (no
 * proxy, no NAT). Ours goes through the hosts' routing proxies, which hold connections during the handoff. Row
 * {@code ours-1} is ours for a client that uses one host's address only (the worse host of each move): the floor has no
 * such row, since nothing answers at the source's address after it.
 *
 * <p>Last, the agent's steady-state loop (discover, plan, report) with N datasets on the host, from its debug log.
 *
 * <p>Run with {@code scripts/bench-move.sh [moves=5] [sizes in MiB=1024,4096] [datasets for the loop=1000] [idle moves=5]
 * [quiet|load] [datasets beside the moves on each host=0]}; {@code load} runs everything beside a steady CPU and disk
 * load ({@link Load}); the last creates that many small datasets on each host first, so the moves run on hosts whose
 * every full look at ZFS lists them (~0.9 ms a dataset in zfs-fuse).
 */
public final class MoveOutageBenchmark {
    private static final String LAB = "bmove";
    private static final int APP_PORT = 18080;
    private static final int FLOOR_PORT = 18081;
    private static final String IMAGE = "flocker/busybox:local";
    private static final String APP = "mkdir -p /data/www && echo ok > /data/www/index.html && httpd -p %d -h /data/www && i=0; "
            + "while true; do dd if=/dev/urandom of=/data/churn bs=1M count=1 seek=$((i %% 64)) conv=notrunc 2>/dev/null; "
            + "i=$((i+1)); sleep 0.1; done";
    private static final Pattern LOOP = Pattern.compile("\\bms=(\\d+) datasets=(\\d+) .*loop done");

    private final LabCluster cluster;
    private final Lab lab;

    private MoveOutageBenchmark(LabCluster cluster) {
        this.cluster = cluster;
        this.lab = cluster.lab;
    }

    public static void main(String[] args) throws Exception {
        int moves = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        var sizes = args.length > 1 ? Arrays.stream(args[1].split(",")).map(Integer::parseInt).toList() : List.of(1024, 4096);
        int loopDatasets = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        int idleMoves = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        boolean loaded = args.length > 4 && args[4].equals("load");
        if (args.length > 4 && !loaded && !args[4].equals("quiet")) {
            throw new IllegalArgumentException("the fifth argument is 'quiet' (the default) or 'load', not '" + args[4] + "'");
        }
        int beside = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        if (beside < 0) {
            throw new IllegalArgumentException("the sixth argument is how many datasets to create on each host (0 or more), not " + beside);
        }
        Lab.down(LAB);
        var lab = Lab.upWithPoolSize(LAB, 2, "16G", "busybox");
        var work = Files.createTempDirectory("flocker-bench-move");
        var report = new StringBuilder();
        try (var cluster = new LabCluster(lab, work)) {
            cluster.startAgent(1, ""); // each loop's debug line, which this benchmark reads, as every LabCluster agent logs it
            cluster.startAgent(2, "");
            cluster.await("both agents report", 60, () -> cluster.client.nodes().size() == 2);
            var bench = new MoveOutageBenchmark(cluster);
            if (beside > 0) {
                bench.crowd(beside);
                report.append(String.format("BESIDE THE MOVES: %d datasets on each host%n", beside));
            }
            if (loaded) {
                Load.start(lab);
                report.append("UNDER LOAD: " + Load.DESCRIPTION + "\n");
            }
            report.append(String.format("%-9s %-6s %-5s %-28s %-10s %-10s%n", "volume", "method", "n", "outage ms min/median/max", "vs floor",
                    "vs docker"));
            var medians = new java.util.LinkedHashMap<Integer, Double>();
            for (int size : sizes) {
                var measured = bench.ourMoves(size, moves);
                var ours = measured.anyAddress();
                var floor = bench.floorMoves(size, moves, true);
                var published = bench.floorMoves(size, moves, false);
                medians.put(size, median(ours));
                report.append(row(size, "floor", floor, median(floor), median(published)));
                report.append(row(size, "docker", published, median(floor), median(published)));
                report.append(row(size, "ours", ours, median(floor), median(published)));
                report.append(row(size, "ours-1", measured.oneAddress(), median(floor), median(published)));
                System.out.print(report);
            }
            if (sizes.size() > 1) {
                double first = medians.get(sizes.get(0));
                for (int size : sizes.subList(1, sizes.size())) {
                    report.append(String.format("outage median at %d MiB vs %d MiB: %.2fx%n", size, sizes.get(0), medians.get(size) / first));
                }
            }
            if (idleMoves > 0) {
                var ours = bench.idleMoves(idleMoves);
                var floor = bench.idleFloorMoves(idleMoves);
                report.append(String.format("idle 64 MiB dataset, request to mounted on the target, ms min/median/max: floor %s, ours %s;"
                        + " ours/floor %.2fx, ours - 1.25 x floor = %+.0f ms (target <= 100 ms)%n", stats(floor), stats(ours),
                        median(ours) / median(floor), median(ours) - 1.25 * median(floor)));
                System.out.print(report);
            }
            if (loopDatasets > 0) {
                var loops = bench.agentLoop(loopDatasets);
                report.append(String.format("agent loop with %d datasets on the host: n=%d, ms %s%n", loopDatasets, loops.size(), stats(loops)));
            }
        } finally {
            Load.stop(lab);
            System.out.println();
            System.out.print(report);
            BenchSupport.cleanUp(LAB, work);
        }
    }

    /**
     * Each move's outage in ms: for a client of both hosts' addresses (the longest time with no answer on either), and for
     * one that uses a single host's address (the worse of the two hosts), as most clients do.
     */
    private record OurMoves(List<Double> anyAddress, List<Double> oneAddress) {
    }

    /** Moves the app with a {@code sizeMiB} volume {@code moves} times between the hosts. */
    private OurMoves ourMoves(int sizeMiB, int moves) throws Exception {
        var client = cluster.client;
        var id = client.createDataset(node(1), null, Map.of("name", "bench-" + sizeMiB), null, null).datasetId();
        cluster.await("n1 mounts the dataset", 60, () -> node(1).equals(cluster.primaryOf(id)));
        fill(cluster.mountpoint(1, id).resolve("fill"), sizeMiB);
        client.createContainer(new Application(node(1), "outage", IMAGE, List.of(new Application.Port(8080, APP_PORT)), Map.of(), null,
                List.of("sh", "-c", APP.formatted(8080)), List.of(new Application.Volume(id, "/data")), null, null, List.of()));
        var outages = new ArrayList<Double>();
        var oneAddress = new ArrayList<Double>();
        try (var poller = new Poller(APP_PORT)) {
            cluster.await("the app answers on n1", 120, () -> poller.answeredOn(1, 0));
            for (int m = 0; m < moves; m++) {
                int from = m % 2 == 0 ? 1 : 2;
                int to = 3 - from;
                Thread.sleep(3000); // the app writes meanwhile: each move has a delta to pre-copy and a last one to hand off
                long start = System.nanoTime();
                client.moveContainer("outage", node(to));
                cluster.await("n" + to + " holds the writable copy", 300, () -> node(to).equals(cluster.primaryOf(id)));
                cluster.await("the move is done", 60, () -> client.moves().stream().noneMatch(s -> s.datasetId().equals(id)
                        && s.phase() != dev.flocker.api.model.MovePhase.DONE));
                long handedOver = System.nanoTime();
                cluster.await("the app answers after the move", 60, () -> poller.answeredOn(1, handedOver) && poller.answeredOn(2, handedOver));
                Thread.sleep(1000);
                long end = System.nanoTime();
                var outage = poller.outage(start, end);
                var viaSource = poller.outage(start, end, from);
                var viaTarget = poller.outage(start, end, to);
                oneAddress.add(Math.max(viaSource.millis(), viaTarget.millis()));
                // This move's state as its source reports it (the other host may still report the move before).
                var detail = client.moves().stream().filter(s -> s.datasetId().equals(id) && s.to().equals(node(to)) && s.phase() == dev.flocker.api.model.MovePhase.DONE)
                        .map(s -> s.detail()).findFirst().orElse("(no finished move to n" + to + " reported)");
                System.out.printf("ours %d MiB move %d n%d->n%d: outage %.0f ms (%s); a client of n%d's address only %.0f ms, of n%d's %.0f ms;"
                        + " move request to handed over %.0f ms; %s%n", sizeMiB, m + 1, from, to, outage.millis(), outage, from, viaSource.millis(),
                        to, viaTarget.millis(), (handedOver - start) / 1e6, detail);
                outages.add(outage.millis());
            }
        }
        client.deleteContainer("outage");
        int last = moves % 2 == 0 ? 1 : 2;
        cluster.await("the app is removed", 60, () -> docker(last, "ps", "-q", "--filter", "name=^outage$").isBlank());
        client.deleteDataset(id);
        cluster.await("no host holds the dataset", 120, () -> client.datasetState().stream().noneMatch(d -> d.datasetId().equals(id)));
        return new OurMoves(outages, oneAddress);
    }

    /**
     * The floor: the same app moved by hand with the fewest steps that can move it. With {@code hostNetwork} the app
     * listens on the host's address itself (no network layer at all); without, it is on Docker's bridge with its port
     * published by Docker, as the issue's and BASELINES.md's floor were measured (Docker's published ports stall ~0.8 s
     * for clients that connect while a container starts).
     */
    private List<Double> floorMoves(int sizeMiB, int moves, boolean hostNetwork) throws Exception {
        String method = hostNetwork ? "floor" : "docker";
        floorName = "floor-" + method + "-" + sizeMiB; // a run of its own: a leftover of an earlier one cannot interfere
        var ssh = new SshMasters(lab);
        var outages = new ArrayList<Double>();
        try (ssh) {
            String source = floorDataset(1);
            zfs("create", "-o", "mountpoint=" + floorMount(1), source);
            fill(floorMount(1).resolve("fill"), sizeMiB);
            zfs("snapshot", source + "@f0");
            ssh.pipe(1, 2, "zfs send " + source + "@f0", "zfs recv -F " + floorDataset(2));
            zfs("set", "mountpoint=" + floorMount(2), floorDataset(2));
            for (int i = 1; i <= 2; i++) {
                var create = List.of(i == 1 ? "run" : "create");
                var args = new ArrayList<>(create);
                if (i == 1) {
                    args.add("-d");
                }
                args.addAll(List.of("--init", "--name", "floor", "-v", floorMount(i) + ":/data"));
                args.addAll(hostNetwork ? List.of("--network", "host") : List.of("-p", lab.host(i).ip() + ":" + FLOOR_PORT + ":8080"));
                args.addAll(List.of(IMAGE, "sh", "-c", APP.formatted(hostNetwork ? FLOOR_PORT : 8080)));
                docker(i, args.toArray(String[]::new));
            }
            String common = "f0";
            try (var poller = new Poller(FLOOR_PORT)) {
                cluster.await("the floor app answers on n1", 60, () -> poller.answeredOn(1, 0));
                for (int m = 0; m < moves; m++) {
                    int from = m % 2 == 0 ? 1 : 2;
                    int to = 3 - from;
                    Thread.sleep(3000);
                    // Pre-sync while the app runs (untimed, like our pre-copy).
                    String pre = "p" + m;
                    zfs("snapshot", floorDataset(from) + "@" + pre);
                    ssh.pipe(from, to, "zfs send -i @" + common + " " + floorDataset(from) + "@" + pre, "zfs recv -F " + floorDataset(to));
                    // The outage: stop, snapshot, last delta, start.
                    long start = System.nanoTime();
                    docker(from, "stop", "floor");
                    String last = "l" + m;
                    zfs("snapshot", floorDataset(from) + "@" + last);
                    ssh.pipe(from, to, "zfs send -i @" + pre + " " + floorDataset(from) + "@" + last, "zfs recv -F " + floorDataset(to));
                    docker(to, "start", "floor");
                    cluster.await("the floor app answers on n" + to, 60, () -> poller.answeredOn(to, start));
                    Thread.sleep(1000);
                    var outage = poller.outage(start, System.nanoTime());
                    System.out.printf("%s %d MiB move %d n%d->n%d: outage %.0f ms (%s)%n", method, sizeMiB, m + 1, from, to, outage.millis(),
                            outage);
                    outages.add(outage.millis());
                    common = last;
                }
            }
        } finally {
            for (int i = 1; i <= 2; i++) {
                tryRun(i, List.of("/usr/bin/docker", "-H", lab.host(i).dockerHost(), "rm", "-f", "floor"));
                BenchSupport.destroyDataset(lab, i, floorDataset(i));
            }
        }
        return outages;
    }

    /**
     * A dataset no application uses (64 MiB of data), moved back and forth through the API as Kubernetes' Flocker
     * driver does: the time from the request to the API showing it mounted on the target, polled every 5 ms.
     */
    private List<Double> idleMoves(int moves) throws Exception {
        var client = cluster.client;
        var id = client.createDataset(node(1), null, Map.of("name", "bench-idle"), null, null).datasetId();
        cluster.await("n1 mounts the idle dataset", 60, () -> node(1).equals(cluster.primaryOf(id)));
        fill(cluster.mountpoint(1, id).resolve("fill"), 64);
        var times = new ArrayList<Double>();
        var events = cluster.events();
        for (int m = 0; m < moves; m++) {
            int to = m % 2 == 0 ? 2 : 1;
            Thread.sleep(1000);
            long start = System.nanoTime();
            var requested = java.time.Instant.now(); // printed, to match against the agents' logs
            events.clear();
            client.moveDataset(id, node(to));
            while (client.datasetState().stream().noneMatch(d -> d.datasetId().equals(id) && node(to).equals(d.primary()) && d.path() != null)) {
                // Looked at again on each state change the API announces, or after 20 ms without one: polling every 5 ms kept
                // the control service (in this JVM) and this client busy through the move, on the 2 cores the move runs on.
                events.poll(20, java.util.concurrent.TimeUnit.MILLISECONDS);
                events.clear();
                if (System.nanoTime() - start > 300_000_000_000L) {
                    throw new IllegalStateException("the idle dataset did not arrive on n" + to + " in 300 s");
                }
            }
            double ms = (System.nanoTime() - start) / 1e6;
            System.out.printf("ours idle move %d to n%d (requested %s): request to mounted %.0f ms%n", m + 1, to, requested, ms);
            times.add(ms);
        }
        client.deleteDataset(id);
        cluster.await("no host holds the idle dataset", 120, () -> client.datasetState().stream().noneMatch(d -> d.datasetId().equals(id)));
        return times;
    }

    /**
     * The idle floor by hand: snapshot, incremental send over an already open SSH session, mount on the target (the
     * first full copy untimed, as our first move's is not the point here: every later move is an increment).
     */
    private List<Double> idleFloorMoves(int moves) throws Exception {
        floorName = "floor-idle";
        var times = new ArrayList<Double>();
        try (var ssh = new SshMasters(lab)) {
            zfs("create", "-o", "mountpoint=" + floorMount(1), floorDataset(1));
            fill(floorMount(1).resolve("fill"), 64);
            zfs("snapshot", floorDataset(1) + "@i0");
            ssh.pipe(1, 2, "zfs send " + floorDataset(1) + "@i0", "zfs recv -F -u " + floorDataset(2));
            zfs("set", "mountpoint=" + floorMount(2), floorDataset(2));
            zfs("unmount", floorDataset(2));
            String common = "i0";
            for (int m = 0; m < moves; m++) {
                int from = m % 2 == 0 ? 1 : 2;
                int to = 3 - from;
                Thread.sleep(1000);
                String next = "i" + (m + 1);
                long start = System.nanoTime();
                zfs("snapshot", floorDataset(from) + "@" + next);
                ssh.pipe(from, to, "zfs send -i @" + common + " " + floorDataset(from) + "@" + next, "zfs recv -F -u " + floorDataset(to));
                zfs("mount", floorDataset(to));
                double ms = (System.nanoTime() - start) / 1e6;
                System.out.printf("floor idle move %d n%d->n%d: snapshot + send|recv + mount %.0f ms%n", m + 1, from, to, ms);
                times.add(ms);
                zfs("unmount", floorDataset(from)); // untimed: the source gives it up
                common = next;
            }
        } finally {
            for (int i = 1; i <= 2; i++) {
                BenchSupport.destroyDataset(lab, i, floorDataset(i));
            }
        }
        return times;
    }

    /**
     * Creates {@code count} small datasets on each host, through the API, {@link #CROWD_BATCH} at a time on one host at a
     * time, each batch awaited mounted. The lab's one zfs-fuse daemon then stopped answering new mounts (a file opened
     * there hung for good) in 4 of 5 runs with 300 on each host and 2 of 3 with 60, created all at once or ten at a time,
     * with this session's code or the one before (BENCHMARKS.md, twenty-third session).
     */
    private void crowd(int count) throws Exception {
        var client = cluster.client;
        long started = System.nanoTime();
        for (int host = 1; host <= 2; host++) {
            var node = node(host);
            for (int i = 0; i < count; i += CROWD_BATCH) {
                int upTo = Math.min(count, i + CROWD_BATCH);
                for (int j = i; j < upTo; j++) {
                    client.createDataset(node, null, Map.of("name", "beside-" + host + "-" + j), null, null);
                }
                cluster.await(upTo + " datasets mounted on n" + host, 300, () -> mountedOn(node) >= upTo);
            }
        }
        System.out.printf("%d datasets on each host in %.0f s%n", count, (System.nanoTime() - started) / 1e9);
    }

    private static final int CROWD_BATCH = 10;

    /** How many datasets the API's state shows mounted on {@code node} as their primary. */
    private long mountedOn(NodeId node) {
        return cluster.client.datasetState().stream().filter(d -> node.equals(d.primary()) && d.path() != null).count();
    }

    /** Creates {@code count} datasets on n2, then reads the agent's loop times from its debug log for 15 s. */
    private List<Double> agentLoop(int count) throws Exception {
        var client = cluster.client;
        for (int i = 0; i < count; i++) {
            client.createDataset(node(2), null, Map.of("name", "loop-" + i), null, null);
        }
        cluster.await(count + " datasets mounted on n2", 900, () -> mountedOn(node(2)) >= count);
        var log = cluster.agentLog(2);
        int seen = Files.readAllLines(log).size();
        Thread.sleep(15_000);
        var lines = Files.readAllLines(log);
        var times = new ArrayList<Double>();
        for (var line : lines.subList(seen, lines.size())) {
            var matcher = LOOP.matcher(line);
            if (matcher.find()) {
                double ms = Double.parseDouble(matcher.group(1));
                int datasets = Integer.parseInt(matcher.group(2));
                if (datasets >= count) {
                    times.add(ms);
                }
            }
        }
        if (times.isEmpty()) {
            throw new IllegalStateException("no 'loop done' lines in " + log + " (is the agent's debug log on?)");
        }
        return times;
    }

    private static NodeId node(int host) {
        return LabCluster.nodeId(host);
    }

    private String floorName = "floor";

    private String floorDataset(int host) {
        return lab.host(host).pool() + "/" + floorName;
    }

    private Path floorMount(int host) {
        return lab.host(host).dir().resolve(floorName);
    }

    private String docker(int host, String... args) {
        var command = new ArrayList<>(List.of("/usr/bin/docker", "-H", lab.host(host).dockerHost()));
        command.addAll(List.of(args));
        return run(host, command);
    }

    /** zfs commands reach the one zfs-fuse daemon every lab host shares; run from host 1's namespace. */
    private String zfs(String... args) {
        var command = new ArrayList<>(List.of("zfs"));
        command.addAll(List.of(args));
        return run(1, command);
    }

    private String run(int host, List<String> command) {
        return BenchSupport.run(lab, host, command);
    }

    private void tryRun(int host, List<String> command) {
        BenchSupport.tryRun(lab, host, command);
    }

    private static String row(int sizeMiB, String method, List<Double> outages, double floorMedian, double dockerMedian) {
        return String.format("%-9s %-6s %-5d %-28s %-10s %.2fx%n", sizeMiB + " MiB", method, outages.size(), stats(outages),
                String.format("%.2fx", median(outages) / floorMedian), median(outages) / dockerMedian);
    }

    /**
     * A client that starts a request for the app's page every 5 ms on each host, each on its own virtual thread (so a
     * request that hangs, e.g. while Docker wires a starting container's port, does not delay noticing the next answer),
     * and records when each one answered or failed.
     */
    record Gap(double millis, Poller.Attempt before, Poller.Attempt after) {
        @Override
        public String toString() {
            var format = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(java.time.ZoneId.systemDefault());
            return "no answer from " + format.format(java.time.Instant.ofEpochMilli(before.wallMillis())) + " (n" + before.host() + ") to "
                    + format.format(java.time.Instant.ofEpochMilli(after.wallMillis())) + " (n" + after.host() + ")";
        }
    }

    private final class Poller implements AutoCloseable {
        record Attempt(long nanos, long wallMillis, int host, boolean ok) {
        }

        private static final int MAX_IN_FLIGHT = 200;
        private final int port;
        private final List<Attempt> attempts = new CopyOnWriteArrayList<>();
        private volatile boolean stop;
        private final List<Thread> threads;

        Poller(int port) {
            this.port = port;
            this.threads = List.of(1, 2).stream().map(host -> Thread.ofPlatform().daemon().name("poller-n" + host + "-" + port)
                    .start(() -> run(host))).toList();
        }

        private void run(int host) {
            var inFlight = new java.util.concurrent.Semaphore(MAX_IN_FLIGHT);
            try (var requests = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                while (!stop) {
                    inFlight.acquire();
                    requests.submit(() -> {
                        try {
                            boolean ok = get(lab.host(host).ip());
                            attempts.add(new Attempt(System.nanoTime(), System.currentTimeMillis(), host, ok));
                        } finally {
                            inFlight.release();
                        }
                    });
                    Thread.sleep(5);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private boolean get(String ip) {
            try (var socket = new Socket()) {
                socket.connect(new InetSocketAddress(ip, port), 250);
                socket.setSoTimeout(30_000); // patient, like a real client: a held request is answered late, not lost
                socket.getOutputStream().write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                var head = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                return head.startsWith("HTTP/1.") && head.endsWith(" 200");
            } catch (IOException e) {
                return false;
            }
        }

        boolean answeredOn(int host, long since) {
            return firstAnswer(host, since) > 0;
        }

        long firstAnswer(int host, long since) {
            return attempts.stream().filter(a -> a.ok && a.host == host && a.nanos > since).mapToLong(Attempt::nanos).min().orElse(-1);
        }

        /**
         * The outage a client sees: the longest time without any answer (on either host) between {@code since} (the
         * move's start) and {@code until}, and when it was (wall clock, to read beside the agents' logs).
         */
        Gap outage(long since, long until) {
            return outage(since, until, 0);
        }

        /** The same for a client that uses one host's address only ({@code host} 1 or 2; 0 for either). */
        Gap outage(long since, long until, int host) {
            var answers = attempts.stream().filter(a -> a.ok && a.nanos >= since - 1_000_000_000L && a.nanos <= until
                            && (host == 0 || a.host == host))
                    .sorted(java.util.Comparator.comparingLong(Attempt::nanos)).toList();
            Gap longest = null;
            for (int i = 1; i < answers.size(); i++) {
                var before = answers.get(i - 1);
                var after = answers.get(i);
                var gap = new Gap((after.nanos - before.nanos) / 1e6, before, after);
                if (longest == null || gap.millis() > longest.millis()) {
                    longest = gap;
                }
            }
            if (longest == null) {
                throw new IllegalStateException("fewer than two answers around the move");
            }
            return longest;
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            for (var thread : threads) {
                thread.join();
            }
        }
    }
}
