package dev.flocker.volume.zfs;

import java.nio.file.Path;

/**
 * Where the ZFS driver keeps datasets.
 *
 * @param root         dataset under which every dataset lives as {@code <root>/<dataset_id>}: a pool, or a path in one
 * @param mountRoot    writable datasets are mounted at {@code <mountRoot>/<dataset_id>} (Flocker's default: /flocker)
 * @param poolFile     sparse file to create the pool on when it does not exist, or null to require an existing pool
 * @param poolFileSize size of that sparse file in bytes
 */
public record ZfsConfig(String root, Path mountRoot, Path poolFile, long poolFileSize) {
    public static final Path DEFAULT_MOUNT_ROOT = Path.of("/flocker");

    public ZfsConfig {
        ZfsNames.requireRoot(root);
        if (mountRoot == null || !mountRoot.isAbsolute() || !mountRoot.normalize().equals(mountRoot)) {
            throw new IllegalArgumentException("mount root '" + mountRoot + "' must be an absolute, normalised path such as /flocker");
        }
        if (poolFile != null && (!poolFile.isAbsolute() || poolFileSize < 64L << 20)) {
            throw new IllegalArgumentException("pool file '" + poolFile + "' must be an absolute path and its size ("
                    + poolFileSize + " bytes) at least 64 MiB");
        }
    }

    public static ZfsConfig existingPool(String root, Path mountRoot) {
        return new ZfsConfig(root, mountRoot, null, 0);
    }

    public String pool() {
        return ZfsNames.poolOf(root);
    }
}
