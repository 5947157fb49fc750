package dev.flocker.volume.zfs;

import java.util.regex.Pattern;

/** Validation of the names this driver puts on zfs command lines: pools and the root dataset under them. */
public final class ZfsNames {
    private static final Pattern POOL = Pattern.compile("^[A-Za-z][A-Za-z0-9_.:-]{0,63}$");
    private static final Pattern DATASET = Pattern.compile("^[A-Za-z][A-Za-z0-9_.:-]{0,63}(/[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}){0,8}$");

    private ZfsNames() {
    }

    public static String requirePool(String pool) {
        if (pool == null || !POOL.matcher(pool).matches() || pool.startsWith("mirror") || pool.startsWith("raidz")
                || pool.equals("spare") || pool.equals("log")) {
            throw new IllegalArgumentException("pool name '" + pool
                    + "' is invalid: start with a letter, then letters, digits, _ . : - (at most 64); not a vdev keyword");
        }
        return pool;
    }

    /** A dataset path such as {@code tank} or {@code tank/flocker}, under which datasets are created. */
    public static String requireRoot(String root) {
        if (root == null || !DATASET.matcher(root).matches()) {
            throw new IllegalArgumentException("root dataset '" + root
                    + "' is invalid: a pool name optionally followed by /child segments of letters, digits, _ . : -");
        }
        requirePool(poolOf(root));
        return root;
    }

    public static String poolOf(String root) {
        int slash = root.indexOf('/');
        return slash < 0 ? root : root.substring(0, slash);
    }
}
