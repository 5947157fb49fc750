package dev.flocker.agent;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The signal that starts the next convergence loop at once: a push from the control service, a background change
 * that ended. Whoever has news signals; only the loop waits. Signals that arrive during a loop are coalesced into one.
 */
final class Wakeup {
    private final Semaphore permits = new Semaphore(0);

    void signal() {
        permits.release();
    }

    /** Waits for a signal at most {@code millis}; then forgets every signal so far. */
    void await(long millis) throws InterruptedException {
        permits.tryAcquire(millis, TimeUnit.MILLISECONDS);
        permits.drainPermits();
    }

    /** Forgets the signals so far (a loop that starts without waiting). */
    void drain() {
        permits.drainPermits();
    }
}
