package dev.flocker.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests in flight on an application's connections, read from its network namespace's sockets: the kernel's
 * {@code tcp_info} as {@code ss -ti} shows it (how long ago the socket last received and last sent data, its queues).
 * A connection whose client spoke last (or that carried nothing yet) awaits an answer; one whose application spoke last
 * is idle, a pooled or kept-alive connection between requests. A handoff waits for the first kind to be answered before
 * it stops the application ({@link dev.flocker.agent.plan.Change.DrainConnections}): it holds new connections already,
 * so only those already forwarded to the application are waited for, each until its request in flight is answered.
 */
final class InFlight {
    private static final Logger LOG = LoggerFactory.getLogger(InFlight.class);
    private static final long POLL_MILLIS = 5;
    private static final long COMMAND_SECONDS = 5;

    private InFlight() {
    }

    /** One TCP socket as {@code ss -Htni} shows it. */
    record Socket(String state, long recvQ, long sendQ, String local, String peer, long lastSnd, long lastRcv, long bytesSent) {
        /** Its local port. */
        int localPort() {
            return Integer.parseInt(local.substring(local.lastIndexOf(':') + 1));
        }

        /** Its connection (both ends). */
        String key() {
            return local + " " + peer;
        }

        /**
         * Whether the application owes an answer here: data it has not read or not yet sent out, nothing sent at all (a
         * client that connected speaks first, or a handshake in progress), or the client spoke after its last send.
         */
        boolean awaitingAnswer() {
            return recvQ > 0 || sendQ > 0 || bytesSent == 0 || lastRcv < lastSnd;
        }

        /** Whether it sent data less than {@code millis} ago, all of it taken by the client. */
        boolean answeredWithin(long millis) {
            return sendQ == 0 && bytesSent > 0 && lastSnd < millis;
        }
    }

    private static final Pattern FIELD = Pattern.compile("\\b(lastsnd|lastrcv|bytes_sent):(\\d+)");

    /** Parses {@code ss -Htni state established state syn-recv}: one line per socket, then an indented line of its details. */
    static List<Socket> parse(String output) {
        var sockets = new ArrayList<Socket>();
        String[] head = null;
        for (var line : output.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (!Character.isWhitespace(line.charAt(0))) {
                if (head != null) {
                    sockets.add(socket(head, ""));
                }
                head = line.trim().split("\\s+");
            } else if (head != null) {
                sockets.add(socket(head, line));
                head = null;
            }
        }
        if (head != null) {
            sockets.add(socket(head, ""));
        }
        return sockets;
    }

    private static Socket socket(String[] head, String details) {
        if (head.length < 5) {
            throw new IllegalArgumentException("not a socket line of ss: " + String.join(" ", head));
        }
        var fields = new HashMap<String, Long>();
        var matcher = FIELD.matcher(details);
        while (matcher.find()) {
            fields.put(matcher.group(1), Long.parseLong(matcher.group(2)));
        }
        // Without details (a handshake in progress) nothing was sent: it awaits its first request.
        return new Socket(head[0], Long.parseLong(head[1]), Long.parseLong(head[2]), head[3], head[4], fields.getOrDefault("lastsnd", 0L),
                fields.getOrDefault("lastrcv", 0L), fields.getOrDefault("bytes_sent", 0L));
    }

    /**
     * Whether the network namespace of process {@code pid} has a connection established (or being established) to one of
     * {@code ports}: {@code /proc/<pid>/net/tcp} and {@code tcp6}, read without starting a process, the usual case being none.
     */
    static boolean anyConnection(long pid, Collection<Integer> ports) throws IOException {
        for (var file : List.of("tcp", "tcp6")) {
            var path = Path.of("/proc", Long.toString(pid), "net", file);
            if (!Files.exists(path)) {
                continue;
            }
            if (anyConnection(Files.readString(path, StandardCharsets.US_ASCII), ports)) {
                return true;
            }
        }
        return false;
    }

    /** As above, in the text of one such file. */
    static boolean anyConnection(String table, Collection<Integer> ports) {
        return ListeningPorts.sockets(table).stream()
                .anyMatch(s -> (s.state().equals("01") || s.state().equals("03")) && ports.contains(s.port())); // ESTABLISHED, SYN_RECV
    }

    private static final List<String> SS = List.of("ss", "-Htni", "state", "established", "state", "syn-recv");
    private static final String MISSING = "nsenter is in util-linux, ss in iproute2";

    /** The sockets of process {@code pid}'s network namespace connected to one of {@code ports}. */
    static List<Socket> sockets(long pid, Collection<Integer> ports) throws IOException {
        var command = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid), "-n"));
        command.addAll(SS);
        return connectedTo(dev.flocker.proxy.HostCommand.output(null, COMMAND_SECONDS, MISSING, command), ports);
    }

    private static List<Socket> connectedTo(String output, Collection<Integer> ports) {
        return parse(output).stream().filter(s -> ports.contains(s.localPort())).toList();
    }

    /**
     * A read of one process's network namespace started ahead, beside the handoff's hold: {@code nsenter} and a shell in
     * that namespace wait for a line on their input, then {@code ss} runs. The drain's first read then costs {@code ss}
     * alone (a few ms), not the start of two processes on the outage's path (31-121 ms on a lab host, where the drain
     * almost always found no request in flight). Closing it ends the processes when it was not used.
     */
    static final class Primed implements AutoCloseable {
        private final long pid;
        private final Process process;

        private Primed(long pid, Process process) {
            this.pid = pid;
            this.process = process;
        }

        static Primed start(long pid) throws IOException {
            var script = "read go && exec " + String.join(" ", SS);
            try {
                return new Primed(pid, new ProcessBuilder("nsenter", "-t", Long.toString(pid), "-n", "sh", "-c", script)
                        .redirectErrorStream(true).start());
            } catch (IOException e) {
                throw new IOException("cannot run nsenter (" + MISSING + "): " + e.getMessage(), e);
            }
        }

        long pid() {
            return pid;
        }

        /** Runs the read now: the sockets connected to one of {@code ports}. Once only. */
        List<Socket> sockets(Collection<Integer> ports) throws IOException {
            try {
                try (var in = process.getOutputStream()) {
                    in.write('\n');
                }
                var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (!process.waitFor(COMMAND_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IOException("ss in the network namespace of process " + pid + " did not finish in " + COMMAND_SECONDS + " s");
                }
                if (process.exitValue() != 0) {
                    throw new IOException("ss in the network namespace of process " + pid + " failed (exit " + process.exitValue() + "): " + output);
                }
                return connectedTo(output, ports);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } finally {
                close();
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    /**
     * What a drain found: connections that awaited an answer when it began, those still waiting when it ended, its time,
     * and the time it took to find the applications' processes before it.
     */
    record Drained(int awaited, int unanswered, long millis, long lookupMillis) {
        Drained(int awaited, int unanswered, long millis) {
            this(awaited, unanswered, millis, 0);
        }

        Drained afterLookup(long lookup) {
            return new Drained(awaited, unanswered, millis, lookup);
        }

        @Override
        public String toString() {
            return (awaited == 0 ? "no request in flight" : awaited + " request(s) in flight, " + (awaited - unanswered) + " answered"
                    + (unanswered == 0 ? "" : ", " + unanswered + " not answered in time")) + ", " + millis + " ms";
        }

        /** As {@link #toString()}, with the processes' lookup (for the log). */
        String detail() {
            return this + " (processes found in " + lookupMillis + " ms)";
        }
    }

    /**
     * Waits, at most {@code within}, until every connection to {@code ports} of the processes {@code pids} (by application,
     * one process each) that awaited an answer when it began has been answered or closed. Connections idle then are not
     * waited for, nor requests that arrive on a connection after it was answered. Never fails a handoff: when the sockets
     * cannot be read it says why and returns.
     */
    static Drained drain(Map<String, Long> pids, Map<String, List<Integer>> ports, Duration within) {
        return drain(pids, ports, within, Map.of());
    }

    /**
     * As above, the first read of each application's sockets done by its {@link Primed} read when there is one for the
     * same process (the caller closes them).
     */
    static Drained drain(Map<String, Long> pids, Map<String, List<Integer>> ports, Duration within, Map<String, Primed> primed) {
        long started = System.nanoTime();
        long deadline = started + within.toNanos();
        var pending = new HashMap<String, Set<String>>(); // application -> connections awaiting an answer at the start
        int awaited = 0;
        try {
            for (var entry : pids.entrySet()) {
                var appPorts = ports.getOrDefault(entry.getKey(), List.of());
                var ahead = primed.get(entry.getKey());
                boolean usable = ahead != null && ahead.pid() == entry.getValue();
                if (appPorts.isEmpty() || (!usable && !anyConnection(entry.getValue(), appPorts))) {
                    continue;
                }
                var waiting = new HashSet<String>();
                (usable ? ahead.sockets(appPorts) : sockets(entry.getValue(), appPorts)).stream().filter(Socket::awaitingAnswer)
                        .forEach(s -> waiting.add(s.key()));
                if (!waiting.isEmpty()) {
                    pending.put(entry.getKey(), waiting);
                    awaited += waiting.size();
                }
            }
            while (!pending.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(POLL_MILLIS);
                long elapsed = (System.nanoTime() - started) / 1_000_000;
                for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
                    var entry = it.next();
                    var now = new HashMap<String, Socket>();
                    sockets(pids.get(entry.getKey()), ports.get(entry.getKey())).forEach(s -> now.put(s.key(), s));
                    entry.getValue().removeIf(key -> {
                        var socket = now.get(key);
                        return socket == null || socket.answeredWithin(elapsed) || !socket.awaitingAnswer();
                    });
                    if (entry.getValue().isEmpty()) {
                        it.remove();
                    }
                }
            }
        } catch (IOException e) {
            LOG.atWarn().log("cannot tell which requests are in flight, the applications stop without waiting for them: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.atWarn().setCause(e).log("cannot read the applications' connections, they stop without waiting for their requests in flight");
        }
        int unanswered = pending.values().stream().mapToInt(Set::size).sum();
        return new Drained(awaited, unanswered, (System.nanoTime() - started) / 1_000_000);
    }
}
