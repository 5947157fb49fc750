package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Which requests are in flight on an application's connections: ss's output parsed, and real sockets of this process waited for. */
class InFlightTest {
    static final String SS = """
            ESTAB    0      0      172.17.0.2:8080  10.213.1.1:41000
            \t cubic wscale:7,7 rto:204 rtt:0.1/0.05 bytes_sent:130 bytes_acked:131 bytes_received:28 lastsnd:900 lastrcv:950 lastack:900
            ESTAB    28     0      172.17.0.2:8080  10.213.1.1:41002
            \t cubic wscale:7,7 rto:204 rtt:0.1/0.05 bytes_received:28 lastsnd:12 lastrcv:3 lastack:3
            ESTAB    0      0      172.17.0.2:8080  10.213.1.1:41004
            \t cubic wscale:7,7 rto:204 rtt:0.1/0.05 bytes_sent:130 bytes_acked:131 bytes_received:56 lastsnd:400 lastrcv:20 lastack:20
            ESTAB    0      0      172.17.0.2:8080  10.213.1.1:41006
            \t cubic wscale:7,7 rto:204 rtt:0.1/0.05 lastsnd:236 lastrcv:236 lastack:236
            SYN-RECV 0      0      172.17.0.2:8080  10.213.1.1:41008
            ESTAB    0      0      172.17.0.2:40000 10.213.1.9:5432
            \t cubic wscale:7,7 rto:204 rtt:0.1/0.05 bytes_sent:60 bytes_acked:61 bytes_received:10 lastsnd:5 lastrcv:90 lastack:5
            """;

    @Test
    void aConnectionAwaitsAnAnswerWhenItsClientSpokeLastOrNothingWasSentYet() {
        var sockets = InFlight.parse(SS);
        assertThat(sockets).extracting(InFlight.Socket::peer).containsExactly("10.213.1.1:41000", "10.213.1.1:41002", "10.213.1.1:41004",
                "10.213.1.1:41006", "10.213.1.1:41008", "10.213.1.9:5432");
        assertThat(sockets).extracting(InFlight.Socket::awaitingAnswer).as("answered and idle; request unread; request read, no answer yet;"
                + " connected, nothing said; a handshake; the application's own connection to another server, where it spoke last")
                .containsExactly(false, true, true, true, true, false);
        assertThat(sockets.get(4).localPort()).isEqualTo(8080);
        assertThat(sockets.get(5).localPort()).as("its own connection elsewhere: not one of its ports, filtered by them").isEqualTo(40000);
        assertThat(sockets.get(0).answeredWithin(1000)).as("sent 900 ms ago, the drain began 1000 ms ago").isTrue();
        assertThat(sockets.get(0).answeredWithin(800)).isFalse();
        assertThat(sockets.get(1).answeredWithin(1000)).as("never sent anything").isFalse();
    }

    @Test
    void aConnectionInTheSocketTableCountsOnlyWhenEstablishedOrBeingEstablishedToOneOfThePorts() {
        var table = """
                  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
                   1: 020011AC:1F90 01D50D0A:A028 06 00000000:00000000 00:00000000 00000000     0        0 0 3
                   2: 020011AC:9C40 09D50D0A:1538 01 00000000:00000000 00:00000000 00000000     0        0 4 1
                """;
        assertThat(InFlight.anyConnection(table, List.of(8080))).as("a listener, a connection in TIME_WAIT, another port's").isFalse();
        assertThat(InFlight.anyConnection(table.replace(" 06 ", " 01 "), List.of(8080))).isTrue();
        assertThat(InFlight.anyConnection(table.replace(" 06 ", " 03 "), List.of(8080))).as("SYN_RECV").isTrue();
    }

    @Test
    @Tag("integration") // nsenter into this process's own network namespace: root
    void aDrainWaitsForTheRequestInFlightNotForIdleConnectionsAndNoLongerThanItsBound() throws Exception {
        long self = ProcessHandle.current().pid();
        try (var server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             var idleClient = new Socket(server.getInetAddress(), server.getLocalPort());
             var idle = server.accept()) {
            int port = server.getLocalPort();
            var ports = Map.of("app", List.of(port));
            // A kept-alive connection whose request was answered: idle, not waited for.
            idleClient.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            readSome(idle.getInputStream());
            idle.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            readSome(idleClient.getInputStream());
            Thread.sleep(20);
            var none = InFlight.drain(Map.of("app", self), ports, Duration.ofSeconds(5));
            assertThat(none.awaited()).as("%s", none).isZero();
            assertThat(none.millis()).isLessThan(1000);

            // A request read by the application, its answer 400 ms away: waited for until it is answered.
            try (var client = new Socket(server.getInetAddress(), port); var busy = server.accept()) {
                client.getOutputStream().write("GET /slow HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                readSome(busy.getInputStream());
                var answer = answerIn(busy, 400);
                var drained = InFlight.drain(Map.of("app", self), ports, Duration.ofSeconds(5));
                answer.join();
                assertThat(drained.awaited()).as("%s", drained).isEqualTo(1);
                assertThat(drained.unanswered()).as("%s", drained).isZero();
                assertThat(drained.millis()).as("%s", drained).isBetween(300L, 3000L);
                assertThat(drained.toString()).startsWith("1 request(s) in flight, 1 answered, ");
            }

            // The same with the first read started ahead (as beside a handoff's hold): it reads the sockets of when it is
            // asked, not of when it started (the request is sent after the read was started).
            try (var client = new Socket(server.getInetAddress(), port); var busy = server.accept();
                 var primed = InFlight.Primed.start(self)) {
                Thread.sleep(100);
                client.getOutputStream().write("GET /slow HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                readSome(busy.getInputStream());
                var answer = answerIn(busy, 400);
                var drained = InFlight.drain(Map.of("app", self), ports, Duration.ofSeconds(5), Map.of("app", primed));
                answer.join();
                assertThat(drained.awaited()).as("%s", drained).isEqualTo(1);
                assertThat(drained.unanswered()).as("%s", drained).isZero();
                assertThat(drained.millis()).as("%s", drained).isBetween(300L, 3000L);
            }
            try (var primed = InFlight.Primed.start(self)) {
                var drained = InFlight.drain(Map.of("app", self), ports, Duration.ofSeconds(5), Map.of("app", primed));
                assertThat(drained.awaited()).as("only the idle connection now: %s", drained).isZero();
            }

            // A client that connected and said nothing: waited for, but no longer than the bound.
            try (var silent = new Socket(server.getInetAddress(), port); var accepted = server.accept()) {
                var drained = InFlight.drain(Map.of("app", self), ports, Duration.ofMillis(300));
                assertThat(drained.awaited()).as("%s", drained).isEqualTo(1);
                assertThat(drained.unanswered()).as("%s", drained).isEqualTo(1);
                assertThat(drained.millis()).as("%s", drained).isBetween(300L, 3000L);
                assertThat(drained.toString()).contains("1 not answered in time");
            }
        }
    }

    /** Answers the request read on {@code busy} in {@code millis}, from a thread of its own. */
    private static Thread answerIn(Socket busy, long millis) {
        return Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(millis);
                busy.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static void readSome(InputStream in) throws Exception {
        assertThat(in.read(new byte[4096])).isPositive();
    }
}
