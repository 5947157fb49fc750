package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.flocker.ca.ClusterCertificates;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The services' launcher ({@code bin/flocker-control}, {@code launch_service_jar} in scripts/lib/common.sh) and the JDK's
 * ahead-of-time cache: a first start trains it and, stopped with SIGTERM, writes it; the next start maps it. Runs the
 * control service's runnable jar, which the reactor has packaged before this module's tests.
 */
class StartupCacheTest {
    @TempDir
    Path dir;

    @Test
    void aServiceStoppedWithSigtermLeavesTheCacheItsNextStartMaps() throws Exception {
        var root = Path.of(System.getProperty("flocker.project.root", "..")).toAbsolutePath().normalize();
        assumeThat(Runtime.version().feature()).as("the launcher's JDK (this test's): AOT caches need 25").isGreaterThanOrEqualTo(25);
        var certificates = ClusterCertificates.in(dir.resolve("certs"), "startup-cache", List.of("127.0.0.1"));
        var cache = dir.resolve("cache");
        var lock = cache.resolve("aot").resolve("control-service.lock");

        var first = start(root, certificates, cache, "first");
        assertThat(flockFree(lock)).as("the training start holds the lock while it runs").isFalse();
        first.destroy(); // SIGTERM
        assertThat(first.waitFor(120, TimeUnit.SECONDS)).as("the training start exits, its cache written").isTrue();
        List<Path> caches;
        try (var files = Files.list(cache.resolve("aot"))) {
            caches = files.filter(f -> f.getFileName().toString().startsWith("control-service-")).toList();
        }
        assertThat(caches).as("one cache, no configuration left over").singleElement()
                .satisfies(f -> assertThat(f.toString()).endsWith(".aot"))
                .satisfies(f -> assertThat(Files.size(f)).isGreaterThan(10L << 20));
        assertThat(Files.readString(dir.resolve("first.log"))).contains("AOTCache creation is complete");
        assertThat(flockFree(lock)).isTrue();

        var second = start(root, certificates, cache, "second");
        try {
            assertThat(Files.readString(Path.of("/proc", Long.toString(second.pid()), "maps"))).as("the next start maps the cache")
                    .contains(caches.get(0).toString());
            assertThat(Files.readString(dir.resolve("second.log"))).doesNotContain("[error").doesNotContain("AOTConfiguration");
        } finally {
            second.destroy();
            second.waitFor(60, TimeUnit.SECONDS);
        }
    }

    /** Starts bin/flocker-control on free loopback ports; returns once it logged that it is ready. */
    private Process start(Path root, ClusterCertificates certificates, Path cache, String name) throws Exception {
        var log = dir.resolve(name + ".log");
        var command = new ArrayList<>(List.of(root.resolve("bin/flocker-control").toString(), "--data-path", dir.resolve(name).toString(),
                "--bind", "127.0.0.1", "--port", port(), "--agent-port", port(), "--cluster-port", port(), "--metrics-port", "off",
                "--certificates-path", certificates.dir().toString()));
        var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("FLOCKER_CACHE", cache.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("FLOCKER_AOT");
        var process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(log) || !Files.readString(log).contains("control service ready")) {
            assertThat(process.isAlive()).as("%s start is alive; its log:%n%s", name, Files.exists(log) ? Files.readString(log) : "").isTrue();
            assertThat(System.nanoTime()).as("%s start ready within 120 s", name).isLessThan(deadline);
            Thread.sleep(100);
        }
        return process;
    }

    private static boolean flockFree(Path lock) throws Exception {
        return new ProcessBuilder("flock", "-n", lock.toString(), "true").start().waitFor() == 0;
    }

    private static String port() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return Integer.toString(socket.getLocalPort());
        }
    }
}
