package dev.flocker.agent;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeState;
import dev.flocker.plugin.AgentReports;

/**
 * This host's state as the loop last reported it, for the Docker plugin's Mount: it looks at the cluster's state again
 * as soon as this host reports the volume here ({@link AgentReports}), not at its next poll (100 ms).
 */
final class ReportedState implements AgentReports {
    private NodeState last; // guarded by this

    synchronized void published(NodeState state) {
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
