package dev.flocker.agent;

import dev.flocker.api.model.NodeId;
import dev.flocker.volume.transfer.RemoteZfs;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the convergence loop the moment an old owner's handoff has passed a dataset's ownership to this host: the command
 * that passes it over SSH touches this node's wake file last ({@link RemoteZfs#passOwnership}), and the kernel tells the
 * watch (inotify) at once. Without it the loop would notice at its next look at ZFS (every 50 ms while a handoff to here
 * runs), which is outage. A wake is only a hint: the loop plans from what ZFS shows, as always, and still looks often.
 */
final class HandoffWake implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HandoffWake.class);
    /** The reason the loop is given. */
    static final String REASON = "handoff-wake";

    private final WatchService watch;
    private final Path file;
    private final Thread thread;

    private HandoffWake(WatchService watch, Path file, Wakeup wakeup) {
        this.watch = watch;
        this.file = file;
        this.thread = Thread.ofPlatform().daemon().name("handoff-wake").start(() -> run(file, wakeup));
    }

    /** Watches {@code node}'s wake file (made here, empty); null, with a warning, when it cannot (the loop still looks often). */
    static HandoffWake start(NodeId node, Wakeup wakeup) {
        return start(RemoteZfs.wakeFile(node), wakeup);
    }

    static HandoffWake start(Path file, Wakeup wakeup) {
        try {
            Files.createDirectories(file.getParent());
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            var watch = file.getFileSystem().newWatchService();
            file.getParent().register(watch, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
            return new HandoffWake(watch, file, wakeup);
        } catch (IOException | RuntimeException e) {
            LOG.atWarn().log("cannot watch " + file + " (" + e + "); handoffs to this host are noticed by the loop's own looks");
            return null;
        }
    }

    private void run(Path file, Wakeup wakeup) {
        var name = file.getFileName();
        try {
            while (true) {
                var key = watch.take();
                boolean ours = key.pollEvents().stream().anyMatch(e -> name.equals(e.context()));
                key.reset();
                if (ours) {
                    wakeup.signal(REASON);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    /** Stops watching and removes the wake file (an old owner's {@code touch -c} then does nothing until the next agent). */
    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            // nothing left to watch
        }
        thread.interrupt();
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.atDebug().log("cannot remove " + file + ": " + e.getMessage());
        }
    }
}
