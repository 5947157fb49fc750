package dev.flocker.volume.transfer;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** A transfer running in the background: watch its progress, cancel it, or wait for its result. */
public final class Transfer {
    private final AtomicReference<TransferProgress> progress =
            new AtomicReference<>(new TransferProgress(TransferProgress.Phase.SNAPSHOTTING, 0, -1, 0, Duration.ZERO, null));
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicReference<Runnable> onCancel = new AtomicReference<>(() -> { });
    final CompletableFuture<TransferResult> result = new CompletableFuture<>();
    private volatile boolean routine;
    private final CompletableFuture<Void> snapshotTaken = new CompletableFuture<>();

    private volatile boolean peerHasNoCopy;

    /**
     * The caller found no copy on the peer (a handoff's planner, from the peer's report): the push asks the peer for its
     * snapshots beside its own snapshot, and starts the full receive as soon as they confirm it, instead of both after it.
     * A hint: a push that finds a base all the same sends the increment.
     */
    public Transfer peerHasNoCopy() {
        peerHasNoCopy = true;
        return this;
    }

    boolean expectsNoCopy() {
        return peerHasNoCopy;
    }

    /** A transfer repeated every few seconds (continuous replication): its incremental pushes are logged at debug level only. */
    public Transfer routine() {
        routine = true;
        return this;
    }

    boolean isRoutine() {
        return routine;
    }

    /**
     * Runs {@code action} once the transfer's snapshot is taken and read back, before anything is sent (at once when it is already), on
     * the thread that took it: keep it short. Never run when the snapshot is not taken.
     */
    public void onSnapshotTaken(Runnable action) {
        snapshotTaken.thenRun(action);
    }

    void snapshotTaken() {
        snapshotTaken.complete(null);
    }

    public TransferProgress progress() {
        return progress.get();
    }

    void report(TransferProgress update) {
        progress.set(update);
    }

    /** Stops the transfer; the peer keeps its previous snapshot and the source is untouched. */
    public void cancel() {
        if (cancelled.compareAndSet(false, true)) {
            onCancel.get().run();
        }
    }

    public boolean cancelled() {
        return cancelled.get();
    }

    void onCancel(Runnable action) {
        onCancel.set(action);
        if (cancelled.get()) {
            action.run();
        }
    }

    /** Waits for the transfer and returns its result, or throws what made it fail. */
    public TransferResult await(Duration timeout) {
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new TransferException(e.getCause().toString(), e.getCause());
        } catch (TimeoutException e) {
            throw new TransferException("transfer did not finish within " + timeout + " (progress: " + progress() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException("interrupted while waiting for a transfer");
        }
    }

    public CompletableFuture<TransferResult> future() {
        return result;
    }
}
