package dev.flocker.volume.zfs;

import dev.flocker.volume.VolumeException;
import java.io.IOException;
import java.nio.file.Files;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The pool a driver keeps its datasets in: checked at start-up, and created on a sparse file where configured. */
final class ZfsPool {
    private static final Logger LOG = LoggerFactory.getLogger(ZfsPool.class);

    private ZfsPool() {
    }

    /** The configured pool exists and is usable: made on its sparse file when it does not exist and one is configured. */
    static void ensure(ZfsConfig config, ZfsCommand zfs) {
        var pool = config.pool();
        var health = health(zfs, pool);
        if (health != null) {
            // A pool whose devices are gone (e.g. its file was removed while zfs-fuse was down) is still listed, as
            // FAULTED or UNAVAIL, but none of its datasets can be opened: say so instead of failing every loop later.
            if (!health.equals("ONLINE") && !health.equals("DEGRADED")) {
                throw new VolumeException("ZFS pool '" + pool + "' is " + health + " (see 'zpool status " + pool
                        + "'); repair or re-create it before starting");
            }
            return;
        }
        if (config.poolFile() == null) {
            throw new VolumeException("ZFS pool '" + pool + "' does not exist (pools here: " + existing(zfs)
                    + "); create it, or configure a pool file so the driver creates one");
        }
        try {
            Files.createDirectories(config.poolFile().getParent());
            if (!Files.exists(config.poolFile())) {
                try (var file = new java.io.RandomAccessFile(config.poolFile().toFile(), "rw")) {
                    file.setLength(config.poolFileSize());
                }
            }
        } catch (IOException e) {
            throw new VolumeException("cannot create pool file " + config.poolFile() + ": " + e.getMessage(), e);
        }
        LOG.atInfo().addKeyValue("pool", pool).addKeyValue("file", config.poolFile()).log("creating ZFS pool on sparse file");
        zfs.zpool("create", "-f", "-m", "none", pool, config.poolFile().toString());
        zfs.zfs("set", "atime=off", pool);
    }

    /** The pool's health (ONLINE, DEGRADED, FAULTED...), or null when there is no such pool. */
    private static String health(ZfsCommand zfs, String pool) {
        try {
            return zfs.zpool("list", "-H", "-o", "health", pool).strip();
        } catch (ZfsException e) {
            return null;
        }
    }

    private static String existing(ZfsCommand zfs) {
        try {
            var pools = zfs.zpool("list", "-H", "-o", "name").strip();
            return pools.isEmpty() ? "none" : String.join(", ", pools.split("\n"));
        } catch (ZfsException e) {
            return "unknown: " + e.stderr();
        }
    }
}
