package dev.flocker.plugin;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeState;

/**
 * This host's state as its agent's loop last reported it, for the Mount ({@link AgentReports}): the agent publishes each
 * report here, and a Mount looks at the cluster's state again as soon as one has its volume, not at its next poll.
 */
public final class ReportedState implements AgentReports {
    private NodeState last; // guarded by this

    /** Called by the agent after each report it sends. */
    public synchronized void published(NodeState state) {
        last = state;
        notifyAll();
    }

    @Override
    public synchronized boolean writableHere(DatasetId dataset) {
        return last != null && last.dataset(dataset).filter(d -> d.primary() && d.path() != null).isPresent();
    }

    @Override
    public synchronized void awaitNext(long millis) throws InterruptedException {
        var before = last;
        long deadline = System.nanoTime() + millis * 1_000_000;
        for (long left = millis; last == before && left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
            wait(left);
        }
    }
}
