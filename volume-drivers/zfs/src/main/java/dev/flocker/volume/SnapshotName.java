package dev.flocker.volume;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Names of the snapshots this project takes: {@code fl-20261122T000259.123456Z}, a UTC time to the
 * microsecond, strictly increasing within a process, so names sort by creation.
 */
public final class SnapshotName {
    private static final Pattern OURS = Pattern.compile("^fl-\\d{8}T\\d{6}\\.\\d{6}Z$");
    private static final Pattern COMPONENT = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$");
    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    private static final AtomicLong LAST_MICROS = new AtomicLong();

    private SnapshotName() {
    }

    public static String next() {
        long now = Instant.now().toEpochMilli() * 1000 + (System.nanoTime() / 1000) % 1000;
        long micros = LAST_MICROS.updateAndGet(last -> Math.max(last + 1, now));
        var instant = Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000);
        return "fl-" + FORMAT.format(instant);
    }

    /** When a snapshot of ours was taken (its name says), or null for a name this project did not make. */
    public static Instant time(String name) {
        if (name == null || !isOurs(name)) {
            return null;
        }
        return FORMAT.parse(name.substring(3), Instant::from);
    }

    /** True for names this project made (and so may prune). */
    public static boolean isOurs(String name) {
        return OURS.matcher(name).matches();
    }

    /** A snapshot name as it may appear after '@': no shell, path or ZFS separator characters. */
    public static String requireValidComponent(String name) {
        if (name == null || !COMPONENT.matcher(name).matches()) {
            throw new IllegalArgumentException("snapshot name '" + name
                    + "' is invalid: use letters, digits and _ . : - (at most 200), starting with a letter or digit");
        }
        return name;
    }
}
