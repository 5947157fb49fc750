package dev.flocker.volume.zfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real zfs-fuse pool on a sparse file for one test class, named after it so a crashed run's leftover
 * is found and removed at the next start, and nothing else is ever touched.
 */
public final class TestPool implements AutoCloseable {
    private static final Path BASE = Path.of("/var/tmp/flocker-test");
    private final String name;
    private final Path dir;
    private final ZfsCommand zfs = new ZfsCommand();

    private TestPool(String name) {
        this.name = ZfsNames.requirePool(name);
        this.dir = BASE.resolve(name);
    }

    /** A fresh, empty pool {@code name}: any leftover of the same name is destroyed first. */
    public static TestPool create(String name, long size) {
        var pool = new TestPool(name);
        pool.close();
        try {
            Files.createDirectories(pool.dir);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        var config = pool.config(size);
        ZfsVolumeDriver.open(config).list();
        return pool;
    }

    public String name() {
        return name;
    }

    public Path mountRoot() {
        return dir.resolve("mnt");
    }

    public ZfsConfig config(long size) {
        return new ZfsConfig(name, mountRoot(), dir.resolve("pool.img"), size);
    }

    public ZfsVolumeDriver driver() {
        return ZfsVolumeDriver.open(ZfsConfig.existingPool(name, mountRoot()));
    }

    @Override
    public void close() {
        try {
            zfs.zpool("list", "-H", "-o", "name", name);
            // Again while zfs-fuse calls the pool busy, as it does for a moment after a test's last command on one of its
            // datasets ended (a send's reader, a mount just made: "pool is busy" once in CI), as for a dataset's unmount.
            ZfsVolumeDriver.retryWhileBusy(() -> zfs.zpool("destroy", "-f", name));
        } catch (ZfsException e) {
            if (!e.stderr().contains("no such pool")) {
                throw e;
            }
        }
        if (Files.exists(dir)) {
            try {
                dev.flocker.lab.FileTrees.delete(dir);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
