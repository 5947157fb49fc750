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

    /** Sends the increment; {@code transfer} receives its progress and may cancel it. */
    TransferResult push(Change.PushIncrement change, Transfer transfer) {
        return shipper.push(change.dataset(), resolve.apply(change.to()), transfer);
    }

    /** Records the new owner and generation on the peer's copy. */
    void passOwnership(Change.PassOwnership change) {
        var peer = resolve.apply(change.to());
        ssh.run(peer, RemoteZfs.passOwnership(peer.root() + "/" + change.dataset(), change.to().node(), change.generation()));
    }
}
