package dev.flocker.agent;

import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named points in a move where a test can make the agent pause, to kill it there and prove the move still completes, and
 * {@code loop} in every convergence loop, to make it slow:
 * {@code -Dflocker.failpoints=handoff-frozen:5000,handoff-owner-recorded:5000} (name:milliseconds), or
 * {@code loop:60000@/path/file} to pause only while that file exists. Unset in production, where every point is a no-op.
 */
final class Failpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Failpoints.class);

    private Failpoints() {}

    static void pause(String name) {
        var spec = System.getProperty("flocker.failpoints", "");
        Arrays.stream(spec.split(",")).map(String::strip).filter(s -> s.startsWith(name + ":")).findFirst().ifPresent(s -> {
            var value = s.substring(name.length() + 1);
            int at = value.indexOf('@');
            if (at >= 0 && !java.nio.file.Files.exists(java.nio.file.Path.of(value.substring(at + 1)))) {
                return;
            }
            long millis = Long.parseLong(at >= 0 ? value.substring(0, at) : value);
            LOG.atWarn().addKeyValue("failpoint", name).addKeyValue("ms", millis).log("pausing at failpoint");
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
