package dev.flocker.plugin;

import dev.flocker.api.model.DatasetId;

/**
 * What this host's own agent last reported to the control service, for a Mount waiting for its volume to arrive: the
 * plugin asks the cluster's state as before (the control service decides, from every host's report, which copy is the
 * primary), but looks again as soon as this host reports the volume here, instead of at its next poll.
 */
public interface AgentReports {
    /** This host's last report has the dataset's copy owned here, writable and mounted. */
    boolean writableHere(DatasetId dataset);

    /** Waits at most {@code millis} for this host's next report. */
    void awaitNext(long millis) throws InterruptedException;
}
