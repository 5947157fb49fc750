package dev.flocker.plugin;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/** One lock per volume name: Docker's calls about one volume (and the plugin's own clean-up) run one at a time. */
final class VolumeLocks {
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    <T> T underLock(String name, Supplier<T> call) {
        var lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
        lock.lock();
        try {
            return call.get();
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code call} unless a call about {@code name} runs now (then nothing); whether it ran. */
    boolean ifFree(String name, Runnable call) {
        var lock = locks.computeIfAbsent(name, n -> new ReentrantLock());
        if (!lock.tryLock()) {
            return false;
        }
        try {
            call.run();
            return true;
        } finally {
            lock.unlock();
        }
    }
}
