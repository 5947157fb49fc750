package dev.flocker.volume.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import dev.flocker.lab.LabHost;
import dev.flocker.volume.FileTree;
import dev.flocker.volume.Snapshot;
import dev.flocker.volume.zfs.ZfsCommand;
import dev.flocker.volume.zfs.ZfsConfig;
import dev.flocker.volume.zfs.ZfsVolumeDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Shipping datasets between two lab hosts over their real sshd, with faults injected on the receiving side. */
@Tag("e2e")
@WithLab(name = "tship", nodes = 2)
class ShippingTest {
    private static final long MIB = 1 << 20;
    private static final NodeId NODE1 = NodeId.of("11111111-1111-4111-8111-111111111111");
    private static final Duration WAIT = Duration.ofMinutes(2);

    private static ZfsVolumeDriver source;
    private static ZfsVolumeDriver target;
    private static SshConnections ssh;
    private static DatasetShipper shipper;
    private static Peer peer;
    private static LabHost h1;
    private static LabHost h2;
    private static final ZfsCommand zfs = new ZfsCommand();

    @BeforeAll
    static void drivers(Lab lab) {
        h1 = lab.host(1);
        h2 = lab.host(2);
        source = ZfsVolumeDriver.open(ZfsConfig.existingPool(h1.pool(), h1.mountRoot()));
        target = ZfsVolumeDriver.open(ZfsConfig.existingPool(h2.pool(), h2.mountRoot()));
        ssh = new SshConnections(lab.sshPrivateKey(), Duration.ofSeconds(5));
        shipper = new DatasetShipper(source, ssh);
        peer = Peer.root(h2.ip(), h2.sshHostKey(), h2.pool());
    }

    @AfterAll
    static void closeSsh() {
        ssh.close();
    }

    @Test
    void fullThenIncrementalPushesLeaveTheSameFilesOnThePeer() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("base.bin"), 20 * MIB, 1);
        Files.createDirectories(mount.resolve("notes"));
        Files.writeString(mount.resolve("notes/readme.txt"), "first");

        var full = shipper.start(id, peer).await(WAIT);
        assertThat(full.incremental()).isFalse();
        assertThat(full.bytes()).isGreaterThan(20 * MIB);
        assertThat(replicaChecksum(id)).isEqualTo(FileTree.checksum(mount));
        var replica = target.get(id).orElseThrow();
        assertThat(replica.readOnly()).isTrue();
        assertThat(replica.mounted()).isFalse();

        for (int round = 1; round <= 3; round++) {
            FileTree.writeRandom(mount.resolve("delta-" + round + ".bin"), round * MIB, 10 + round);
            Files.writeString(mount.resolve("notes/readme.txt"), "round " + round);
            if (round == 2) {
                Files.delete(mount.resolve("base.bin"));
            }
            var result = shipper.start(id, peer).await(WAIT);
            assertThat(result.incremental()).isTrue();
            assertThat(result.bytes()).isLessThan(20 * MIB);
            assertThat(replicaChecksum(id)).as("round %d", round).isEqualTo(FileTree.checksum(mount));
        }
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aFirstMovesFullFinalPushLeavesTheNewCopyUnmountedAndWritableForItsHostToMount() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("only.bin"), 2 * MIB, 7);
        source.freeze(id);
        // No copy on the peer: the handoff's final increment is the full stream (a Docker Mount of a volume held elsewhere).
        var last = shipper.push(id, peer, new Transfer(), true);
        assertThat(last.base()).isNull();
        assertThat(last.peerMount()).isEqualTo(RemoteZfs.PeerMount.NONE);
        var arrived = target.get(id).orElseThrow();
        assertThat(arrived.mounted()).isFalse();
        assertThat(arrived.mountpoint()).isNull();
        assertThat(arrived.readOnly()).as("left writable: handed over next, so readonly=on would only be undone").isFalse();
        // The pass records the owner; the new owner's agent then mounts it (MakeWritable), writable, with what was sent.
        ssh.run(peer, RemoteZfs.passOwnership(h2.pool() + "/" + id, NodeId.of("22222222-2222-4222-8222-222222222222"), 1, last.peerMount()));
        var writable = target.makeWritable(id);
        assertThat(writable.mounted()).isTrue();
        source.makeWritable(id);
        assertThat(FileTree.checksum(writable.mountpoint())).isEqualTo(FileTree.checksum(mount));
        Files.writeString(writable.mountpoint().resolve("written.txt"), "the new owner writes");
        assertThat(target.get(id).orElseThrow().readOnly()).isFalse();
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aHandoffsFinalPushFindsAPreparedCopyAndPassingOwnershipMountsItWritableThroughTheForcedCommand() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("base.bin"), 2 * MIB, 3);
        shipper.push(id, peer, new Transfer());
        FileTree.writeRandom(mount.resolve("more.bin"), MIB, 4);
        assertThat(shipper.push(id, peer, new Transfer(), true).peerMount()).as("a replica its host did not prepare").isEqualTo(RemoteZfs.PeerMount.NONE);

        target.prepareMount(id);
        FileTree.writeRandom(mount.resolve("last.bin"), MIB, 5);
        source.freeze(id);
        var last = shipper.push(id, peer, new Transfer(), true);
        assertThat(last.peerMount()).isEqualTo(RemoteZfs.PeerMount.MOUNT);
        assertThat(target.get(id).orElseThrow().mounted()).as("the final increment leaves a prepared copy unmounted").isFalse();

        var node2 = NodeId.of("22222222-2222-4222-8222-222222222222");
        var handed = passedMountedWritable(id, node2, 1, last);
        assertThat(handed.owner()).isEqualTo(node2);
        source.makeWritable(id); // to compare: the source's copy as it was handed over
        assertThat(FileTree.checksum(handed.mountpoint())).isEqualTo(FileTree.checksum(mount));
        Files.writeString(handed.mountpoint().resolve("written-after.txt"), "the new owner writes");

        // Back again: the copy there, made a replica, keeps its mountpoint read-only; its host has not prepared it (its
        // agent was busy): the pass makes it writable and mounts it, through the forced command.
        source.makeReplica(id);
        target.makeReplica(id);
        var kept = target.get(id).orElseThrow();
        assertThat(kept.readOnly()).isTrue();
        assertThat(kept.mountpoint()).isEqualTo(handed.mountpoint());
        var back = shipper.push(id, peer, new Transfer(), true);
        assertThat(back.peerMount()).isEqualTo(RemoteZfs.PeerMount.UNLOCK_AND_MOUNT);
        assertThat(target.get(id).orElseThrow().mounted()).isFalse();
        var unlocked = passedMountedWritable(id, node2, 2, back);

        // And back within a handoff's tail: that host froze its copy (read-only in the kernel, still mounted) as it handed
        // the dataset on, and has not made it a replica yet. The final increment lands in the frozen copy; the pass
        // remounts it read-write, through the forced command.
        target.freeze(id);
        assertThat(target.get(id).orElseThrow().mounted()).isTrue();
        source.makeWritable(id);
        FileTree.writeRandom(mount.resolve("tail.bin"), MIB, 6);
        source.freeze(id);
        var again = shipper.push(id, peer, new Transfer(), true);
        assertThat(again.peerMount()).isEqualTo(RemoteZfs.PeerMount.remount(unlocked.mountpoint().toString()));
        assertThat(target.get(id).orElseThrow().readOnly()).as("the final increment leaves a frozen copy frozen").isTrue();
        var remounted = passedMountedWritable(id, node2, 3, again);
        source.makeWritable(id);
        assertThat(FileTree.checksum(remounted.mountpoint())).isEqualTo(FileTree.checksum(mount));
        Files.writeString(remounted.mountpoint().resolve("written-after-remount.txt"), "the new owner writes again");
        // The pass leaves the readonly property as the freeze did (off): mounted again (a zfs-fuse restart), it is writable.
        whileBusy(() -> zfs.zfs("unmount", peer.root() + "/" + id));
        whileBusy(() -> zfs.zfs("mount", peer.root() + "/" + id));
        assertThat(target.get(id).orElseThrow().readOnly()).isFalse();
        Files.writeString(remounted.mountpoint().resolve("written-after-mount.txt"), "and after a mount");
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aPushKilledOnTheReceivingZfsOrTheSshSideLeavesThePeerAtItsLastSnapshotAndTheNextPushCompletes() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("a.bin"), 8 * MIB, 20);

        // A full push killed mid-stream leaves no half dataset behind.
        FileTree.writeRandom(mount.resolve("big1.bin"), 300 * MIB, 21);
        assertThatThrownBy(() -> pushAndKill(id, "zfs"))
                .isInstanceOf(TransferException.class).hasMessageContaining(RemoteZfs.recv(peer.root() + "/" + id));
        assertThat(target.get(id)).isEmpty();

        var good = shipper.start(id, peer).await(WAIT);
        var checksumAtGood = FileTree.checksum(mount);
        assertThat(replicaChecksum(id)).isEqualTo(checksumAtGood);

        // Incremental pushes killed: first the receiving zfs, then the ssh server side of the connection.
        FileTree.writeRandom(mount.resolve("big2.bin"), 300 * MIB, 22);
        for (var victim : List.of("zfs", "sshd")) {
            assertThatThrownBy(() -> pushAndKill(id, victim)).as(victim).isInstanceOf(TransferException.class);
            var replica = target.get(id).orElseThrow();
            assertThat(replica.latestSnapshot().map(Snapshot::name)).as(victim).contains(good.snapshot());
            assertThat(replicaChecksum(id)).as(victim).isEqualTo(checksumAtGood);
        }
        assertThat(FileTree.checksum(mount)).isNotEqualTo(checksumAtGood); // the source kept its newer data

        var resumed = shipper.start(id, peer).await(WAIT);
        assertThat(resumed.base()).isEqualTo(good.snapshot());
        assertThat(replicaChecksum(id)).isEqualTo(FileTree.checksum(mount));
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aPeerThatLostTheLastPushedSnapshotIsResumedFromTheNewestCommonOne() throws Exception {
        var id = DatasetId.random();
        var pushed = pushedTwice(id, 50);
        // The peer loses the snapshot this shipper last verified there (an operator, a rollback...).
        pushAfterLosingTheSecond(id, pushed, 52, h2);
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aReceiveStartedBeforeTheSnapshotButNotUsedChangesNothingOnThePeer() throws Exception {
        var id = DatasetId.random();
        var pushed = pushedTwice(id, 70);
        // Both hosts lose the snapshot this one last verified on the peer: the next push starts the peer's receive early
        // (it pushed there before), then finds no base to send from without asking, closes that receive unused and looks
        // up the common snapshot instead.
        var third = pushAfterLosingTheSecond(id, pushed, 72, h1, h2);
        assertThat(target.get(id).orElseThrow().snapshots()).extracting(Snapshot::name).containsExactly(pushed.first().snapshot(), third.snapshot());
        // The receive closed unused has ended too: none of the peer's zfs recv of this dataset is left waiting for a stream.
        assertNoReceiveLeft(id);
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aFullReceiveStartedBesideTheSnapshotOnTheCallersWordIsUsedWhenThePeerHasNoCopyAndClosedUnusedOtherwise() throws Exception {
        // The caller says the peer has no copy (a first move's final increment): the peer is asked for its snapshots while
        // the snapshot is taken, and its full receive starts as soon as they confirm it.
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("data.bin"), 3 * MIB, 90);
        var first = new DatasetShipper(source, ssh).push(id, peer, new Transfer().peerHasNoCopy());
        assertThat(first.base()).isNull();
        assertThat(replicaChecksum(id)).isEqualTo(FileTree.checksum(mount));
        // A word that is wrong (the peer has a copy) costs the look-up only: the increment goes onto the copy there.
        FileTree.writeRandom(mount.resolve("more.bin"), MIB, 91);
        var second = new DatasetShipper(source, ssh).push(id, peer, new Transfer().peerHasNoCopy());
        assertThat(second.base()).isEqualTo(first.snapshot());
        assertThat(replicaChecksum(id)).isEqualTo(FileTree.checksum(mount));
        source.destroy(id);
        target.destroy(id);
        // No dataset here: the snapshot fails after the peer confirmed it has no copy, and the full receive started for it
        // is closed before any byte. Nothing is made on the peer, and its zfs recv ends.
        var gone = DatasetId.random();
        assertThatThrownBy(() -> new DatasetShipper(source, ssh).push(gone, peer, new Transfer().peerHasNoCopy()))
                .hasMessageContaining(gone.toString());
        assertNoReceiveLeft(gone);
        assertThat(target.get(gone)).isEmpty();
    }

    @Test
    void aPeerThatRunsOutOfSpaceKeepsItsLastSnapshotAndTheNextPushSucceedsOnceThereIsRoom() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("a.bin"), 4 * MIB, 60);
        var good = shipper.start(id, peer).await(WAIT);
        var checksumAtGood = FileTree.checksum(mount);
        FileTree.writeRandom(mount.resolve("b.bin"), 120 * MIB, 61);
        // The peer's pool "fills up": a quota on its root caps every dataset under it.
        zfs.zfs("set", "quota=64M", h2.pool());
        try {
            assertThatThrownBy(() -> shipper.start(id, peer).await(WAIT)).isInstanceOf(TransferException.class)
                    .hasMessageContaining(RemoteZfs.recv(peer.root() + "/" + id));
            assertThat(target.get(id).orElseThrow().latestSnapshot().map(Snapshot::name)).contains(good.snapshot());
            assertThat(replicaChecksum(id)).isEqualTo(checksumAtGood);
        } finally {
            zfs.zfs("set", "quota=none", h2.pool());
        }
        var resumed = shipper.start(id, peer).await(WAIT);
        assertThat(resumed.base()).isEqualTo(good.snapshot());
        assertThat(replicaChecksum(id)).isEqualTo(FileTree.checksum(mount));
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aPushRunsWhatWaitsForItsSnapshotOnceTheSnapshotIsTakenAndBeforeThePeerHoldsItAndNeverWhenNoneIsTaken() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("base.bin"), 2 * MIB, 80);
        shipper.push(id, peer, new Transfer());
        FileTree.writeRandom(mount.resolve("more.bin"), MIB, 81);
        // What a handoff records beside its final increment waits for that increment's snapshot: it sees the snapshot here,
        // and the peer not holding it yet.
        var seen = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var transfer = new Transfer();
        transfer.onSnapshotTaken(() -> seen.add(source.get(id).orElseThrow().latestSnapshot().orElseThrow().name() + " here, peer at "
                + target.get(id).orElseThrow().latestSnapshot().orElseThrow().name()));
        var before = target.get(id).orElseThrow().latestSnapshot().orElseThrow().name();
        var result = shipper.push(id, peer, transfer, true);
        assertThat(seen).containsExactly(result.snapshot() + " here, peer at " + before);
        assertThat(target.get(id).orElseThrow().latestSnapshot().orElseThrow().name()).isEqualTo(result.snapshot());
        // A push that takes no snapshot (the dataset is gone here) never runs it.
        source.destroy(id);
        var failed = new Transfer();
        failed.onSnapshotTaken(() -> seen.add("after a failed snapshot"));
        assertThatThrownBy(() -> shipper.push(id, peer, failed, true)).hasMessageContaining(id.toString());
        assertThat(seen).hasSize(1);
        target.destroy(id);
    }

    @Test
    void aCancelledPushChangesNothingOnThePeer() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("big.bin"), 300 * MIB, 30);
        var transfer = shipper.start(id, peer);
        awaitStreaming(transfer);
        transfer.cancel();
        assertThatThrownBy(() -> transfer.await(WAIT)).isInstanceOf(TransferException.class);
        assertThat(transfer.progress().phase()).isIn(TransferProgress.Phase.CANCELLED, TransferProgress.Phase.FAILED);
        assertThat(target.get(id)).isEmpty();
        source.destroy(id);
    }

    @Test
    void progressReportsBytesRateAndEtaWhileStreaming() throws Exception {
        var id = DatasetId.random();
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("big.bin"), 300 * MIB, 40);
        var transfer = shipper.start(id, peer);
        var seen = awaitStreaming(transfer);
        assertThat(seen.bytes()).isPositive();
        assertThat(seen.expectedBytes()).isGreaterThan(290 * MIB);
        assertThat(seen.bytesPerSecond()).isPositive();
        assertThat(seen.eta()).isNotNull();
        var result = transfer.await(WAIT);
        assertThat(transfer.progress().phase()).isEqualTo(TransferProgress.Phase.DONE);
        assertThat(transfer.progress().bytes()).isEqualTo(result.bytes());
        source.destroy(id);
        target.destroy(id);
    }

    @Test
    void aPeerWhoseHostKeyIsNotThePinnedOneIsRefusedAndNothingIsSent(Lab lab) {
        var id = DatasetId.random();
        source.create(id, null, NODE1);
        var impostor = Peer.root(h2.ip(), lab.host(1).sshHostKey(), h2.pool());
        try (var fresh = new SshConnections(lab.sshPrivateKey(), Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> new DatasetShipper(source, fresh).start(id, impostor).await(WAIT))
                    .isInstanceOf(TransferException.class)
                    .hasMessageContaining("refusing peer " + h2.ip() + ":22: its SSH host key is not the pinned one")
                    .hasMessageContaining("SHA256:");
        }
        assertThat(target.get(id)).isEmpty();
        source.destroy(id);
    }

    @Test
    void aSessionWarmedAheadOfUseIsTheOneTheFirstTransferUses(Lab lab) throws Exception {
        try (var fresh = new SshConnections(lab.sshPrivateKey(), Duration.ofSeconds(5))) {
            var closed = new Peer(h2.ip(), 2, "root", h2.sshHostKey(), h2.pool());
            fresh.warm(closed); // unreachable: logged, never thrown
            assertThat(fresh.isOpen(peer)).isFalse();
            fresh.warm(peer);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!fresh.isOpen(peer) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(fresh.isOpen(peer)).as("opened in the background").isTrue();
            var warmed = fresh.session(peer);
            var id = DatasetId.random();
            source.create(id, null, NODE1);
            new DatasetShipper(source, fresh).start(id, peer).await(WAIT);
            assertThat(fresh.session(peer)).as("the transfer's session").isSameAs(warmed);
            assertThat(target.get(id)).isPresent();
            assertThat(fresh.isOpen(closed)).isFalse();
            source.destroy(id);
            target.destroy(id);
        }
    }

    @Test
    void anUnreachablePeerGivesAClearErrorNamingIt(Lab lab) {
        var id = DatasetId.random();
        source.create(id, null, NODE1);
        var closed = new Peer(h2.ip(), 2, "root", h2.sshHostKey(), h2.pool());
        assertThatThrownBy(() -> shipper.start(id, closed).await(WAIT))
                .isInstanceOf(TransferException.class).hasMessageContaining("cannot connect to peer " + h2.ip() + ":2");
        source.destroy(id);
    }

    /**
     * Commands are sent without waiting for the peer's answer to them (SshConnections.start): a command the peer's forced
     * command refuses must still come back as a failure with the peer's reason, and a command that runs with its output.
     */
    @Test
    void aCommandThePeerRefusesFailsWithItsReasonAndAnAllowedOneAnswers() {
        var refused = ssh.runForResult(peer, "rm -rf /" + h2.pool());
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.stderr()).contains("flocker-ssh-command: refused");
        var missing = ssh.runForResult(peer, RemoteZfs.owner(h2.pool() + "/" + DatasetId.random()));
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.stderr()).contains("does not exist");
        var id = DatasetId.random();
        source.create(id, null, NODE1);
        shipper.start(id, peer).await(WAIT);
        assertThat(ssh.run(peer, RemoteZfs.owner(h2.pool() + "/" + id)).strip()).isEqualTo("-");
        target.destroy(id);
        source.destroy(id);
    }

    @Test
    void aPeerCopyWithNoCommonSnapshotIsNeverOverwritten() {
        var id = DatasetId.random();
        source.create(id, null, NODE1);
        target.create(id, null, NODE1);
        target.snapshot(id);
        assertThatThrownBy(() -> shipper.start(id, peer).await(WAIT))
                .isInstanceOf(TransferException.class).hasMessageContaining("shares no snapshot");
        assertThat(target.get(id).orElseThrow().snapshots()).hasSize(1);
        source.destroy(id);
        target.destroy(id);
    }

    /**
     * A dataset that went A -> B -> C comes back to A, whose old replica shares no snapshot with C's copy (C got its
     * first copy whole from B): a replica that records an owner and an older generation is replaced, sent whole.
     */
    @Test
    void aStaleReplicaOfAnOlderGenerationThatSharesNoSnapshotIsReplaced() throws Exception {
        var id = DatasetId.random();
        source.create(id, null, NODE1);
        source.setOwner(id, NODE1, 3);
        Files.writeString(source.get(id).orElseThrow().mountpoint().resolve("now.txt"), "generation 3\n");
        target.create(id, null, NODE1);
        target.setOwner(id, NodeId.of("22222222-2222-4222-8222-222222222222"), 1);
        var stale = target.snapshot(id);
        var result = shipper.start(id, peer).await(WAIT);
        assertThat(result.base()).as("sent whole").isNull();
        var names = target.get(id).orElseThrow().snapshots().stream().map(dev.flocker.volume.Snapshot::name).toList();
        assertThat(names).containsExactly(result.snapshot()).doesNotContain(stale.name());
        source.destroy(id);
        target.destroy(id);
    }

    /**
     * A standby's copy (only ever received: it records no owner) that shares no snapshot with the primary any more (its
     * base was pruned while it was away) is replaced, sent whole, instead of refusing the standby for good.
     */
    @Test
    void aReplicaThatNeverHadAnOwnerAndSharesNoSnapshotIsReplaced() throws Exception {
        var id = DatasetId.random();
        source.create(id, null, NODE1);
        Files.writeString(source.get(id).orElseThrow().mountpoint().resolve("first.txt"), "first\n");
        shipper.start(id, peer).await(WAIT);
        var received = target.get(id).orElseThrow();
        assertThat(received.owner()).as("a received copy records no owner").isNull();
        source.destroy(id); // the primary's line goes on without the snapshots the standby holds
        source.create(id, null, NODE1);
        var result = shipper.start(id, peer).await(WAIT);
        assertThat(result.base()).as("sent whole").isNull();
        assertThat(target.get(id).orElseThrow().snapshots()).extracting(dev.flocker.volume.Snapshot::name).containsExactly(result.snapshot());
        source.destroy(id);
        target.destroy(id);
    }

    /** Starts a push, waits until data flows, kills {@code victim} ("zfs" recv or the "sshd" serving it) on the peer, and awaits the failure. */
    /**
     * Passes ownership of {@code id} to {@code owner} through the forced command, with the mount its final increment
     * found ({@code last}); the peer's copy must then be mounted, writable, at {@code generation}.
     */
    private static dev.flocker.volume.Volume passedMountedWritable(DatasetId id, NodeId owner, long generation, TransferResult last) {
        ssh.run(peer, RemoteZfs.passOwnership(h2.pool() + "/" + id, owner, generation, last.peerMount()));
        var copy = target.get(id).orElseThrow();
        assertThat(copy.generation()).isEqualTo(generation);
        assertThat(copy.mounted()).isTrue();
        assertThat(copy.readOnly()).isFalse();
        return copy;
    }

    /** Runs a zfs call again while zfs-fuse calls the dataset busy (a moment after its last writer closed), 5 s at most. */
    private static void whileBusy(Runnable call) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            try {
                call.run();
                return;
            } catch (dev.flocker.volume.zfs.ZfsException e) {
                if (!e.busy() || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void pushAndKill(DatasetId id, String victim) throws Exception {
        var transfer = shipper.start(id, peer);
        awaitStreaming(transfer);
        var recv = pgrep(RemoteZfs.recv(peer.root() + "/" + id));
        long pid = victim.equals("zfs") ? recv : ancestorNamed(recv, "sshd");
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        transfer.await(WAIT);
    }

    private static TransferProgress awaitStreaming(Transfer transfer) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            var p = transfer.progress();
            if (p.phase() == TransferProgress.Phase.STREAMING && p.bytes() > 4 * MIB) {
                return p;
            }
            if (transfer.future().isDone()) {
                throw new AssertionError("transfer ended before it could be interrupted: " + p);
            }
            Thread.sleep(2);
        }
        throw new AssertionError("transfer never started streaming");
    }

    /** A new dataset and its two pushes, 2 MiB written before each: the second incremental on the first. */
    private record Pushed(Path mount, TransferResult first, TransferResult second) {
    }

    private static Pushed pushedTwice(DatasetId id, int seed) throws Exception {
        var mount = source.create(id, null, NODE1).mountpoint();
        FileTree.writeRandom(mount.resolve("a.bin"), 2 * MIB, seed);
        var first = shipper.start(id, peer).await(WAIT);
        FileTree.writeRandom(mount.resolve("b.bin"), 2 * MIB, seed + 1);
        var second = shipper.start(id, peer).await(WAIT);
        assertThat(second.base()).isEqualTo(first.snapshot());
        return new Pushed(mount, first, second);
    }

    /**
     * Destroys the second push's snapshot on {@code losing} hosts' copies, writes 2 MiB more and pushes again: the push
     * resumes from the first one and leaves the peer's files equal to this host's.
     */
    private static TransferResult pushAfterLosingTheSecond(DatasetId id, Pushed pushed, int seed, LabHost... losing) throws Exception {
        for (var host : losing) {
            zfs.zfs("destroy", host.pool() + "/" + id + "@" + pushed.second().snapshot());
        }
        FileTree.writeRandom(pushed.mount().resolve("c.bin"), 2 * MIB, seed);
        var third = shipper.start(id, peer).await(WAIT);
        assertThat(third.base()).isEqualTo(pushed.first().snapshot());
        assertThat(replicaChecksum(id)).isEqualTo(FileTree.checksum(pushed.mount()));
        return third;
    }

    /** The pids of the processes whose whole command line is {@code commandLine}. */
    private static List<Long> pids(String commandLine) throws Exception {
        var p = new ProcessBuilder("pgrep", "-f", "-x", commandLine).start();
        var out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        return out.lines().map(Long::parseLong).toList();
    }

    /** Within 10 s, no zfs recv of {@code id} is left running on the peer (a receive closed unused ends). */
    private static void assertNoReceiveLeft(DatasetId id) throws Exception {
        var recv = RemoteZfs.recv(peer.root() + "/" + id);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (processes(recv) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(processes(recv)).as("processes '%s'", recv).isZero();
    }

    private static long processes(String commandLine) throws Exception {
        return pids(commandLine).size();
    }

    private static long pgrep(String pattern) throws Exception {
        var pids = pids(pattern);
        assertThat(pids).as("process '%s'", pattern).isNotEmpty();
        return pids.get(0);
    }

    private static long ancestorNamed(long pid, String name) {
        for (var handle = ProcessHandle.of(pid); handle.isPresent(); handle = handle.get().parent()) {
            if (handle.get().info().command().orElse("").endsWith("/" + name)) {
                return handle.get().pid();
            }
            // sshd's per-session process is named "sshd: root@notty" and reports no command path.
            if (handle.get().info().commandLine().orElse("").startsWith(name) || commName(handle.get().pid()).equals(name)) {
                return handle.get().pid();
            }
        }
        throw new AssertionError("no " + name + " above pid " + pid);
    }

    private static String commName(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Mounts the peer's replica read-only for a moment to checksum its files, then unmounts it again. */
    private static String replicaChecksum(DatasetId id) {
        var name = h2.pool() + "/" + id;
        var at = h2.mountRoot().resolve("check-" + id);
        zfs.zfs("set", "mountpoint=" + at, name);
        try {
            if (!target.get(id).orElseThrow().mounted()) {
                zfs.zfs("mount", name);
            }
            // Replicas refuse writes (zfs-fuse shows a mounted dataset's readonly as "off (temporary)", so try one).
            assertThatThrownBy(() -> Files.writeString(at.resolve("intruder"), "x")).isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("Read-only file system");
            return FileTree.checksum(at);
        } finally {
            zfs.zfs("unmount", name);
            zfs.zfs("set", "mountpoint=none", name);
        }
    }
}
