package dev.flocker.agent;

import dev.flocker.agent.plan.Change;
import dev.flocker.volume.transfer.DatasetShipper;
import dev.flocker.volume.transfer.Peer;
import dev.flocker.volume.transfer.RemoteZfs;
import dev.flocker.volume.transfer.SshConnections;
import dev.flocker.volume.transfer.Transfer;
import dev.flocker.volume.transfer.TransferResult;
import java.util.function.Function;

/**
 * This host's side of talking to its peers over SSH: increments sent to them and ownership passed to them, with each
 * peer the planner names resolved to an address, account and pinned host key.
 */
record Shipping(DatasetShipper shipper, SshConnections ssh, Function<Change.Peer, Peer> resolve) {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Shipping.class);

    /** Clusters up to this many other hosts have sessions to all of them opened ahead of use ({@link #warm}). */
    static final int WARM_PEERS = 16;

    /**
     * Opens SSH sessions ahead of use to every other host of a small cluster ({@link #WARM_PEERS} at most): a move or a
     * standby's first copy then starts sending at once. Larger clusters open them on first use.
     */
    void warm(java.util.Collection<Change.Peer> peers) {
        if (peers.size() > WARM_PEERS) {
            return;
        }
        for (var peer : peers) {
            try {
                ssh.warm(resolve.apply(peer));
            } catch (RuntimeException e) {
                LOG.atDebug().addKeyValue("peer", peer.host()).log("no ssh session ahead of use: " + e.getMessage()); // e.g. no pinned key yet
            }
        }
    }

    /** Sends the increment; {@code transfer} receives its progress and may cancel it. */
    TransferResult push(Change.PushIncrement change, Transfer transfer) {
        return shipper.push(change.dataset(), resolve.apply(change.to()), transfer,
                change.phase() == dev.flocker.api.model.MovePhase.HANDOFF);
    }

    /**
     * Finishes a handoff that recorded the new owner here and stopped before the pass landed ({@link Change.ResumePass}):
     * nothing when the peer's copy records this generation (or a later one) already; else the increment from this copy,
     * then the pass, mounting the peer's copy when it is prepared, as a handoff does.
     */
    void resumePass(Change.ResumePass change) {
        var peer = resolve.apply(change.to());
        var theirs = shipper.peerOwnership(peer, change.dataset());
        if (theirs.isPresent() && theirs.get().generation() >= change.generation()) {
            LOG.atInfo().addKeyValue("dataset", change.dataset()).addKeyValue("peer", peer.address()).addKeyValue("their_ownership", theirs.get().value())
                    .log("the peer's copy records this handoff already; waiting for its report");
            return;
        }
        var sent = shipper.push(change.dataset(), peer, new Transfer(), true);
        LOG.atInfo().addKeyValue("dataset", change.dataset()).addKeyValue("peer", peer.address()).addKeyValue("bytes", sent.bytes())
                .log("resuming a handoff: the peer's copy did not record it; sent the increment, passing ownership");
        passOwnership(new Change.PassOwnership(change.dataset(), change.to(), change.generation()), sent.peerMount());
    }

    /**
     * Records the new owner and generation on the peer's copy; with {@code mount} other than none (the copy has its
     * mountpoint) also makes it writable and mounts it, in the same remote command.
     */
    void passOwnership(Change.PassOwnership change, RemoteZfs.PeerMount mount) {
        var peer = resolve.apply(change.to());
        var dataset = peer.root() + "/" + change.dataset();
        try {
            ssh.run(peer, RemoteZfs.passOwnership(dataset, change.to().node(), change.generation(), mount));
        } catch (dev.flocker.volume.transfer.RemoteCommandException e) {
            if (mount.equals(RemoteZfs.PeerMount.NONE)) {
                throw e;
            }
            // The mount failed (or an earlier attempt mounted it: "already mounted"), or the command was cut off after it:
            // the ownership is what must land, and recording it again is harmless; its agent mounts the copy if need be.
            LOG.atInfo().addKeyValue("dataset", change.dataset())
                    .log("the peer did not take the mount with the ownership (" + e.getMessage().strip() + "); passing ownership alone");
            ssh.run(peer, RemoteZfs.passOwnership(dataset, change.to().node(), change.generation(), RemoteZfs.PeerMount.NONE));
        }
    }
}
