package dev.flocker.volume.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.volume.Snapshot;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The base a push tries without asking the peer ({@link DatasetShipper#base}): a pure function of this host's snapshots,
 * the last one verified on the peer and the ones this host took. {@code ShippingTest} and the agents' moves use it
 * against real peers; a wrong guess only costs the look-up it replaces, since {@code zfs recv} refuses a base it lacks.
 */
class PushBaseTest {
    static Snapshot snap(String time, int guid) {
        return new Snapshot("fl-20261205T0400" + time + "Z", "g" + guid, guid);
    }

    final Snapshot s1 = snap("01.000000", 1);
    final Snapshot s2 = snap("02.000000", 2);
    final Snapshot s3 = snap("03.000000", 3);
    final Snapshot sending = snap("04.000000", 4);

    @Test
    void theLastVerifiedSnapshotWhenNothingCameFromElsewhereSince() {
        assertThat(DatasetShipper.base(List.of(s1, s2, sending), sending, Optional.of(s2), Set.of("x"))).contains(s2);
        // Taken here for pushes to other peers since: still the one this peer holds.
        assertThat(DatasetShipper.base(List.of(s1, s2, s3, sending), sending, Optional.of(s1), Set.of(s2.name(), s3.name(), sending.name())))
                .contains(s1);
    }

    @Test
    void aSnapshotReceivedSinceTheLastVerifiedOneIsTriedFirst() {
        // The dataset moved here from the peer after this host last pushed s1 there: s3 came with it.
        assertThat(DatasetShipper.base(List.of(s1, s3, sending), sending, Optional.of(s1), Set.of(s1.name()))).contains(s3);
        // Nothing ever verified on this peer (the first push back to the host it came from).
        assertThat(DatasetShipper.base(List.of(s2, s3, sending), sending, Optional.empty(), Set.of())).contains(s3);
        // Taken here after receiving it (for another peer): the received one, not this host's own.
        assertThat(DatasetShipper.base(List.of(s2, s3, sending), sending, Optional.empty(), Set.of(s3.name()))).contains(s2);
    }

    @Test
    void noGuessWhenThereIsNothingToGuessFrom() {
        assertThat(DatasetShipper.base(List.of(sending), sending, Optional.empty(), Set.of())).isEmpty();
        // All taken here, none verified on this peer: ask it.
        assertThat(DatasetShipper.base(List.of(s1, s2, sending), sending, Optional.empty(), Set.of(s1.name(), s2.name()))).isEmpty();
        // A snapshot someone made by hand (not named as ours) is never sent, so never the peer's.
        var byHand = new Snapshot("before-upgrade", "g9", 9);
        assertThat(DatasetShipper.base(List.of(s1, byHand, sending), sending, Optional.of(s1), Set.of())).contains(s1);
        // The last verified one is gone here (pruned): ask the peer, unless something came from elsewhere.
        assertThat(DatasetShipper.base(List.of(s2, sending), sending, Optional.of(s1), Set.of(s2.name()))).isEmpty();
    }

    @Test
    void theSnapshotsVerifiedOnPeersAreBoundedAndTheNewestIsAlwaysKept() {
        var verified = new java.util.HashMap<String, Snapshot>();
        for (int i = 0; i < DatasetShipper.VERIFIED_KEPT; i++) {
            DatasetShipper.verified(verified, "peer/" + i, s1);
        }
        DatasetShipper.verified(verified, "peer/0", s2); // a pair it holds: updated, nothing forgotten
        assertThat(verified).hasSize(DatasetShipper.VERIFIED_KEPT).containsEntry("peer/0", s2);
        DatasetShipper.verified(verified, "peer/new", s3); // one more pair: the others are forgotten, this one kept
        assertThat(verified).containsOnlyKeys("peer/new").containsEntry("peer/new", s3);
    }
}
