package dev.flocker.agent;

import dev.flocker.api.model.NodeId;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fencing's second line. The loop fences datasets with standbys as soon as this node's lease lapses (it is woken for
 * it), but a loop stuck in a long step (a hung zfs or Docker call) cannot. So when the lease has lapsed for
 * {@link #GRACE}, this kills (no grace) every container using a dataset with standbys that the last configuration
 * seen puts on this node, from a thread of its own, touching no ZFS. Normally the loop has stopped them already, and
 * there is nothing to kill.
 */
final class FenceWatchdog {
    private static final Logger LOG = LoggerFactory.getLogger(FenceWatchdog.class);
    /** After the lapse: the loop's own fence normally ends well within it; the control service promotes much later. */
    static final Duration GRACE = Duration.ofSeconds(3);

    private final NodeId self;
    private final ControlLink link;
    private final Containers containers;

    FenceWatchdog(NodeId self, ControlLink link, Containers containers) {
        this.self = self;
        this.link = link;
        this.containers = containers;
    }

    /** The lease lapsed just now. */
    void lapsed() {
        Thread.ofVirtual().name("fence-watchdog").start(() -> {
            Agent.sleep(GRACE.toMillis());
            var view = link.lastView();
            if (link.leaseHeld() || view == null) {
                return;
            }
            for (var dataset : view.configuration().datasets().values()) {
                if (dataset.replicas() > 0 && !dataset.deleted() && self.equals(dataset.primary())) {
                    try {
                        var killed = containers.stopUsing(dataset.datasetId(), Duration.ZERO);
                        if (!killed.isEmpty()) {
                            LOG.atError().addKeyValue("dataset", dataset.datasetId()).addKeyValue("killed", killed)
                                    .log("the lease lapsed and the loop had not fenced this dataset: its applications are killed");
                        }
                    } catch (RuntimeException e) {
                        LOG.atError().addKeyValue("dataset", dataset.datasetId()).log("cannot kill the applications of a fenced dataset: "
                                + ChangeExecutor.rootMessage(e));
                    }
                }
            }
        });
    }
}
