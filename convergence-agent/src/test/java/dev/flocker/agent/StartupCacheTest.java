package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.flocker.ca.ClusterCertificates;
import dev.flocker.lab.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The services' launcher ({@code bin/flocker-control}, {@code start_up_cache_options} in scripts/lib/common.sh) and the JDK's
 * ahead-of-time cache: a start never trains one (recording slows a service that serves), the training script does, and
 * a start after it maps the cache; a mode it does not know and arguments the script does not take are refused. Runs
 * the control service's runnable jar, which the reactor has packaged before this module's tests.
 */
@Tag("integration")
class StartupCacheTest {
    @TempDir
    Path dir;

    @Test
    void aStartDoesNotTrainTheTrainingScriptDoesAndTheNextStartMapsItsCache() throws Exception {
        var root = Path.of(System.getProperty("flocker.project.root", "..")).toAbsolutePath().normalize();
        assumeThat(Runtime.version().feature()).as("the launcher's JDK (this test's): AOT caches need 25").isGreaterThanOrEqualTo(25);
        var certificates = ClusterCertificates.in(dir.resolve("certs"), "startup-cache", List.of("127.0.0.1"));
        var cache = dir.resolve("cache");

        var refused = run(cache, root.resolve("bin/flocker-control").toString(), "--version");
        assertThat(refused.exit).as("FLOCKER_AOT=bogus").isNotZero();
        assertThat(refused.output).contains("FLOCKER_AOT=bogus: expected on", "off or train");
        var extra = run(cache, root.resolve("scripts/train-start-up-cache.sh").toString(), "somewhere");
        assertThat(extra.exit).isNotZero();
        assertThat(extra.output).contains("takes no arguments");
        assertThat(caches(cache)).as("refused, nothing made").isEmpty();

        var plain = start(root, certificates, cache, "plain");
        plain.destroy(); // SIGTERM
        assertThat(plain.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(dir.resolve("plain.log"))).as("no cache, no training").doesNotContain("AOTConfiguration");
        // Where its start went, step by step (OPERATIONS.md): each step named with its milliseconds.
        var started = Files.readString(dir.resolve("plain.log")).lines().filter(l -> l.startsWith("flocker-control: started: ")).toList();
        assertThat(started).as("the start's steps").singleElement().satisfies(line -> {
            for (var step : List.of("jvm", "tunnels", "cluster member", "majority", "disk read (beside the member's start)", "disk read's rest",
                    "configuration (seeded or kept from disk)", "services", "servers (api, agent channel, metrics)")) {
                assertThat(line).containsPattern(java.util.regex.Pattern.quote(step) + " \\d+ ms");
            }
        });
        assertThat(caches(cache)).isEmpty();

        var training = new ProcessBuilder(root.resolve("scripts/train-start-up-cache.sh").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("training.log").toFile());
        training.environment().put("FLOCKER_CACHE", cache.toString());
        training.environment().put("JAVA_HOME", System.getProperty("java.home"));
        assertThat(training.start().waitFor()).as("the training script; its output:%n%s", dir.resolve("training.log")).isZero();
        assertThat(caches(cache)).as("one cache, no configuration left over").singleElement()
                .satisfies(f -> assertThat(f.toString()).endsWith(".aot"))
                .satisfies(f -> assertThat(Files.size(f)).isGreaterThan(10L << 20));

        var cached = start(root, certificates, cache, "cached");
        try {
            assertThat(Files.readString(Path.of("/proc", Long.toString(cached.pid()), "maps"))).as("the next start maps the cache")
                    .contains(caches(cache).get(0).toString());
            assertThat(Files.readString(dir.resolve("cached.log"))).doesNotContain("[error").doesNotContain("AOTConfiguration");
        } finally {
            cached.destroy();
            cached.waitFor(60, TimeUnit.SECONDS);
        }
    }

    private record Run(int exit, String output) {
    }

    /** Runs {@code command} with FLOCKER_AOT=bogus, to its end. */
    private static Run run(Path cache, String... command) throws Exception {
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("FLOCKER_CACHE", cache.toString());
        builder.environment().put("FLOCKER_AOT", "bogus");
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        var process = builder.start();
        var output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(process.exitValue(), output);
    }

    private static List<Path> caches(Path cache) throws Exception {
        if (!Files.isDirectory(cache.resolve("aot"))) {
            return List.of();
        }
        try (var files = Files.list(cache.resolve("aot"))) {
            return files.filter(f -> f.getFileName().toString().startsWith("control-service-")).toList();
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

    private static String port() {
        return Integer.toString(FreePorts.next()); // below the ephemeral range: no client connection takes it meanwhile
    }
}
