package dev.flocker.volume.zfs;

import dev.flocker.volume.VolumeException;
import java.util.List;

/** A zfs or zpool command failed: which command, its exit code and what it printed on stderr. */
public final class ZfsException extends VolumeException {
    private final int exitCode;
    private final String stderr;

    public ZfsException(List<String> command, int exitCode, String stderr) {
        super("'" + String.join(" ", command) + "' failed (exit " + exitCode + "): " + stderr);
        this.exitCode = exitCode;
        this.stderr = stderr;
    }

    public int exitCode() {
        return exitCode;
    }

    public String stderr() {
        return stderr;
    }

    public boolean datasetMissing() {
        return stderr.contains("dataset does not exist");
    }

    public boolean busy() {
        return stderr.contains("busy");
    }

    /** The command did not end within its time limit and was killed ({@link ZfsCommand}). */
    public boolean timedOut() {
        return exitCode == -1 && stderr.startsWith(ZfsCommand.TIMED_OUT);
    }
}
