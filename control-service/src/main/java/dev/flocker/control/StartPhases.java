package dev.flocker.control;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The steps of one replica's start and how long each took, in the order they ended; printed with the service's "ready" line
 * ({@code start=jvm 2100 ms, tunnels 40 ms, ...}), so an operator (or the restart benchmark) sees where a slow start went.
 * Steps are marked one after the other on the starting thread; a step timed beside them ({@link #timed}) is listed with
 * its own duration where it ended.
 */
final class StartPhases {
    private final List<String> steps = new ArrayList<>();
    private long last = System.nanoTime();

    StartPhases() {
        steps.add("jvm " + ManagementFactory.getRuntimeMXBean().getUptime() + " ms");
    }

    /** Ends the step that began at the last mark (or at this record's creation). */
    synchronized void mark(String step) {
        long now = System.nanoTime();
        steps.add(step + " " + (now - last) / 1_000_000 + " ms");
        last = now;
    }

    /** Runs {@code work} (on any thread) and records how long it took, without moving the marks' clock. */
    <T> T timed(String step, Callable<T> work) throws Exception {
        long start = System.nanoTime();
        try {
            return work.call();
        } finally {
            long took = (System.nanoTime() - start) / 1_000_000;
            synchronized (this) {
                steps.add(step + " " + took + " ms");
            }
        }
    }

    @Override
    public synchronized String toString() {
        return String.join(", ", steps);
    }
}
