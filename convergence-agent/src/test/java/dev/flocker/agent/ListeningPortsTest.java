package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Which ports something listens on at the host's address: the kernel's socket tables, parsed and read for real. */
class ListeningPortsTest {
    static final String TCP = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0B00000A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
               1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
               2: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1
               3: 0B00000A:1F91 0C00000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 4 1
               4: 0C00000A:1F92 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1
            """;
    static final String TCP6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue
               0: 00000000000000000000000000000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000
               1: 0000000000000000FFFF00000B00000A:1F94 00000000000000000000000000000000:0000 0A 00000000:00000000
               2: 00000000000000000000000001000000:1F95 00000000000000000000000000000000:0000 0A 00000000:00000000
            """;

    @Test
    void listenersOnTheHostsAddressOrEveryAddressCountOthersDoNot() {
        var host = ListeningPorts.ipv4("10.0.0.11");
        assertThat(ListeningPorts.parse(TCP, host)).as("22 on the address, 8080 on all; not loopback, a connection, another address")
                .containsExactly(22, 8080);
        assertThat(ListeningPorts.parse(TCP6, host)).as("8083 on all, 8084 on the address mapped to IPv6; not ::1").containsExactly(8083, 8084);
    }

    @Test
    void readsThisNamespacesRealSocketTables() throws Exception {
        var loopback = ListeningPorts.ipv4("127.0.0.1");
        try (var onAddress = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
             var onAll = new ServerSocket();
             var elsewhere = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.2"))) {
            onAll.bind(new InetSocketAddress(0));
            var ports = ListeningPorts.at(loopback);
            assertThat(ports).contains(onAddress.getLocalPort(), onAll.getLocalPort()).doesNotContain(elsewhere.getLocalPort());
        }
    }
    /** A report carries the last reading: the first is read at once, later ones in the background once it is old enough. */
    @Test
    void busyPortsAreReadAtOnceThenRefreshedInTheBackgroundAndOurOwnAreLeftOut() throws Exception {
        var loopback = ListeningPorts.ipv4("127.0.0.1");
        try (var first = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
             var ours = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
            var fresh = new StateReport.BusyPorts(loopback, () -> java.util.Set.of(ours.getLocalPort()), java.time.Duration.ZERO);
            var cached = new StateReport.BusyPorts(loopback, () -> java.util.Set.of(ours.getLocalPort()), java.time.Duration.ofHours(1));
            assertThat(fresh.latest()).contains(first.getLocalPort()).doesNotContain(ours.getLocalPort());
            assertThat(cached.latest()).contains(first.getLocalPort());
            try (var later = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
                assertThat(cached.latest()).as("not read again within the hour").doesNotContain(later.getLocalPort());
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                while (!fresh.latest().contains(later.getLocalPort())) {
                    assertThat(System.nanoTime()).as("read again in the background").isLessThan(deadline);
                    Thread.sleep(10);
                }
            }
        }
    }
}
