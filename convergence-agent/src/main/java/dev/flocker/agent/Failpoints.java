package dev.flocker.agent;

import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named points in a move where a test can make the agent pause, to kill it there and prove the move still completes, and
 * {@code loop} in every convergence loop, to make it slow:
 * {@code -Dflocker.failpoints=handoff-read-only:5000,handoff-owner-recorded:5000} (name:milliseconds). Unset in
 * production, where every point is a no-op.
 */
final class Failpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Failpoints.class);

    private Failpoints() {}

    static void pause(String name) {
        var spec = System.getProperty("flocker.failpoints", "");
        Arrays.stream(spec.split(",")).map(String::strip).filter(s -> s.startsWith(name + ":")).findFirst().ifPresent(s -> {
            long millis = Long.parseLong(s.substring(name.length() + 1));
            LOG.atWarn().addKeyValue("failpoint", name).addKeyValue("ms", millis).log("pausing at failpoint");
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
