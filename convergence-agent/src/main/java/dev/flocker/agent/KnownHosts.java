package dev.flocker.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Pinned SSH host keys of the other hosts, from a known_hosts file ("address keytype base64" per line). */
final class KnownHosts {
    private final Path file;

    KnownHosts(Path file) {
        this.file = file;
    }

    /** The pinned key for {@code host}, read afresh (hosts join the cluster while the agent runs). */
    String keyFor(String host) {
        try {
            for (var line : Files.readAllLines(file)) {
                var fields = line.strip().split("\\s+");
                if (fields.length >= 3 && !fields[0].startsWith("#") && java.util.Arrays.asList(fields[0].split(",")).contains(host)) {
                    return fields[1] + " " + fields[2];
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("ssh.known_hosts " + file + " cannot be read: " + e.getMessage(), e);
        }
        throw new IllegalStateException("no pinned SSH host key for " + host + " in " + file
                + "; add a line '" + host + " ssh-ed25519 AAAA...' with that host's key");
    }
}
