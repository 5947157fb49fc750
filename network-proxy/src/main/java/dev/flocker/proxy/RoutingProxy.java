package dev.flocker.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing proxy of one host: a listener on the host's address for every application's external port, each
 * forwarding to wherever the application runs now, or holding connections while it runs nowhere (a handoff). The
 * agent gives it the whole route table after each loop ({@link #update}) and holds single ports at once when a
 * handoff begins ({@link #route}). A port stays bound while it is in the table: routes change without a moment in
 * which it is unbound or points nowhere.
 *
 * <p>With {@link KernelForwarding}, a port whose application runs on this host and has accepted a connection through
 * the proxy is then forwarded by the kernel (a DNAT rule), at the cost of a direct connection; so is a port whose
 * application runs on another host (DNAT to that host, SNAT back through this one), unless the connection comes from
 * another host. A hold or a new container not answering yet takes the rule away first, in the same call that changes
 * the route, so the proxy's listener sees every new connection it must hold or carry.
 */
public final class RoutingProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoutingProxy.class);

    private final InetAddress bind;
    private final ProxySettings settings;
    private final Predicate<InetAddress> fromPeer;
    private final Map<Integer, PortProxy> ports = new HashMap<>();
    private final Map<Integer, String> errors = new TreeMap<>();
    private final KernelForwarding kernel; // null: the proxy carries every connection
    /** Ports whose local route has answered: the kernel forwards them while the route stays. */
    private final Map<Integer, Route.Forward> answered = new TreeMap<>();
    private java.util.Set<InetAddress> peers = java.util.Set.of();
    /** When {@link #route} last switched each port ({@link System#nanoTime()}). */
    private final Map<Integer, Long> switchedAt = new HashMap<>();

    /**
     * @param bind     the host's address, where clients and other hosts' proxies connect
     * @param fromPeer whether a connection's source is another host of the cluster (its proxy): such connections are
     *                 delivered to a local application or held, never forwarded again, so routes cannot loop
     */
    public RoutingProxy(InetAddress bind, ProxySettings settings, Predicate<InetAddress> fromPeer) {
        this(bind, settings, fromPeer, null);
    }

    /**
     * @param kernel forwards the ports of answering local applications (opened for the same {@code bind}); null to carry
     *               every connection in the proxy
     */
    public RoutingProxy(InetAddress bind, ProxySettings settings, Predicate<InetAddress> fromPeer, KernelForwarding kernel) {
        this.bind = bind;
        this.settings = settings;
        this.fromPeer = fromPeer;
        this.kernel = kernel;
    }

    /**
     * Makes the proxy serve exactly these routes: opens listeners for new ports, switches the routes of open ones and
     * closes the ports no longer listed. Returns the ports that cannot be served, with why (e.g. already in use on this
     * host); they are tried again at the next update.
     */
    public synchronized Map<Integer, String> update(Map<Integer, Route> routes) {
        return update(routes, Long.MAX_VALUE);
    }

    /**
     * The same, for routes computed from what the agent knew at {@code plannedAt} ({@link System#nanoTime()}): a port whose
     * route was switched by {@link #route} after that keeps it, since that switch (a handoff's hold, or its forward to the
     * new owner) is newer than what these routes were planned from. The next update planned after it decides.
     */
    public synchronized Map<Integer, String> update(Map<Integer, Route> routes, long plannedAt) {
        switchedAt.keySet().retainAll(routes.keySet());
        for (var it = ports.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (!routes.containsKey(entry.getKey())) {
                LOG.atInfo().addKeyValue("port", entry.getKey()).log("no application uses this port any more; closing it");
                entry.getValue().close();
                it.remove();
            }
        }
        errors.keySet().retainAll(routes.keySet());
        // Holds first take their ports' rules away, while the proxy still carries new connections (see route).
        boolean unforwarded = false;
        for (var entry : routes.entrySet()) {
            unforwarded |= !newer(entry.getKey(), plannedAt) && unforwardForHold(entry.getKey(), entry.getValue());
        }
        if (unforwarded) {
            syncKernel();
        }
        routes.forEach((port, route) -> {
            var proxy = ports.get(port);
            if (proxy != null) {
                if (!route.equals(proxy.route()) && !newer(port, plannedAt)) {
                    proxy.route(route);
                }
                return;
            }
            try {
                ports.put(port, new PortProxy(bind, port, route, settings, fromPeer, this::answered));
                errors.remove(port);
                LOG.atInfo().addKeyValue("port", port).addKeyValue("address", bind.getHostAddress()).addKeyValue("route", route)
                        .log("routing port");
            } catch (IOException e) {
                var message = "cannot listen on " + bind.getHostAddress() + ":" + port + ": " + e.getMessage()
                        + " (another program on this host uses the port?)";
                if (!message.equals(errors.put(port, message))) {
                    LOG.atWarn().addKeyValue("port", port).log(message);
                }
            }
        });
        syncKernel();
        return Map.copyOf(errors);
    }

    /**
     * For a hold of a port the kernel forwards to its answered local application: forgets that answer, so the next
     * {@link #syncKernel} takes the rule away while the proxy's route still carries new connections there. True when it did.
     */
    private boolean unforwardForHold(int port, Route route) {
        return route instanceof Route.Hold && answered.remove(port) != null;
    }

    /** Whether {@link #route} switched the port after {@code plannedAt}: then its switch is newer than a plan of then. */
    private boolean newer(int port, long plannedAt) {
        var switched = switchedAt.get(port);
        return switched != null && switched - plannedAt > 0;
    }

    /**
     * Switches one open port's route now (e.g. hold at the start of a handoff); ignored for ports not open. A hold of a
     * port the kernel forwards to a local application takes the rule away first, while the proxy still carries new
     * connections to the application: clients are answered during the rule change (an iptables call, 20-50 ms, which
     * was outage when the hold came first), and held from the moment the hold is set.
     */
    public synchronized void route(int port, Route route) {
        var proxy = ports.get(port);
        if (proxy != null) {
            if (unforwardForHold(port, route)) {
                syncKernel();
            }
            proxy.route(route);
            switchedAt.put(port, System.nanoTime());
            if (kernel != null && route instanceof Route.Forward f && !f.local() && !kernel.applied().containsKey(port)) {
                kernelLater();
            } else {
                syncKernel();
            }
        }
    }

    /**
     * How long a port switched to another host by {@link #route} (a handoff's last step, its pass just done) is carried by
     * the proxy before the kernel forwards it. The rule's change (an iptables process, 20-160 ms of a lab host's CPU) then
     * stays out of the new owner's start of the application, which is outage and runs on the same machines in the lab
     * (on others, the same cluster's CPU is not shared, and nothing is lost). The proxy carries the port to the same host
     * meanwhile, so no connection goes elsewhere; the next {@link #update} applies it too.
     */
    static final long KERNEL_LATER_MILLIS = 1000;

    /** Gives the kernel this proxy's routes {@link #KERNEL_LATER_MILLIS} from now. */
    private void kernelLater() {
        Thread.ofVirtual().name("kernel-later").start(() -> {
            try {
                Thread.sleep(KERNEL_LATER_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                syncKernel(); // what the routes are then: a later hold or update may have changed them
            }
        });
    }

    private synchronized void answered(int port, Route.Forward forward) {
        var proxy = ports.get(port);
        if (kernel != null && proxy != null && forward.equals(proxy.route())) {
            answered.put(port, forward);
            syncKernel();
        }
    }

    /**
     * The other hosts of the cluster: their connections are never sent on by the kernel to a third host (see
     * {@link KernelForwarding#apply(Map, Map, java.util.Set)}); the proxy's own rule for them is {@code fromPeer}. Applied
     * by the next {@link #update}: not before, since an agent's first update is what binds the listeners under the rules
     * a previous agent left, and rewriting the rules before that would leave the ports with neither.
     */
    public synchronized void peers(java.util.Set<InetAddress> peers) {
        this.peers = java.util.Set.copyOf(peers);
    }

    /**
     * Gives the kernel the ports whose route still is the local one that answered, and those routed to another host (that
     * host's own routing holds or delivers them, as the proxy's copies would reach it), and nothing else.
     */
    private void syncKernel() {
        if (kernel == null) {
            return;
        }
        answered.entrySet().removeIf(e -> !ports.containsKey(e.getKey()) || !e.getValue().equals(ports.get(e.getKey()).route()));
        var forwarded = new TreeMap<Integer, InetSocketAddress>();
        answered.forEach((port, forward) -> forwarded.put(port, forward.target()));
        var remote = new TreeMap<Integer, InetSocketAddress>();
        ports.forEach((port, proxy) -> {
            if (proxy.route() instanceof Route.Forward f && !f.local()) {
                remote.put(port, f.target());
            }
        });
        var before = kernel.applied();
        try {
            kernel.apply(forwarded, remote, peers);
            forwarded.forEach((port, target) -> {
                if (!target.equals(before.get(port))) {
                    LOG.atInfo().addKeyValue("port", port).addKeyValue("target", target)
                            .log("the application answers; the kernel forwards new connections to it");
                }
            });
            remote.forEach((port, target) -> {
                if (!target.equals(before.get(port))) {
                    LOG.atInfo().addKeyValue("port", port).addKeyValue("target", target)
                            .log("the application runs on another host; the kernel forwards new connections there");
                }
            });
            forwarded.putAll(remote);
            before.keySet().stream().filter(port -> !forwarded.containsKey(port)).forEach(port -> LOG.atInfo().addKeyValue("port", port)
                    .log("the kernel no longer forwards this port; new connections come to the proxy"));
        } catch (java.io.IOException e) {
            LOG.atError().log("kernel forwarding rules could not be changed; the proxy carries every connection: " + e.getMessage());
            answered.clear();
        }
    }

    /** The ports the proxy listens on now. */
    public synchronized java.util.Set<Integer> listening() {
        return java.util.Set.copyOf(ports.keySet());
    }

    /** Whether new connections to this port are forwarded by the kernel now (not through the proxy), to here or elsewhere. */
    public synchronized boolean kernelForwards(int port) {
        return kernel != null && kernel.applied().containsKey(port);
    }

    public synchronized Optional<ProxyStats> stats(int port) {
        return Optional.ofNullable(ports.get(port)).map(PortProxy::stats);
    }

    public synchronized Optional<Route> routeOf(int port) {
        return Optional.ofNullable(ports.get(port)).map(PortProxy::route);
    }

    /** Closes the listeners and every connection the proxy holds or carries, and removes the kernel's rules. */
    @Override
    public synchronized void close() {
        if (kernel != null) {
            kernel.close();
        }
        closePorts();
    }

    /**
     * Closes the listeners and the connections the proxy holds or carries, but leaves the kernel forwarding the ports of
     * answering local applications, for an agent that stops and will be back: their clients see no refusal meanwhile.
     */
    public synchronized void closeLeavingKernelRules() {
        if (kernel != null) {
            kernel.detach();
            if (!kernel.applied().isEmpty()) {
                LOG.atInfo().addKeyValue("ports", kernel.applied().keySet())
                        .log("leaving the kernel forwarding these ports until the agent is back (chain " + kernel.chain() + ")");
            }
        }
        closePorts();
    }

    private void closePorts() {
        ports.values().forEach(PortProxy::close);
        ports.clear();
    }
}
