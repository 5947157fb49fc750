package dev.flocker.proxy;

import java.net.InetSocketAddress;
import java.util.Objects;

/** Where one external port's connections go now: to a target, or held until the application answers somewhere. */
public sealed interface Route {

    /**
     * Forward to {@code target}. {@code local} targets are this host's containers: a refused connection there means the
     * application is still starting, so it is retried until the connection's hold deadline; a remote target that refuses
     * fails the connection at once (its host is down).
     */
    record Forward(InetSocketAddress target, boolean local) implements Route {
        public Forward {
            Objects.requireNonNull(target, "target");
        }
    }

    /** Accept and hold new connections (e.g. during a handoff), bounded by the proxy's limits. */
    record Hold(String reason) implements Route {
    }

    static Route local(String host, int port) {
        return new Forward(new InetSocketAddress(host, port), true);
    }

    static Route remote(String host, int port) {
        return new Forward(new InetSocketAddress(host, port), false);
    }

    static Route hold(String reason) {
        return new Hold(reason);
    }
}
