package dev.flocker.agent;

import dev.flocker.lab.Lab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenSSH ControlMaster connections between lab hosts 1 and 2, opened once, so a benchmark's floor pays no handshake.
 * With the lab's admin key: the floors run zfs on datasets the cluster key may not touch.
 */
final class SshMasters implements AutoCloseable {
    private final Lab lab;
    private final Path dir;

    SshMasters(Lab lab) throws IOException {
        this.lab = lab;
        dir = Files.createTempDirectory("bench-ssh");
        open(1, 2);
        open(2, 1);
    }

    private List<String> ssh(int from, int to) {
        return List.of("ssh", "-i", lab.adminKey().toString(), "-o", "UserKnownHostsFile=" + lab.knownHosts(),
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-c", "aes128-gcm@openssh.com",
                "-o", "ControlPath=" + dir.resolve("n" + from + "-n" + to), "root@" + lab.host(to).ip());
    }

    private void open(int from, int to) {
        var command = new ArrayList<>(ssh(from, to));
        command.addAll(1, List.of("-o", "ControlMaster=yes", "-o", "ControlPersist=900", "-f", "-N"));
        run(from, command);
    }

    /** Runs {@code send} on host {@code from} piped into {@code recv} on host {@code to}. */
    void pipe(int from, int to, String send, String recv) {
        var ssh = String.join(" ", ssh(from, to));
        run(from, List.of("bash", "-c", "set -o pipefail; " + send + " | " + ssh + " " + recv));
    }

    @Override
    public void close() {
        for (var pair : List.of(new int[] {1, 2}, new int[] {2, 1})) {
            var command = new ArrayList<>(ssh(pair[0], pair[1]));
            command.addAll(1, List.of("-O", "exit"));
            tryRun(pair[0], command);
        }
        // Its control sockets are gone with the masters; the directory goes too (each run made one under /tmp).
        try (var left = Files.list(dir)) {
            for (var file : left.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            System.err.println("cannot remove " + dir + ": " + e.getMessage());
        }
    }

    private String run(int host, List<String> command) {
        return BenchSupport.run(lab, host, command);
    }

    private void tryRun(int host, List<String> command) {
        BenchSupport.tryRun(lab, host, command);
    }
}
