package dev.flocker.volume.zfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which processes hold a file open for writing on a file system, from {@code /proc}: what a "busy" read-only remount or
 * unmount waits for, named in the log. Files are matched by device, so a container's processes are found too, whatever
 * their mount namespace calls the path. Best effort: processes that end or are not readable meanwhile are skipped.
 */
final class OpenWriters {
    private static final Path PROC = Path.of("/proc");
    private static final int O_ACCMODE = 3;

    private OpenWriters() {
    }

    /** "pid (command) path" for each file open for writing on the file system mounted at {@code mountpoint}; at most {@code limit}. */
    static List<String> on(Path mountpoint, int limit) {
        var found = new ArrayList<String>();
        Object device;
        try {
            device = Files.getAttribute(mountpoint, "unix:dev");
        } catch (IOException | RuntimeException e) {
            return found;
        }
        try (var processes = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (var process : processes) {
                try (var fds = Files.newDirectoryStream(process.resolve("fd"))) {
                    for (var fd : fds) {
                        if (found.size() >= limit) {
                            return found;
                        }
                        if (device.equals(Files.getAttribute(fd, "unix:dev")) && writing(process, fd)) {
                            found.add(process.getFileName() + " (" + Files.readString(process.resolve("comm")).strip() + ") "
                                    + Files.readSymbolicLink(fd));
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    // ended meanwhile, or not ours to read
                }
            }
        } catch (IOException e) {
            return found;
        }
        return found;
    }

    /** Whether the descriptor was opened for writing ({@code flags:} in fdinfo, octal). */
    private static boolean writing(Path process, Path fd) throws IOException {
        for (var line : Files.readAllLines(process.resolve("fdinfo").resolve(fd.getFileName()))) {
            if (line.startsWith("flags:")) {
                int flags = Integer.parseInt(line.substring("flags:".length()).strip(), 8);
                return (flags & O_ACCMODE) != 0;
            }
        }
        return false;
    }
}
