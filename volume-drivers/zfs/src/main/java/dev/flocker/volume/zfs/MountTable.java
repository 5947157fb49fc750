package dev.flocker.volume.zfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * This process's mounts, from {@code /proc/self/mountinfo}: which file system is mounted where. Reading it is a file read,
 * not a call to ZFS (zfs-fuse serves one call at a time, for every pool on the machine). The agent's start-up check of
 * its mount namespace reads it too.
 *
 * @param lines the lines of a {@code /proc/<pid>/mountinfo}
 */
public record MountTable(List<String> lines) {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    public static MountTable read() {
        try {
            return new MountTable(Files.readAllLines(MOUNTINFO));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MOUNTINFO, e);
        }
    }

    /** Every mount point (the fifth field, with its octal escapes undone). */
    public Set<String> mountPoints() {
        var points = new HashSet<String>();
        for (var line : lines) {
            var fields = line.split(" ");
            if (fields.length > 4) {
                points.add(unescape(fields[4]));
            }
        }
        return points;
    }

    /** Whether {@code source} (a dataset's full name) is mounted at {@code path}, as ZFS mounts it (type zfs or fuse.zfs). */
    boolean mounts(String source, Path path) {
        var where = path.toString();
        for (var line : lines) {
            // <id> <parent> <major:minor> <root> <mount point> <options> [optional fields...] - <type> <source> <super options>
            var fields = line.split(" ");
            int separator = List.of(fields).indexOf("-");
            if (fields.length < 5 || separator < 0 || separator + 2 >= fields.length) {
                continue;
            }
            var type = fields[separator + 1];
            if ((type.equals("zfs") || type.equals("fuse.zfs")) && unescape(fields[4]).equals(where)
                    && unescape(fields[separator + 2]).equals(source)) {
                return true;
            }
        }
        return false;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes ({@code \040}). */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        var out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
