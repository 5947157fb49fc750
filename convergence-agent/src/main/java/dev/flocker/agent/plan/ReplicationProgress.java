package dev.flocker.agent.plan;

import java.time.Instant;

/**
 * What the background work says of a dataset's replication to its standbys: a round runs now, or when the last one
 * ended and whether it failed.
 */
public record ReplicationProgress(boolean running, Instant endedAt, boolean failed) {
    /** After a failed round, the next waits this long. */
    public static final java.time.Duration RETRY_AFTER_FAILURE = java.time.Duration.ofSeconds(2);
}
