package dev.flocker.agent;

import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The signal that starts the next convergence loop at once: a push from the control service, a background change
 * that ended. Whoever has news signals, naming why; only the loop waits. Signals that arrive during a loop are coalesced
 * into one, and their reasons are what the loop's debug line says woke it (what makes loops run often is then visible).
 */
final class Wakeup {
    private final Semaphore permits = new Semaphore(0);
    private final Set<String> reasons = ConcurrentHashMap.newKeySet();

    void signal(String reason) {
        reasons.add(reason);
        permits.release();
    }

    /** Waits for a signal at most {@code millis}; then forgets every signal so far, and returns their reasons (none: the time ran out). */
    Set<String> await(long millis) throws InterruptedException {
        permits.tryAcquire(millis, TimeUnit.MILLISECONDS);
        return drain();
    }

    /** Forgets the signals so far (a loop that starts without waiting); their reasons. */
    Set<String> drain() {
        permits.drainPermits();
        var taken = new TreeSet<String>();
        for (var reason : reasons) {
            if (reasons.remove(reason)) {
                taken.add(reason);
            }
        }
        return taken;
    }
}
