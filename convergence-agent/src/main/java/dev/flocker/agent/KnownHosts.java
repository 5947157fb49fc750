package dev.flocker.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * Pinned SSH host keys of the other hosts, from a known_hosts file ("address keytype base64" per line). Hosts join the
 * cluster while the agent runs, so the file is read again whenever it changed (its modification time, size or file
 * key), not on every push and pass.
 */
final class KnownHosts {
    private final Path file;
    private Object readVersion;
    private List<String> lines = List.of();

    KnownHosts(Path file) {
        this.file = file;
    }

    /** The pinned key for {@code host}, from the file as it is now. */
    String keyFor(String host) {
        for (var line : lines()) {
            var fields = line.strip().split("\\s+");
            if (fields.length >= 3 && !fields[0].startsWith("#") && java.util.Arrays.asList(fields[0].split(",")).contains(host)) {
                return fields[1] + " " + fields[2];
            }
        }
        throw new IllegalStateException("no pinned SSH host key for " + host + " in " + file
                + "; add a line '" + host + " ssh-ed25519 AAAA...' with that host's key");
    }

    private synchronized List<String> lines() {
        try {
            var attributes = Files.readAttributes(file, BasicFileAttributes.class);
            var version = List.of(attributes.lastModifiedTime(), attributes.size(), String.valueOf(attributes.fileKey()));
            if (!version.equals(readVersion)) {
                lines = Files.readAllLines(file);
                readVersion = version;
            }
            return lines;
        } catch (IOException e) {
            throw new IllegalStateException("ssh.known_hosts " + file + " cannot be read: " + e.getMessage(), e);
        }
    }
}
