package dev.flocker.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.lab.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * Every {@link RoutingProxyTest} again with the kernel forwarding answering local applications (real iptables rules in
 * this namespace, in chains of a tag of this test's own), and what is particular to it: who carries which connection,
 * the rule going before a handoff holds, and the chains' lifecycle.
 */
class KernelForwardingTest extends RoutingProxyTest {
    private String tag;

    @Override
    KernelForwarding kernel() {
        tag = "t" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        var kernel = KernelForwarding.open(tag, LOOPBACK).orElseThrow(() -> new AssertionError("iptables cannot be used here (root?)"));
        closing.add(kernel);
        return kernel;
    }

    /** The rules of one chain, or of the whole table when chain is null. */
    static String iptables(String table, String chain) throws IOException, InterruptedException {
        var command = new java.util.ArrayList<>(java.util.List.of("iptables", "-w", "5", "-t", table, "-S"));
        if (chain != null) {
            command.add(chain);
        }
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }

    static String allRules() throws IOException, InterruptedException {
        return iptables("nat", null) + iptables("filter", null);
    }

    @Test
    void onceTheApplicationAnsweredTheKernelCarriesNewConnections() throws Exception {
        var app = new LineServer("app", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", app.port())));
        assertThat(proxy.kernelForwards(port)).as("not before the application answered").isFalse();
        try (var first = connect(port)) {
            assertThat(ask(first, "first")).isEqualTo("app:first");
        }
        assertThat(proxy.kernelForwards(port)).isTrue();
        assertThat(iptables("nat", "FLOCKER-" + tag)).contains("--dport " + port + " -j DNAT --to-destination 127.0.0.1:" + app.port());
        for (int i = 0; i < 20; i++) {
            try (var client = connect(port)) {
                assertThat(ask(client, "k" + i)).isEqualTo("app:k" + i);
            }
        }
        assertThat(proxy.stats(port).orElseThrow().accepted()).as("the proxy saw only the first").isEqualTo(1);
        assertThat(app.firstLines).hasSize(21);
    }

    @Test
    void aHandoffTakesTheRuleAwayBeforeTheRouteCallReturnsSoNewConnectionsAreHeld() throws Exception {
        var old = new LineServer("old", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", old.port())));
        try (var first = connect(port); var carried = connect(port)) {
            assertThat(ask(first, "first")).isEqualTo("old:first");
            assertThat(proxy.kernelForwards(port)).isTrue();
            proxy.route(port, Route.hold("handoff"));
            assertThat(proxy.kernelForwards(port)).isFalse();
            assertThat(iptables("nat", "FLOCKER-" + tag)).doesNotContain("--dport " + port);
            try (var held = connect(port)) {
                held.getOutputStream().write("during\n".getBytes(StandardCharsets.UTF_8));
                Thread.sleep(200);
                assertThat(proxy.stats(port).orElseThrow().heldNow()).isEqualTo(1);
                assertThat(ask(carried, "still")).as("a connection made before the handoff goes on to the old place").isEqualTo("old:still");
                var moved = new LineServer("new", FreePorts.next());
                proxy.update(Map.of(port, Route.local("127.0.0.1", moved.port())));
                assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(held.getInputStream(), StandardCharsets.UTF_8)).readLine())
                        .isEqualTo("new:during");
                assertThat(proxy.kernelForwards(port)).as("the new place answered the released connection").isTrue();
                assertThat(iptables("nat", "FLOCKER-" + tag)).contains("--to-destination 127.0.0.1:" + moved.port());
            }
        }
    }

    /**
     * The rule goes before the hold: connections made while the rule is being taken away reach the proxy, which still
     * carries them to the old place, so a client is answered until the hold itself is set.
     */
    @Test
    void connectionsMadeWhileAHoldTakesTheRuleAwayAreCarriedToTheOldPlaceNotHeld() throws Exception {
        carriedWhileTheRuleGoes((proxy, port) -> proxy.route(port, Route.hold("handoff")));
    }

    /** The same for a hold that comes with the agent loop's whole route table (the loop that plans a handoff routes it too). */
    @Test
    void theSameForAHoldInAnUpdateOfTheWholeTable() throws Exception {
        carriedWhileTheRuleGoes((proxy, port) -> proxy.update(Map.of(port, Route.hold("handoff"))));
    }

    /**
     * A client connects over and over while {@code hold} takes the rule away: some connection must land after the rule is
     * gone and before the hold is set, and be carried by the proxy to the old place. That window is the iptables call's
     * last milliseconds, so a busy machine can let one attempt pass without a connection in it; the scenario is tried
     * again (at most 5 times, each on its own port and proxy). Holding first, the kernel would answer every connection until
     * the rule went and the proxy would hold the rest: no attempt would ever see one carried.
     */
    private void carriedWhileTheRuleGoes(java.util.function.ObjIntConsumer<RoutingProxy> hold) throws Exception {
        var attempts = new java.util.ArrayList<String>();
        for (int attempt = 1; attempt <= 5; attempt++) {
            var outcome = attemptWhileTheRuleGoes(hold);
            if (outcome.carried() > 0 && outcome.answeredByOld() > 0) {
                return;
            }
            attempts.add(outcome.toString());
        }
        throw new AssertionError("no connection made during the rule change was carried by the proxy to the old place in 5 attempts: "
                + attempts);
    }

    private record RuleChange(long carried, int answeredByOld) {
    }

    private RuleChange attemptWhileTheRuleGoes(java.util.function.ObjIntConsumer<RoutingProxy> hold) throws Exception {
        var old = new LineServer("old", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", old.port())));
        try (var first = connect(port)) {
            assertThat(ask(first, "first")).isEqualTo("old:first");
        }
        assertThat(proxy.kernelForwards(port)).isTrue();
        long forwardedBefore = proxy.stats(port).orElseThrow().forwarded();
        var holding = new java.util.concurrent.atomic.AtomicBoolean();
        var answeredByOld = new java.util.concurrent.atomic.AtomicInteger();
        var client = Thread.ofPlatform().start(() -> {
            while (!holding.get()) {
                try (var socket = connect(port)) {
                    socket.setSoTimeout(100);
                    if (ask(socket, "x").equals("old:x")) {
                        answeredByOld.incrementAndGet();
                    }
                } catch (IOException heldOrRefused) {
                    return; // held (no answer within 100 ms): the hold is set
                }
            }
        });
        Thread.sleep(20);
        hold.accept(proxy, port);
        holding.set(true);
        client.join(5_000);
        assertThat(proxy.kernelForwards(port)).isFalse();
        return new RuleChange(proxy.stats(port).orElseThrow().forwarded() - forwardedBefore, answeredByOld.get());
    }

    /** A port of {@code proxy} routed to an application here ("here"), which answered a first connection through it. */
    private int answeredHere(RoutingProxy proxy) throws Exception {
        var here = new LineServer("here", FreePorts.next());
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", here.port())));
        try (var client = connect(port)) {
            assertThat(ask(client, "a")).isEqualTo("here:a");
        }
        return port;
    }

    @Test
    void aRemoteRouteIsForwardedByTheKernelAtOnceButNotForPeersWhoseConnectionsTheProxyTakes() throws Exception {
        var there = new LineServer("there", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = answeredHere(proxy);
        proxy.update(Map.of(port, Route.remote("127.0.0.1", there.port())));
        assertThat(proxy.kernelForwards(port)).as("another host's application: forwarded by the kernel at once").isTrue();
        var rules = iptables("nat", null);
        assertThat(rules).contains("--dport " + port + " -j DNAT --to-destination 127.0.0.1:" + there.port())
                .contains("--ctorigdstport " + port + " -j SNAT --to-source 127.0.0.1");
        long accepted = proxy.stats(port).orElseThrow().accepted();
        for (int i = 0; i < 10; i++) {
            try (var client = connect(port)) {
                assertThat(ask(client, "b" + i)).isEqualTo("there:b" + i);
            }
        }
        assertThat(proxy.stats(port).orElseThrow().accepted()).as("the kernel carried them").isEqualTo(accepted);

        // A connection from another host of the cluster is never sent on by the kernel: the proxy takes it (and decides).
        proxy.peers(java.util.Set.of(LOOPBACK));
        assertThat(iptables("nat", "FLOCKER-" + tag)).as("applied by the next update").doesNotContain("RETURN");
        proxy.update(Map.of(port, Route.remote("127.0.0.1", there.port())));
        assertThat(iptables("nat", "FLOCKER-" + tag)).contains("-s 127.0.0.1/32 -d 127.0.0.1/32 -j RETURN");
        try (var client = connect(port)) {
            assertThat(ask(client, "c")).isEqualTo("there:c");
        }
        assertThat(proxy.stats(port).orElseThrow().accepted()).as("the proxy saw the peer's connection").isEqualTo(accepted + 1);

        proxy.route(port, Route.hold("handoff"));
        assertThat(proxy.kernelForwards(port)).isFalse();
        proxy.update(Map.of());
        assertThat(iptables("nat", "FLOCKER-" + tag)).doesNotContain("DNAT");
    }

    /**
     * A handoff's forward to the new host ({@link RoutingProxy#route}, after its hold took the rule away) is carried by the
     * proxy at once, to the new place, and forwarded by the kernel only a moment later: the rule's change stays out of
     * the new owner's start of the application.
     */
    @Test
    void aHandoffsForwardToAnotherHostIsCarriedByTheProxyThenByTheKernel() throws Exception {
        var there = new LineServer("there", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = answeredHere(proxy);
        assertThat(proxy.kernelForwards(port)).isTrue();
        proxy.route(port, Route.hold("handoff"));
        try (var held = connect(port)) {
            held.getOutputStream().write("held\n".getBytes(StandardCharsets.UTF_8));
            long switched = System.nanoTime();
            proxy.route(port, Route.remote("127.0.0.1", there.port()));
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(held.getInputStream(), StandardCharsets.UTF_8)).readLine())
                    .isEqualTo("there:held");
            assertThat(proxy.kernelForwards(port)).as("not at once").isFalse();
            long accepted = proxy.stats(port).orElseThrow().accepted();
            try (var client = connect(port)) {
                assertThat(ask(client, "b")).as("carried by the proxy to the new place meanwhile").isEqualTo("there:b");
            }
            assertThat(proxy.stats(port).orElseThrow().accepted()).isEqualTo(accepted + 1);
            assertThat((System.nanoTime() - switched) / 1_000_000).as("the checks above ran before the kernel's turn")
                    .isLessThan(RoutingProxy.KERNEL_LATER_MILLIS);
        }
        long deadline = System.nanoTime() + (RoutingProxy.KERNEL_LATER_MILLIS + 5_000) * 1_000_000;
        while (!proxy.kernelForwards(port) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(proxy.kernelForwards(port)).as("forwarded by the kernel once the moment passed").isTrue();
        assertThat(iptables("nat", "FLOCKER-" + tag)).contains("--dport " + port + " -j DNAT --to-destination 127.0.0.1:" + there.port());
        long accepted = proxy.stats(port).orElseThrow().accepted();
        try (var client = connect(port)) {
            assertThat(ask(client, "c")).isEqualTo("there:c");
        }
        assertThat(proxy.stats(port).orElseThrow().accepted()).as("the kernel carried it").isEqualTo(accepted);
    }

    /**
     * With the kernel forwarding a remote route, a connection to a host whose port is closed is refused by that host
     * itself, at once (as a direct connection would be), instead of being accepted and closed by the proxy.
     */
    @Override
    @Test
    void aDeadTargetHostFailsConnectionsFastAndTheListenerStaysUp() throws Exception {
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.remote("127.0.0.1", FreePorts.next())));
        long start = System.nanoTime();
        try (var client = new java.net.Socket()) {
            client.connect(new InetSocketAddress(LOOPBACK, port), 2000);
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        } catch (java.net.ConnectException refused) {
            // the dead target's refusal, passed on by the kernel
        }
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1000);
        var app = new LineServer("back", FreePorts.next());
        proxy.update(Map.of(port, Route.remote("127.0.0.1", app.port())));
        try (var client = connect(port)) {
            assertThat(ask(client, "up")).isEqualTo("back:up");
        }
    }

    @Test
    void anAgentThatStopsLeavesTheKernelForwardingAndTheNextTakesOverWithoutARefusal() throws Exception {
        var app = new LineServer("app", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        var routes = Map.<Integer, Route>of(port, Route.local("127.0.0.1", app.port()));
        proxy.update(routes);
        try (var client = connect(port)) {
            assertThat(ask(client, "before")).isEqualTo("app:before");
        }
        proxy.closeLeavingKernelRules();
        try (var client = connect(port)) {
            assertThat(ask(client, "between")).as("no listener, the kernel's rule").isEqualTo("app:between");
        }
        // The next agent (same tag) keeps the rule until its listener is bound, then starts over from it.
        var next = new RoutingProxy(LOOPBACK, FAST, address -> false, KernelForwarding.open(tag, LOOPBACK).orElseThrow());
        closing.add(next);
        try (var client = connect(port)) {
            assertThat(ask(client, "starting")).isEqualTo("app:starting");
        }
        assertThat(allRules().lines().filter(l -> l.contains("-j FLOCKER-" + tag)).count()).as("one jump per hook").isEqualTo(4);
        next.update(routes);
        assertThat(next.kernelForwards(port)).isFalse();
        try (var client = connect(port)) {
            assertThat(ask(client, "after")).isEqualTo("app:after");
        }
        assertThat(next.stats(port).orElseThrow().accepted()).as("the new listener took it").isEqualTo(1);
        assertThat(next.kernelForwards(port)).isTrue();
    }

    @Test
    void aHostThatDoesNotForwardIpv4IsRefusedWithTheSettingToChange(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var setting = dir.resolve("ip_forward");
        java.nio.file.Files.writeString(setting, "0\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KernelForwarding.requireForwarding(setting))
                .hasMessageContaining("is 0").hasMessageContaining("net.ipv4.ip_forward=1");
        java.nio.file.Files.writeString(setting, "1\n");
        KernelForwarding.requireForwarding(setting);
        KernelForwarding.requireForwarding(KernelForwarding.IP_FORWARD); // this host forwards: every test here relies on it
    }

    @Test
    void closingRemovesTheChainsAndTheirJumps() throws Exception {
        var app = new LineServer("app", FreePorts.next());
        var proxy = proxy(FAST, false);
        int port = FreePorts.next();
        proxy.update(Map.of(port, Route.local("127.0.0.1", app.port())));
        try (var client = connect(port)) {
            ask(client, "x");
        }
        assertThat(allRules()).contains("FLOCKER-" + tag);
        proxy.close();
        assertThat(allRules()).doesNotContain("FLOCKER-" + tag);
        try (var client = connect(port)) {
            throw new AssertionError("a connection reached " + client.getRemoteSocketAddress() + " after the proxy and its rules went");
        } catch (java.net.ConnectException refused) {
            // expected: no rule takes it to the application any more, and no listener is there
        }
    }
}
