package dev.flocker.agent;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.HostConfig;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.DockerOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * What a container is made with beyond its image, volumes and ports: the options Docker applies as they are, its
 * health check, and its configs and secrets, written as files on this host and bound read-only into it.
 */
final class ContainerSettings {
    private final Path filesRoot;

    /**
     * @param filesRoot where the files of applications' configs and secrets are written (a directory per application),
     *                  or null when none may be
     */
    ContainerSettings(Path filesRoot) {
        this.filesRoot = filesRoot;
    }

    /**
     * Writes the application's configs and secrets under {@code filesRoot/<application>} (replacing what an earlier
     * container of it left) and returns their read-only binds.
     */
    List<Bind> writeFiles(Application app) {
        if (filesRoot == null) {
            throw new IllegalStateException("this agent has no directory for configs and secrets");
        }
        var dir = filesRoot.resolve(app.name());
        var binds = new ArrayList<Bind>();
        try {
            deleteFiles(app.name());
            java.nio.file.Files.createDirectories(dir);
            int n = 0;
            for (var file : app.docker().files()) {
                var path = dir.resolve(Integer.toString(n++));
                java.nio.file.Files.write(path, file.content());
                int mode = file.mode() == null ? 0444 : file.mode();
                var permissions = new java.util.HashSet<java.nio.file.attribute.PosixFilePermission>();
                var all = java.nio.file.attribute.PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE, bit 8 .. bit 0
                for (int bit = 0; bit < 9; bit++) {
                    if ((mode & (1 << (8 - bit))) != 0) {
                        permissions.add(all[bit]);
                    }
                }
                java.nio.file.Files.setPosixFilePermissions(path, permissions);
                binds.add(new Bind(path.toString(), new com.github.dockerjava.api.model.Volume(file.target()), AccessMode.ro));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("writing the configs and secrets of " + app.name() + " to " + dir, e);
        }
        return binds;
    }

    /** Removes what {@link #writeFiles} wrote for {@code application}, if anything. */
    void deleteFiles(String application) throws java.io.IOException {
        if (filesRoot == null) {
            return;
        }
        var dir = filesRoot.resolve(application);
        if (java.nio.file.Files.isDirectory(dir)) {
            try (var files = java.nio.file.Files.list(dir)) {
                for (var file : files.toList()) {
                    java.nio.file.Files.delete(file);
                }
            }
            java.nio.file.Files.delete(dir);
        }
    }

    /** The options Docker applies as they are (user, working directory, read-only root, tmpfs, ...). */
    static void apply(DockerOptions options, com.github.dockerjava.api.command.CreateContainerCmd create, HostConfig host) {
        if (options.user() != null) {
            create.withUser(options.user());
        }
        if (options.workingDir() != null) {
            create.withWorkingDir(options.workingDir());
        }
        if (options.hostname() != null) {
            create.withHostName(options.hostname());
        }
        if (options.stopSignal() != null) {
            create.withStopSignal(options.stopSignal());
        }
        if (Boolean.TRUE.equals(options.readOnly())) {
            host.withReadonlyRootfs(true);
        }
        if (!options.tmpfs().isEmpty()) {
            var tmpfs = new HashMap<String, String>();
            options.tmpfs().forEach(path -> tmpfs.put(path, ""));
            host.withTmpFs(tmpfs);
        }
        if (options.shmSize() != null) {
            host.withShmSize(options.shmSize());
        }
        if (options.tty() != null) {
            create.withTty(options.tty());
        }
        if (options.stdinOpen() != null) {
            create.withStdinOpen(options.stdinOpen());
        }
        if (!options.dns().isEmpty()) {
            host.withDns(options.dns());
        }
        if (!options.dnsSearch().isEmpty()) {
            host.withDnsSearch(options.dnsSearch());
        }
        if (!options.ulimits().isEmpty()) {
            host.withUlimits(options.ulimits().entrySet().stream()
                    .map(e -> new com.github.dockerjava.api.model.Ulimit(e.getKey(), e.getValue().soft(), e.getValue().hard())).toList());
        }
        if (!options.sysctls().isEmpty()) {
            host.withSysctls(options.sysctls());
        }
        if (!options.extraHosts().isEmpty()) {
            host.withExtraHosts(options.extraHosts().entrySet().stream().map(e -> e.getKey() + ":" + e.getValue()).toArray(String[]::new));
        }
    }

    /** Docker takes the check's durations in nanoseconds. */
    static HealthCheck healthCheck(Application.HealthCheck check) {
        var docker = new HealthCheck().withTest(check.test());
        if (check.intervalMs() != null) {
            docker.withInterval(check.intervalMs() * 1_000_000);
        }
        if (check.timeoutMs() != null) {
            docker.withTimeout(check.timeoutMs() * 1_000_000);
        }
        if (check.startPeriodMs() != null) {
            docker.withStartPeriod(check.startPeriodMs() * 1_000_000);
        }
        if (check.retries() != null) {
            docker.withRetries(check.retries());
        }
        if (check.startIntervalMs() != null) {
            docker.withStartInterval(check.startIntervalMs() * 1_000_000);
        }
        return docker;
    }
}
