package dev.flocker.proxy;

/**
 * Counters of one port's proxy.
 *
 * @param heldNow           connections waiting now
 * @param lastHoldMillis    how long the last holding period lasted (hold to forward again), or -1 if none yet
 * @param lastReleased      how many held connections the last holding period released
 * @param refused           connects to a local application that refused them (not listening yet: starting), tried again
 */
public record ProxyStats(int port, long accepted, long forwarded, long held, int heldNow, long timedOut, long rejected, long failed,
                         long lastHoldMillis, int lastReleased, long refused) {
}
