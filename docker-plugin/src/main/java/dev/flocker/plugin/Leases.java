package dev.flocker.plugin;

import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases that keep a volume on this host while containers here mount it: taken by Mount (waiting a while for
 * another host's to end), given back at the last Unmount, renewed every third of their duration while mounted (so
 * they lapse when this host dies), and given back for mounts no live container accounts for (what a dockerd that
 * died with its containers leaves: it never unmounts them).
 */
final class Leases implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Leases.class);

    private final FlockerClient api;
    private final NodeId self;
    private final VolumePlugin.Settings settings;
    private final Mounts mounts;
    private final VolumeLocks locks;
    private final Supplier<Set<String>> inUse;
    private final Function<NodeId, String> describe;
    private final ScheduledExecutorService renewer;
    /** Volumes with mounts that no running container used at the last check. */
    private final Set<String> unaccounted = ConcurrentHashMap.newKeySet();

    /**
     * @param inUse    the names of this driver's volumes that live containers on this host use (null: not checked)
     * @param describe a node as an operator reads it in messages
     */
    Leases(FlockerClient api, NodeId self, VolumePlugin.Settings settings, Mounts mounts, VolumeLocks locks, Supplier<Set<String>> inUse,
           Function<NodeId, String> describe) {
        this.api = api;
        this.self = self;
        this.settings = settings;
        this.mounts = mounts;
        this.locks = locks;
        this.inUse = inUse;
        this.describe = describe;
        this.renewer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("plugin-leases").daemon().factory());
        long every = Math.max(1000, settings.leaseDuration().toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::renewAll, 0, every, TimeUnit.MILLISECONDS);
    }

    /** Takes the lease for this host, waiting a while for another host to give it back. */
    void acquire(String name, DatasetId dataset, long deadline) {
        long leaseDeadline = Math.min(deadline, System.nanoTime() + settings.leaseWait().toNanos());
        while (true) {
            try {
                api.acquireLease(dataset, self, (double) settings.leaseDuration().toSeconds());
                return;
            } catch (FlockerApiException e) {
                if (e.status() != 409) {
                    throw e;
                }
            }
            if (System.nanoTime() > leaseDeadline) {
                var holder = api.leaseHolder(dataset);
                throw new PluginError("volume " + name + " is in use on " + holder.map(describe).orElse("another host")
                        + "; a Flocker volume is writable on one host at a time, so it can be mounted here once the containers using it"
                        + " there stop (waited " + settings.leaseWait().toSeconds() + " s)");
            }
            PluginError.pause(Math.max(settings.poll().toMillis(), 250));
        }
    }

    void release(String name, DatasetId dataset) {
        if (dataset == null) {
            return;
        }
        try {
            api.releaseLease(dataset);
        } catch (FlockerApiException e) {
            if (e.status() != 404) {
                LOG.atWarn().addKeyValue("volume", name).log("cannot release the lease (it expires by itself in "
                        + settings.leaseDuration().toSeconds() + " s): " + e.getMessage());
            }
        }
    }

    /**
     * Renews the leases of the volumes mounted here, so they last while the containers run and lapse if this host dies.
     * Each under its volume's lock and only while still mounted: a renewal racing the last Unmount would otherwise take
     * back the lease it just gave up, and keep another host from mounting the volume. A volume busy with a Docker call
     * is left to that call (a Mount takes the lease itself) until the next round, well within the lease's duration.
     */
    private void renewAll() {
        forgetLostMounts();
        for (var name : mounts.all().keySet()) {
            locks.ifFree(name, () -> mounts.dataset(name).ifPresent(dataset -> {
                try {
                    api.acquireLease(dataset, self, (double) settings.leaseDuration().toSeconds());
                } catch (RuntimeException e) {
                    LOG.atWarn().addKeyValue("volume", name).log("cannot renew the lease of a mounted volume: " + e.getMessage());
                }
            }));
        }
    }

    /**
     * Forgets the mounts of a volume that no live container on this host has used at two checks in a row, and
     * gives its lease back: what dockerd leaves when it dies with containers running.
     */
    private void forgetLostMounts() {
        if (inUse == null) {
            return;
        }
        var held = mounts.all();
        if (held.isEmpty()) {
            unaccounted.clear();
            return;
        }
        Set<String> used;
        try {
            used = inUse.get();
        } catch (RuntimeException e) {
            LOG.atDebug().log("cannot ask dockerd which volumes are in use: " + e.getMessage());
            return; // dockerd down or restarting: ask again next time
        }
        for (var entry : held.entrySet()) {
            var name = entry.getKey();
            if (used.contains(name) || mounts.mountedWithin(name, settings.mountGrace())) {
                unaccounted.remove(name);
            } else if (!unaccounted.add(name)) {
                locks.underLock(name, () -> {
                    int forgotten = mounts.clear(name);
                    unaccounted.remove(name);
                    LOG.atWarn().addKeyValue("volume", name).addKeyValue("mounts", forgotten)
                            .log("no running container on this host uses the volume any more, yet dockerd never unmounted it"
                                    + " (it restarted?); forgetting its mounts and giving its lease back");
                    release(name, entry.getValue().datasetId());
                    return Map.of();
                });
            }
        }
    }

    @Override
    public void close() {
        renewer.shutdownNow();
    }
}
