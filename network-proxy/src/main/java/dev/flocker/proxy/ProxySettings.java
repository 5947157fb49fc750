package dev.flocker.proxy;

import java.time.Duration;

/**
 * Limits of the routing proxy.
 *
 * @param maxHoldTime    how long a connection may wait for its application (held during a handoff, or retried while a
 *                       local application starts) before it is closed with a log line saying why
 * @param maxHeld        how many connections one port may hold at once; more are closed at once, with a log line
 * @param connectTimeout for connections to a target
 * @param idleTimeout    a connection the proxy carries with no bytes either way for this long is closed (idle and
 *                       slowloris clients)
 * @param kernelForwarding whether an agent lets the kernel forward the ports of applications running on its host once
 *                       they answer ({@link KernelForwarding}); if iptables cannot be used there, it logs why and the
 *                       proxy carries everything
 */
public record ProxySettings(Duration maxHoldTime, int maxHeld, Duration connectTimeout, Duration idleTimeout, boolean kernelForwarding) {
    public static final ProxySettings DEFAULTS = new ProxySettings(Duration.ofSeconds(30), 1000, Duration.ofSeconds(2), Duration.ofMinutes(10));

    public ProxySettings(Duration maxHoldTime, int maxHeld, Duration connectTimeout, Duration idleTimeout) {
        this(maxHoldTime, maxHeld, connectTimeout, idleTimeout, true);
    }

    public ProxySettings {
        positive(maxHoldTime, "maxHoldTime");
        positive(connectTimeout, "connectTimeout");
        positive(idleTimeout, "idleTimeout");
        if (maxHeld < 1) {
            throw new IllegalArgumentException("maxHeld must be at least 1, not " + maxHeld);
        }
    }

    private static void positive(Duration value, String name) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, not " + value);
        }
    }
}
