package dev.flocker.proxy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's share of the routing proxy: once an application answers on this host, its external port's new
 * connections are forwarded by netfilter (a DNAT rule to the container's address) instead of being copied through the
 * proxy, so in steady state a proxied connection costs what a direct one does. The proxy's listener stays bound
 * underneath: removing a port's rule sends the next connection to it, which holds it (a handoff) or carries it.
 *
 * <p>The rules live in chains of their own, named after a tag ({@code FLOCKER-<tag>}, {@code -SNAT}, {@code -FWD}),
 * jumped to first from nat PREROUTING and OUTPUT, nat POSTROUTING and filter FORWARD. {@link #apply} rewrites all of
 * them in one {@code iptables-restore --noflush} transaction, which the kernel commits atomically: a port never has a
 * moment without either its rule or its listener. Unlike the proxy's own copies, the application sees each client's
 * real address (for pg_hba.conf, logs); only clients on the container's own link (another container on its bridge,
 * reaching it at the host's address as links do) are masqueraded, since its answers to them would bypass the rule.
 * Forwarded connections are accepted in FORWARD whatever policy dockerd set there. Existing connections keep their
 * conntrack entry when a rule goes: they end when their container stops, as the proxy's own do.
 */
public final class KernelForwarding implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelForwarding.class);
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9]{1,12}");
    private static final long COMMAND_SECONDS = 20;

    private final String nat;
    private final String snat;
    private final String forward;
    private final String address; // the host's, whose external ports the rules forward
    private Applied applied = Applied.NONE; // guarded by this; null when unknown
    private final Map<InetAddress, Optional<String>> links = new java.util.HashMap<>(); // guarded by this
    private boolean closed;

    private KernelForwarding(String tag, Inet4Address bind) {
        this.address = bind.getHostAddress();
        this.nat = "FLOCKER-" + tag;
        this.snat = nat + "-SNAT";
        this.forward = nat + "-FWD";
    }

    /**
     * Sets up this tag's chains if iptables can be used here (root, iptables and the nat table present); otherwise logs
     * why and returns empty: the proxy then carries every connection itself. Rules a previous process with this tag left
     * (one that stopped, or crashed) stay until the first {@link #apply}: until this process's listeners are bound,
     * they keep forwarding to where the applications ran, so restarting an agent refuses no connection to them.
     */
    public static Optional<KernelForwarding> open(String tag, InetAddress bind) {
        if (!TAG.matcher(tag).matches()) {
            throw new IllegalArgumentException("kernel forwarding tag must be 1-12 letters or digits, not '" + tag + "'");
        }
        if (!(bind instanceof Inet4Address v4)) {
            LOG.atWarn().log("kernel forwarding covers IPv4 only; " + bind.getHostAddress() + " is routed by the proxy alone");
            return Optional.empty();
        }
        var kernel = new KernelForwarding(tag, v4);
        try {
            requireForwarding(IP_FORWARD);
            kernel.adoptChains();
            return Optional.of(kernel);
        } catch (IOException e) {
            LOG.atWarn().log("kernel forwarding is off, the proxy carries every connection itself: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** {table, chain} of each of this tag's chains. */
    private String[][] chains() {
        return new String[][] {{"nat", nat}, {"nat", snat}, {"filter", forward}};
    }

    /** {table, hook, chain} of each jump to this tag's chains. */
    private String[][] jumps() {
        return new String[][] {{"nat", "PREROUTING", nat}, {"nat", "OUTPUT", nat}, {"nat", "POSTROUTING", snat}, {"filter", "FORWARD", forward}};
    }

    static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

    /**
     * A DNAT'd connection to a container is routed through this host: with IPv4 forwarding off (dockerd turns it on),
     * its packets would vanish where the proxy's own copies work, so kernel forwarding is not used then.
     */
    static void requireForwarding(Path setting) throws IOException {
        String value;
        try {
            value = Files.readString(setting).strip();
        } catch (IOException e) {
            throw new IOException("cannot read " + setting + ": " + e.getMessage(), e);
        }
        if (!value.equals("1")) {
            throw new IOException(setting + " is " + value + ", so this host does not forward IPv4 to containers (sysctl net.ipv4.ip_forward=1)");
        }
    }

    /** Makes this tag's chains exist, each jumped to exactly once, first in its hook; keeps the rules in them. */
    private void adoptChains() throws IOException {
        iptables("-t", "nat", "-S", "OUTPUT"); // fails with why when iptables cannot be used here
        for (var chain : chains()) {
            if (!tryIptables("-t", chain[0], "-S", chain[1])) {
                iptables("-t", chain[0], "-N", chain[1]);
            }
        }
        for (var jump : jumps()) {
            var rule = "-A " + jump[1] + " -j " + jump[2];
            var rules = iptables("-t", jump[0], "-S", jump[1]).lines().filter(line -> !line.startsWith("-P")).toList();
            if (!rules.isEmpty() && rules.get(0).equals(rule) && rules.stream().filter(rule::equals).count() == 1) {
                continue;
            }
            deleteJump(jump);
            iptables("-t", jump[0], "-I", jump[1], "1", "-j", jump[2]);
        }
        long left = iptables("-t", "nat", "-S", nat).lines().filter(line -> line.contains(" DNAT ")).count();
        if (left > 0) {
            LOG.atInfo().log(left + " kernel forwarding rule(s) left by a previous agent forward until this one's listeners are up");
        }
        applied = null; // unknown: the first apply writes whatever it is given
    }

    /** Deletes every copy of one {table, hook, chain} jump, wherever it is in its hook. */
    private static void deleteJump(String[] jump) {
        for (int i = 0; i < 100 && tryIptables("-t", jump[0], "-D", jump[1], "-j", jump[2]); i++) {
            // the next copy
        }
    }

    /** The chain holding the DNAT rules (for tests and operators). */
    public String chain() {
        return nat;
    }

    /**
     * Makes the kernel forward exactly these external ports of the host's address to their targets, in one atomic
     * transaction; nothing is run when they are what is applied already.
     */
    public synchronized void apply(Map<Integer, InetSocketAddress> routes) throws IOException {
        apply(routes, Map.of(), Set.of());
    }

    /**
     * As {@link #apply(Map)}, and also forwards the ports in {@code remote} to another host (whose own routing takes them
     * on), the way kube-proxy's iptables mode does: DNAT to that host, and SNAT to this host's address so that the answers
     * come back the same way. Connections from {@code peers} (other hosts of the cluster) are never sent on to a remote
     * target (routes must not loop while hosts' views differ): they reach the proxy's listener, which delivers or holds
     * them. One transaction, as for local targets.
     */
    public synchronized void apply(Map<Integer, InetSocketAddress> routes, Map<Integer, InetSocketAddress> remote, Set<InetAddress> peers)
            throws IOException {
        var wanted = new Applied(Map.copyOf(routes), Map.copyOf(remote), remote.isEmpty() ? Set.of() : Set.copyOf(peers));
        if (closed || wanted.equals(applied)) {
            return;
        }
        var natRules = new ArrayList<String>(List.of("*nat", ":" + nat + " - [0:0]", ":" + snat + " - [0:0]"));
        var filterRules = new ArrayList<String>(List.of("*filter", ":" + forward + " - [0:0]"));
        routes.forEach((port, target) -> {
            var original = forwardRules(port, target, natRules, filterRules);
            var link = links.computeIfAbsent(target.getAddress(), KernelForwarding::linkOf);
            link.ifPresent(subnet -> natRules.add("-A " + snat + " -s " + subnet + " " + original + " -j MASQUERADE"));
        });
        // After every local rule (a peer's connection is delivered to a local application), before any remote one.
        wanted.peers().stream().map(InetAddress::getHostAddress).sorted()
                .forEach(peer -> natRules.add("-A " + nat + " -s " + peer + "/32 -d " + address + "/32 -j RETURN"));
        remote.forEach((port, target) -> {
            var original = forwardRules(port, target, natRules, filterRules);
            natRules.add("-A " + snat + " " + original + " -j SNAT --to-source " + address);
        });
        natRules.add("COMMIT");
        filterRules.add("COMMIT");
        natRules.addAll(filterRules);
        natRules.add("");
        try {
            restore(String.join("\n", natRules));
            applied = wanted;
        } catch (IOException e) {
            // Never leave a rule that may point at a container about to stop: without rules the proxy carries all.
            applied = null;
            try {
                restore(String.join("\n", "*nat", ":" + nat + " - [0:0]", ":" + snat + " - [0:0]", "COMMIT", ""));
                applied = Applied.NONE;
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * Adds the DNAT of this host's {@code port} to {@code target} and the FORWARD acceptance of what it forwards; returns
     * the match of those forwarded connections, for their source NAT.
     */
    private String forwardRules(int port, InetSocketAddress target, List<String> natRules, List<String> filterRules) {
        var to = target.getAddress().getHostAddress() + ":" + target.getPort();
        var original = "-p tcp -m conntrack --ctstate DNAT --ctorigdst " + address + " --ctorigdstport " + port;
        natRules.add("-A " + nat + " -d " + address + "/32 -p tcp -m tcp --dport " + port + " -j DNAT --to-destination " + to);
        filterRules.add("-A " + forward + " " + original + " -j ACCEPT");
        return original;
    }

    /** What the rules forward: local targets, remote ones, and the peers kept from the remote ones. */
    private record Applied(Map<Integer, InetSocketAddress> local, Map<Integer, InetSocketAddress> remote, Set<InetAddress> peers) {
        static final Applied NONE = new Applied(Map.of(), Map.of(), Set.of());
    }

    /** The ports the kernel forwards now, with their targets (this host's containers, and other hosts). */
    public synchronized Map<Integer, InetSocketAddress> applied() {
        if (applied == null) {
            return Map.of();
        }
        var all = new java.util.TreeMap<>(applied.local());
        all.putAll(applied.remote());
        return all;
    }

    private static final Pattern SUBNET = Pattern.compile("^([0-9.]+/[0-9]+) ");

    /**
     * The subnet of the link a target sits on (e.g. 172.17.0.0/16 on docker0), whose clients must be masqueraded; none
     * for this host's own addresses. If it cannot be told, 0.0.0.0/0: every client is masqueraded, which always works.
     */
    private static Optional<String> linkOf(InetAddress target) {
        try {
            var routes = output("ip", "-o", "-4", "route", "show", "table", "all", "match", target.getHostAddress(), "scope", "link");
            var subnets = routes.lines().map(SUBNET::matcher).filter(java.util.regex.Matcher::find).map(m -> m.group(1))
                    .filter(subnet -> !subnet.endsWith("/0")).toList();
            if (subnets.isEmpty()) {
                var local = output("ip", "-o", "-4", "route", "get", target.getHostAddress());
                return local.startsWith("local ") ? Optional.empty() : Optional.of("0.0.0.0/0");
            }
            // the most specific one is the link the target sits on
            return subnets.stream().max(java.util.Comparator.comparingInt(subnet -> Integer.parseInt(subnet.substring(subnet.indexOf('/') + 1))));
        } catch (IOException e) {
            LOG.atWarn().log("cannot tell which link " + target.getHostAddress() + " is on, masquerading all its clients: " + e.getMessage());
            return Optional.of("0.0.0.0/0");
        }
    }

    private void restore(String rules) throws IOException {
        run(rules, "iptables-restore", "--noflush", "-w", "5");
    }

    /** Removes this tag's jumps and chains. */
    private void removeChains() throws IOException {
        iptables("-t", "nat", "-S", "OUTPUT"); // fails with why when iptables cannot be used here any more
        for (var jump : jumps()) {
            deleteJump(jump);
        }
        for (var chain : chains()) {
            if (tryIptables("-t", chain[0], "-F", chain[1])) {
                iptables("-t", chain[0], "-X", chain[1]);
            }
        }
    }

    /** Runs iptables, waiting up to 5 s for the xtables lock (dockerd changes rules too); its output. */
    private static String iptables(String... args) throws IOException {
        var command = new String[args.length + 3];
        command[0] = "iptables";
        command[1] = "-w";
        command[2] = "5";
        System.arraycopy(args, 0, command, 3, args.length);
        return output(command);
    }

    private static boolean tryIptables(String... args) {
        try {
            iptables(args);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String output(String... command) throws IOException {
        return run(null, command);
    }

    private static String run(String input, String... command) throws IOException {
        return HostCommand.output(input, COMMAND_SECONDS, "is the iptables package installed?", List.of(command));
    }

    /**
     * Stops managing the rules but leaves them forwarding, for a process that stops and will be back (the next
     * {@link #open} with this tag takes them over).
     */
    public synchronized void detach() {
        closed = true;
    }

    /** Removes the rules and chains: the proxy's listeners (if still open) take every new connection. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            removeChains();
        } catch (IOException e) {
            LOG.atWarn().log("cannot remove kernel forwarding chains " + nat + ": " + e.getMessage());
        }
    }
}
