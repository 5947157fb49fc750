package dev.flocker.agent.plan;

import dev.flocker.api.model.MovePhase;
import dev.flocker.api.model.NodeId;
import java.time.Instant;

/**
 * What this host's background work tells the planner about a move of one dataset away from it: the work running now,
 * the pre-copy rounds done so far, the last failure and the last ownership passed. Kept in memory only: an agent that
 * restarts has none, and the planner then starts from what ZFS shows (a new pre-copy costs one increment).
 *
 * @param to             the target of this progress
 * @param running        {@link MovePhase#PRE_COPY} or {@link MovePhase#HANDOFF} while a push or the handoff runs, else null
 * @param rounds         pre-copy rounds finished towards {@code to}
 * @param lastBytes      the bytes of the last finished round
 * @param previousBytes  the bytes of the round before it (or {@link Long#MAX_VALUE})
 * @param failedAt       when the last attempt failed, or null
 * @param passedGeneration the generation whose ownership this host last passed to {@code to} (0 for none)
 * @param passedAt       when it did
 * @param roundEndedAt   when the last pre-copy round ended, or null when none did
 */
public record MoveProgress(NodeId to, MovePhase running, int rounds, long lastBytes, long previousBytes, Instant failedAt,
                           long passedGeneration, Instant passedAt, Instant roundEndedAt) {

    public static MoveProgress towards(NodeId to) {
        return new MoveProgress(to, null, 0, 0, Long.MAX_VALUE, null, 0, null, null);
    }

    public MoveProgress running(MovePhase phase) {
        return new MoveProgress(to, phase, rounds, lastBytes, previousBytes, failedAt, passedGeneration, passedAt, roundEndedAt);
    }

    public MoveProgress withTo(NodeId other) {
        return new MoveProgress(other, running, rounds, lastBytes, previousBytes, failedAt, passedGeneration, passedAt, roundEndedAt);
    }

    public MoveProgress roundDone(long bytes, Instant at) {
        return new MoveProgress(to, null, rounds + 1, bytes, rounds == 0 ? Long.MAX_VALUE : lastBytes, null, passedGeneration, passedAt, at);
    }

    public MoveProgress failed(Instant at) {
        return new MoveProgress(to, null, rounds, lastBytes, previousBytes, at, passedGeneration, passedAt, roundEndedAt);
    }

    public MoveProgress passed(long generation, Instant at) {
        return new MoveProgress(to, null, 0, 0, Long.MAX_VALUE, null, generation, at, null);
    }

    /** This host passed ownership less than {@code within} before {@code now}. */
    public boolean passedWithin(java.time.Duration within, Instant now) {
        return passedAt != null && passedAt.plus(within).isAfter(now);
    }

    /**
     * The pre-copy has done what it can: its last increment is small enough, increments stopped shrinking (the writers
     * are as fast as the copy), or the budget of rounds is spent.
     */
    public boolean preCopyDone(long smallEnoughBytes, int maxRounds) {
        return rounds >= 1 && (lastBytes <= smallEnoughBytes || (rounds > 1 && lastBytes > previousBytes * 3 / 4) || rounds >= maxRounds);
    }
}
