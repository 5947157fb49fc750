package dev.flocker.volume.zfs;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.volume.SendStream;
import dev.flocker.volume.Snapshot;
import dev.flocker.volume.SnapshotName;
import dev.flocker.volume.Volume;
import dev.flocker.volume.VolumeDriver;
import dev.flocker.volume.VolumeException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZFS volume driver: dataset {@code <root>/<dataset_id>} mounted at {@code <mount root>/<dataset_id>},
 * size limit as {@code refquota}, owner and handoff generation as user properties, so everything the
 * agent needs is re-read from ZFS alone. Works with zfs-fuse (pool v23) and OpenZFS alike: it uses only
 * commands and flags both have ({@code get -Hp}, one property per {@code set}, {@code recv -F}).
 */
public final class ZfsVolumeDriver implements VolumeDriver {
    /** The owner and handoff generation, {@code <node>@<generation>} ({@link Ownership}). */
    public static final String OWNER = "flocker:owner";
    /** The generation of copies written before it joined {@link #OWNER}: read, never written. */
    public static final String GENERATION = "flocker:generation";
    /** Flocker's minimum maximum_size. */
    public static final long MIN_SIZE = 64L << 20;
    /** Anything above this is a typo, not a disk. */
    public static final long MAX_SIZE = 1L << 60;

    private static final Logger LOG = LoggerFactory.getLogger(ZfsVolumeDriver.class);
    private static final String PROPERTIES =
            "used,referenced,refquota,mountpoint,mounted,readonly,guid,createtxg," + OWNER + "," + GENERATION;
    private static final int BUSY_RETRIES = 20;

    private final ZfsConfig config;
    private final ZfsCommand zfs;

    private ZfsVolumeDriver(ZfsConfig config, ZfsCommand zfs) {
        this.config = config;
        this.zfs = zfs;
    }

    /** Opens the driver: the pool must exist or be created on the configured sparse file; the root dataset is created when missing. */
    public static ZfsVolumeDriver open(ZfsConfig config) {
        return open(config, new ZfsCommand());
    }

    public static ZfsVolumeDriver open(ZfsConfig config, ZfsCommand zfs) {
        var driver = new ZfsVolumeDriver(config, zfs);
        ZfsPool.ensure(config, zfs);
        driver.ensureRoot();
        return driver;
    }

    public ZfsConfig config() {
        return config;
    }

    public ZfsCommand commands() {
        return zfs;
    }

    public String datasetName(DatasetId id) {
        return config.root() + "/" + id;
    }

    private String snapshotName(DatasetId id, String snapshot) {
        return datasetName(id) + "@" + SnapshotName.requireValidComponent(snapshot);
    }

    private void ensureRoot() {
        if (config.root().equals(config.pool()) || exists(config.root())) {
            return;
        }
        zfs.zfs("create", "-p", "-o", "mountpoint=none", config.root());
    }

    private boolean exists(String dataset) {
        try {
            zfs.zfs("get", "-H", "-o", "value", "type", dataset);
            return true;
        } catch (ZfsException e) {
            if (e.datasetMissing()) {
                return false;
            }
            throw e;
        }
    }

    static void requireSize(DatasetId id, Long size) {
        if (size != null && (size < MIN_SIZE || size > MAX_SIZE)) {
            throw new IllegalArgumentException("maximum_size " + size + " for dataset " + id
                    + " is invalid: use null (no limit) or a byte count from " + MIN_SIZE + " (64 MiB) to " + MAX_SIZE);
        }
    }

    @Override
    public Volume create(DatasetId id, Long maximumSize, NodeId owner) {
        requireSize(id, maximumSize);
        var name = datasetName(id);
        if (exists(name)) {
            throw new VolumeException("dataset " + id + " already exists as " + name);
        }
        var args = new ArrayList<>(List.of("create", "-o", "mountpoint=" + config.mountRoot().resolve(id.toString())));
        if (maximumSize != null) {
            args.addAll(List.of("-o", "refquota=" + maximumSize));
        }
        args.addAll(List.of("-o", new Ownership(owner, 0).property(), name));
        zfs.zfs(args.toArray(String[]::new));
        LOG.atInfo().addKeyValue("dataset", id).addKeyValue("maximum_size", maximumSize).log("created dataset");
        return require(id);
    }

    @Override
    public Volume resize(DatasetId id, Long maximumSize) {
        requireSize(id, maximumSize);
        var volume = require(id);
        if (maximumSize != null && maximumSize < volume.referencedBytes()) {
            throw new VolumeException("cannot shrink dataset " + id + " to " + maximumSize + " bytes: it holds "
                    + volume.referencedBytes() + " bytes; delete data first or choose at least that size");
        }
        zfs.zfs("set", "refquota=" + (maximumSize == null ? "none" : maximumSize), datasetName(id));
        return require(id);
    }

    @Override
    public void destroy(DatasetId id) {
        var volume = get(id);
        if (volume.isEmpty()) {
            return;
        }
        if (volume.get().mounted()) {
            unmountForDestroy(id);
        }
        retryWhileBusy(() -> zfs.zfs("destroy", "-r", datasetName(id)));
        // zfs-fuse leaves the empty mountpoint directory behind; a removed volume should leave nothing.
        try {
            java.nio.file.Files.deleteIfExists(mountpoint(id));
        } catch (java.io.IOException e) {
            LOG.atDebug().addKeyValue("dataset", id).log("mountpoint directory kept: " + e.getMessage());
        }
        LOG.atInfo().addKeyValue("dataset", id).log("destroyed dataset");
    }

    @Override
    public List<Volume> list() {
        var out = zfs.zfs("get", "-H", "-p", "-r", "-o", "name,property,value", PROPERTIES, config.root());
        return parse(out);
    }

    @Override
    public Optional<Volume> get(DatasetId id) {
        try {
            var out = zfs.zfs("get", "-H", "-p", "-r", "-o", "name,property,value", PROPERTIES, datasetName(id));
            return parse(out).stream().filter(v -> v.id().equals(id)).findFirst();
        } catch (ZfsException e) {
            if (e.datasetMissing()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private Volume require(DatasetId id) {
        return get(id).orElseThrow(() -> new VolumeException("dataset " + id + " does not exist in " + config.root()));
    }

    /** Turns {@code zfs get -Hp -r} output (name, property, value per line) into volumes with their snapshots. */
    private List<Volume> parse(String out) {
        var props = ZfsGetOutput.parse(out);
        var prefix = config.root() + "/";
        var snapshots = ZfsGetOutput.snapshots(props, prefix);
        var volumes = new ArrayList<Volume>();
        for (var entry : props.entrySet()) {
            var name = entry.getKey();
            if (!name.startsWith(prefix) || name.indexOf('@') >= 0) {
                continue;
            }
            var leaf = name.substring(prefix.length());
            if (!DatasetId.isValid(leaf)) {
                continue; // not ours, or a nested dataset such as a partial receive
            }
            var p = entry.getValue();
            var mountpoint = p.getOrDefault("mountpoint", "none");
            var ownership = Ownership.parse(p.get(OWNER), p.get(GENERATION));
            long quota = ZfsGetOutput.number(p.get("refquota"));
            volumes.add(new Volume(DatasetId.of(leaf), ZfsGetOutput.number(p.get("used")), ZfsGetOutput.number(p.get("referenced")),
                    quota == 0 ? null : quota,
                    mountpoint.startsWith("/") ? Path.of(mountpoint) : null,
                    "yes".equals(p.get("mounted")), "on".equals(p.get("readonly")),
                    ownership.owner(), ownership.generation(),
                    snapshots.getOrDefault(name, List.of())));
        }
        return volumes;
    }

    @Override
    public Volume snapshotAndGet(DatasetId id, String name) {
        zfs.zfs("snapshot", snapshotName(id, name));
        var volume = require(id);
        if (volume.latestSnapshot().filter(s -> s.name().equals(name)).isEmpty()) {
            throw new VolumeException("snapshot " + name + " of dataset " + id + " is not its newest after taking it: " + volume.snapshots());
        }
        return volume;
    }

    @Override
    public void setOwner(DatasetId id, NodeId owner, long generation) {
        if (generation < 0) {
            throw new IllegalArgumentException("generation " + generation + " for dataset " + id + " must not be negative");
        }
        zfs.zfs("set", new Ownership(owner, generation).property(), datasetName(id)); // one call: both, atomically
    }

    @Override
    public Volume makeWritable(DatasetId id) {
        var volume = require(id);
        var target = config.mountRoot().resolve(id.toString());
        // Set unless an unmounted copy lists it off already (a prepared one: a transaction group, 30-40 ms, saved on a first
        // move's path); a mounted one's listing says nothing: zfs-fuse shows "off (temporary)" whatever its setting.
        if (volume.mounted() || volume.readOnly()) {
            zfs.zfs("set", "readonly=off", datasetName(id));
        }
        boolean moved = !target.equals(volume.mountpoint());
        if (moved) {
            // A file system whose mountpoint changes from none is mounted there by ZFS itself (zfs-fuse too), read-write
            // now. Whether it was is read from the kernel's mount table (well under a millisecond), not from another zfs
            // listing (15-30 ms on a first move's path); a mount the table does not show yet is found by the mount below.
            zfs.zfs("set", "mountpoint=" + target, datasetName(id));
        }
        boolean mounted = moved ? MountTable.read().mounts(datasetName(id), target) : volume.mounted();
        if (!moved && mounted && volume.readOnly()) {
            // Frozen by a handoff that did not finish (freeze): readonly=off leaves the kernel's read-only mount as it is.
            zfs.mount("-i", "-o", "remount,rw", target.toString());
        } else if (!mounted) {
            try {
                zfs.zfs("mount", datasetName(id)); // a prepared replica (canmount=noauto): readonly=off and this are all it takes
            } catch (ZfsException e) {
                if (!require(id).mounted()) {
                    throw e;
                }
                // mounted meanwhile: the old owner's handoff mounts a prepared copy as it passes ownership
            }
        }
        return new Volume(volume.id(), volume.usedBytes(), volume.referencedBytes(), volume.maximumSize(), target, true, false,
                volume.owner(), volume.generation(), volume.snapshots());
    }

    /**
     * The kernel's read-only remount of the file system ({@code mount -i -o remount,ro}): a few ms and no call to ZFS, where
     * {@code zfs unmount} took 20-60 ms on the handoff's path, and 130-250 ms when the stopped container's mounts were
     * still going away. It fences as well: the kernel refuses it ("busy") while a file is open for writing, through any
     * mount of the file system, and refuses every write after it. zfs-fuse ignores {@code readonly=on} on a mounted file
     * system, but reports this remount as {@code readonly=on} (temporary), which is how discovery sees a frozen copy;
     * OpenZFS does the same. A copy not mounted at its mountpoint (mounted elsewhere by hand) is unmounted instead, as is
     * one whose remount fails for another reason (no {@code mount}, no right to remount).
     */
    @Override
    public void freeze(DatasetId id) {
        var path = mountpoint(id);
        if (!MountTable.read().mounts(datasetName(id), path)) {
            var volume = require(id);
            if (volume.mounted()) {
                unmountRetrying(id); // mounted somewhere else: the old fence
            }
            return;
        }
        Runnable remount = () -> zfs.mount("-i", "-o", "remount,ro", path.toString());
        try {
            try {
                remount.run();
                return;
            } catch (ZfsException e) {
                if (!e.busy()) {
                    throw e;
                }
                // Named once: what the fence waits for (a handoff's outage), for whoever reads the log.
                LOG.atInfo().addKeyValue("dataset", id).log("the copy is busy; files open for writing on it: " + OpenWriters.on(path, 5));
            }
            retryWhileBusy(remount);
        } catch (ZfsException e) {
            if (e.busy()) {
                throw e;
            }
            LOG.atWarn().addKeyValue("dataset", id).log("cannot remount " + path + " read-only (" + e.getMessage() + "); unmounting it instead");
            unmountRetrying(id);
        }
    }

    @Override
    public void prepareMount(DatasetId id) {
        var volume = require(id);
        if (volume.mounted()) {
            return;
        }
        // A former writable copy made a replica here keeps its mountpoint, with canmount=noauto (makeReplica): only readonly
        // is left to change.
        if (volume.mountpoint() == null) {
            // noauto first: a file system given a mountpoint is otherwise mounted at once, read-write in zfs-fuse's eyes.
            zfs.zfs("set", "canmount=noauto", datasetName(id));
            zfs.zfs("set", "mountpoint=" + config.mountRoot().resolve(id.toString()), datasetName(id));
        }
        // Nothing mounts it but an explicit mount (noauto), which happens only once it records this host as owner; so the
        // handoff's outage need not change this property too. (A first move's copy arrives with it off already.)
        if (volume.readOnly()) {
            zfs.zfs("set", "readonly=off", datasetName(id));
        }
    }

    @Override
    public Volume makeReplica(DatasetId id) {
        var volume = require(id);
        if (volume.mounted()) {
            unmountRetrying(id);
        }
        if (volume.mountpoint() != null) {
            // The mountpoint stays, and only an explicit mount mounts it (noauto): when the dataset comes back here,
            // preparing its mount is one call (readonly=off), done before its old owner's final increment arrives.
            zfs.zfs("set", "canmount=noauto", datasetName(id));
        }
        zfs.zfs("set", "readonly=on", datasetName(id));
        return require(id);
    }

    /** How long a deleted dataset's unmount may take before it is forced: a plain one takes well under a second. */
    static final long DESTROY_UNMOUNT_SECONDS = 20;

    /**
     * Unmounts a dataset about to be destroyed, waiting while it is busy (an unmount that failed but left it unmounted, by
     * someone else, is fine). zfs-fuse has been seen to hang such an unmount for good (a dataset created
     * and deleted half a second later, on two pools of one daemon at once: every retry hung again, 90 s each, in CI); one
     * that has not ended after {@link #DESTROY_UNMOUNT_SECONDS} is given up and the unmount forced ({@code zfs unmount -f}:
     * the kernel aborts the file system's requests its daemon has not answered). Forcing loses nothing that is kept: the
     * dataset is being destroyed.
     */
    private void unmountForDestroy(DatasetId id) {
        try {
            retryWhileBusy(() -> zfs.zfsWithin(DESTROY_UNMOUNT_SECONDS, "unmount", datasetName(id)));
        } catch (ZfsException e) {
            if (!e.timedOut()) {
                if (require(id).mounted()) {
                    throw e;
                }
                return; // unmounted by someone else meanwhile
            }
            if (!require(id).mounted()) {
                return; // it ended as it was killed
            }
            LOG.atWarn().addKeyValue("dataset", id).log("unmount of a deleted dataset did not end in " + DESTROY_UNMOUNT_SECONDS
                    + " s; forcing it");
            zfs.zfs("unmount", "-f", datasetName(id));
        }
    }

    private void unmountRetrying(DatasetId id) {
        retryWhileBusy(() -> zfs.zfs("unmount", datasetName(id)));
    }

    /**
     * How long to wait after the {@code attempt}th "busy": 10, 20, 40, 80 ms, then 100 ms times the attempt. The busy
     * moment after a container's stop is usually over in a few ms, and a handoff's unmount is outage: a first wait of
     * 100 ms, as before, made one unmount in twenty take 130-250 ms instead of 20-60. Patience overall stays ~18 s.
     */
    static long busyWaitMillis(int attempt) {
        return attempt <= 4 ? 10L << (attempt - 1) : 100L * attempt;
    }

    /**
     * zfs-fuse reports a dataset "busy" for a moment after its last writer closed (and a pool, after its datasets' last
     * user: the tests' {@code TestPool}); retry briefly.
     */
    static void retryWhileBusy(Runnable action) {
        for (int attempt = 1; ; attempt++) {
            try {
                action.run();
                return;
            } catch (ZfsException e) {
                if (!e.busy() || attempt >= BUSY_RETRIES) {
                    throw e;
                }
                try {
                    Thread.sleep(busyWaitMillis(attempt));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    @Override
    public String setAside(DatasetId id, String label) {
        if (!label.matches("^[a-z0-9-]{1,40}$")) {
            throw new IllegalArgumentException("set-aside label '" + label + "' must be lowercase letters, digits and -");
        }
        makeReplica(id);
        var time = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(java.time.Instant.now());
        var name = datasetName(id) + "." + label + "-" + time;
        // Its state is a snapshot first: no increment of the new line can then be received into it (a receive needs its
        // base to be the newest snapshot, and rolls back only to the newest), whatever name it is sent to. zfs-fuse once
        // received the new primary's increment, sent to the old name just after the rename, into the copy set aside:
        // `zfs recv -F` rolled it back to the line's last common snapshot and the writes it was kept for were gone
        // (FailoverLabTest, in CI).
        zfs.zfs("snapshot", datasetName(id) + "@" + label + "-" + time);
        retryWhileBusy(() -> zfs.zfs("rename", datasetName(id), name));
        return name;
    }

    @Override
    public List<String> setAside() {
        var prefix = config.root() + "/";
        return zfs.zfs("list", "-H", "-o", "name", "-r", config.root()).lines()
                .filter(n -> n.startsWith(prefix) && n.indexOf('@') < 0 && n.indexOf('/', prefix.length()) < 0)
                .filter(n -> {
                    var leaf = n.substring(prefix.length());
                    int dot = leaf.indexOf('.');
                    return dot > 0 && DatasetId.isValid(leaf.substring(0, dot));
                }).sorted(java.util.Comparator.comparing(n -> n.substring(n.lastIndexOf('-') + 1))).toList();
    }

    @Override
    public List<String> pruneSnapshots(DatasetId id, Set<String> keep, int keepNewest) {
        if (keepNewest < 1) {
            throw new IllegalArgumentException("keepNewest " + keepNewest + " must be at least 1: the newest snapshot is the base of the next send");
        }
        var ours = require(id).snapshots().stream().filter(s -> SnapshotName.isOurs(s.name()))
                .sorted(Comparator.comparingLong(Snapshot::createTxg)).toList();
        var destroyed = new ArrayList<String>();
        var protectedNames = new HashSet<>(keep);
        for (int i = 0; i < ours.size() - keepNewest; i++) {
            var snapshot = ours.get(i);
            if (!protectedNames.contains(snapshot.name())) {
                try {
                    zfs.zfs("destroy", snapshotName(id, snapshot.name()));
                    destroyed.add(snapshot.name());
                } catch (ZfsException e) {
                    if (!e.datasetMissing()) {
                        throw e;
                    }
                    // pruned meanwhile by another pass (the planner's and a handoff's tail may both prune): gone is what was wanted
                }
            }
        }
        return destroyed;
    }

    @Override
    public SendStream send(DatasetId id, Optional<Snapshot> base, Snapshot snapshot) {
        var args = new ArrayList<String>();
        args.add("send");
        base.ifPresent(b -> args.addAll(List.of("-i", snapshotName(id, b.name()))));
        args.add(snapshotName(id, snapshot.name()));
        long expected = base.isPresent() ? -1 : referenced(snapshotName(id, snapshot.name()));
        return new ProcessSendStream(zfs.start(args.toArray(String[]::new)), String.join(" ", args), expected);
    }

    private long referenced(String snapshot) {
        try {
            return Long.parseLong(zfs.zfs("get", "-H", "-p", "-o", "value", "referenced", snapshot).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void receive(DatasetId id, InputStream stream) {
        boolean existed = exists(datasetName(id));
        zfs.zfsWithInput(stream, "recv", "-F", "-u", datasetName(id)); // never mounts: no mount lock for the stream's length
        if (!existed) {
            makeReplica(id);
        }
    }

    @Override
    public Path mountpoint(DatasetId id) {
        return config.mountRoot().resolve(id.toString());
    }
}
