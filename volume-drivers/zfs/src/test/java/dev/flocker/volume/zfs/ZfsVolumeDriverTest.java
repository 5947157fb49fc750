package dev.flocker.volume.zfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.volume.FileTree;
import dev.flocker.volume.SnapshotName;
import dev.flocker.volume.VolumeException;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class ZfsVolumeDriverTest {
    private static final long MIB = 1 << 20;
    private static final NodeId NODE = NodeId.of("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f");
    private static TestPool pool;
    private static ZfsVolumeDriver driver;

    @BeforeAll
    static void createPool() {
        pool = TestPool.create("ft-driver", 2L << 30);
        driver = pool.driver();
    }

    @AfterAll
    static void destroyPool() {
        pool.close();
    }

    @Test
    void createsAWritableMountedDatasetWithItsLimitAndOwnerRecordedInZfs() throws IOException {
        var id = DatasetId.random();
        var volume = driver.create(id, 128 * MIB, NODE);
        assertThat(volume.mounted()).isTrue();
        assertThat(volume.readOnly()).isFalse();
        assertThat(volume.maximumSize()).isEqualTo(128 * MIB);
        assertThat(volume.owner()).isEqualTo(NODE);
        assertThat(volume.mountpoint()).isEqualTo(pool.mountRoot().resolve(id.toString()));
        Files.writeString(volume.mountpoint().resolve("hello"), "world");
        // A fresh driver (a restarted agent) sees the same from ZFS alone.
        var again = pool.driver().get(id).orElseThrow();
        assertThat(again.owner()).isEqualTo(NODE);
        assertThat(again.maximumSize()).isEqualTo(128 * MIB);
        driver.setOwner(id, NODE, 7);
        assertThat(pool.driver().get(id).orElseThrow().generation()).isEqualTo(7);
        assertThat(zfsGet(id, "flocker:owner")).as("owner and generation in one property, one zfs call").isEqualTo(NODE + "@7");
        driver.destroy(id);
    }

    @Test
    void aCopyWrittenBeforeOwnerAndGenerationWereOnePropertyIsReadAndRewrittenInTheNewForm() {
        var id = DatasetId.random();
        driver.create(id, null, NODE);
        var name = pool.name() + "/" + id;
        var other = NodeId.of("7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
        new ZfsCommand().zfs("set", "flocker:owner=" + other, name); // as an agent of the previous version left it
        new ZfsCommand().zfs("set", "flocker:generation=12", name);
        var old = pool.driver().get(id).orElseThrow();
        assertThat(old.owner()).isEqualTo(other);
        assertThat(old.generation()).isEqualTo(12);
        driver.setOwner(id, NODE, 13);
        var now = pool.driver().get(id).orElseThrow();
        assertThat(now.owner()).isEqualTo(NODE);
        assertThat(now.generation()).isEqualTo(13);
        assertThat(zfsGet(id, "flocker:owner")).isEqualTo(NODE + "@13");
        driver.destroy(id);
    }

    private static String zfsGet(DatasetId id, String property) {
        return new ZfsCommand().zfs("get", "-H", "-o", "value", property, pool.name() + "/" + id).strip();
    }

    @Test
    void writingPastMaximumSizeFailsInTheFilesystem() {
        var id = DatasetId.random();
        var volume = driver.create(id, 64 * MIB, NODE);
        assertThatThrownBy(() -> FileTree.writeRandom(volume.mountpoint().resolve("big"), 100 * MIB, 1))
                .hasRootCauseInstanceOf(IOException.class)
                .rootCause().hasMessageContaining("quota");
        driver.destroy(id);
    }

    @Test
    void resizeGrowsAndRefusesToShrinkBelowWhatIsUsed() {
        var id = DatasetId.random();
        var volume = driver.create(id, 64 * MIB, NODE);
        FileTree.writeRandom(volume.mountpoint().resolve("data"), 40 * MIB, 2);
        driver.snapshot(id); // flushes, so referenced counts the data
        assertThat(driver.resize(id, 256 * MIB).maximumSize()).isEqualTo(256 * MIB);
        assertThatThrownBy(() -> driver.resize(id, 34 * MIB))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maximum_size");
        // 64 MiB is valid as a size, but the dataset holds ~40 MiB: fine. Below its use is refused:
        FileTree.writeRandom(volume.mountpoint().resolve("more"), 40 * MIB, 3);
        driver.snapshot(id);
        assertThatThrownBy(() -> driver.resize(id, 64 * MIB))
                .isInstanceOf(VolumeException.class).hasMessageContaining("cannot shrink dataset " + id);
        assertThat(driver.get(id).orElseThrow().maximumSize()).isEqualTo(256 * MIB);
        assertThat(driver.resize(id, null).maximumSize()).isNull();
        driver.destroy(id);
    }

    @Test
    void destroyRemovesTheDatasetWithItsSnapshotsAndIsIdempotent() throws IOException {
        var id = DatasetId.random();
        var volume = driver.create(id, null, NODE);
        Files.writeString(volume.mountpoint().resolve("f"), "x");
        driver.snapshot(id);
        driver.snapshot(id);
        driver.destroy(id);
        assertThat(driver.get(id)).isEmpty();
        driver.destroy(id);
        assertThat(driver.list()).noneMatch(v -> v.id().equals(id));
    }

    @Test
    void listsAHundredDatasetsWithTheirSnapshotsInOneZfsCall() {
        var ids = new java.util.ArrayList<DatasetId>();
        for (int i = 0; i < 100; i++) {
            var id = DatasetId.random();
            driver.create(id, null, NODE);
            ids.add(id);
        }
        driver.snapshot(ids.get(0));
        long before = driver.commands().invocations();
        var volumes = driver.list();
        assertThat(driver.commands().invocations() - before).isEqualTo(1);
        assertThat(volumes).extracting(v -> v.id()).containsAll(ids);
        assertThat(volumes.stream().filter(v -> v.id().equals(ids.get(0))).findFirst().orElseThrow().snapshots()).hasSize(1);
        ids.forEach(driver::destroy);
    }

    @Test
    void snapshotsSortByCreationAndPruningKeepsTheNewestAndTheProtectedOnes() {
        var id = DatasetId.random();
        driver.create(id, null, NODE);
        var names = new java.util.ArrayList<String>();
        for (int i = 0; i < 5; i++) {
            names.add(driver.snapshot(id).name());
        }
        assertThat(names).isSorted().allMatch(SnapshotName::isOurs);
        assertThat(driver.get(id).orElseThrow().snapshots()).extracting(s -> s.name()).containsExactlyElementsOf(names);
        var destroyed = driver.pruneSnapshots(id, Set.of(names.get(1)), 2);
        assertThat(destroyed).containsExactly(names.get(0), names.get(2));
        assertThat(driver.get(id).orElseThrow().snapshots()).extracting(s -> s.name())
                .containsExactly(names.get(1), names.get(3), names.get(4));
        driver.destroy(id);
    }

    @Test
    void streamsRoundTripIntoAReadOnlyUnmountedReplicaThatCanBeMadeWritable() throws Exception {
        var source = DatasetId.random();
        var volume = driver.create(source, null, NODE);
        FileTree.writeRandom(volume.mountpoint().resolve("a/b.bin"), 3 * MIB, 4);
        var first = driver.snapshot(source);
        // Receive under another id in the same pool: a stand-in for a second host, without SSH.
        var replica = DatasetId.random();
        pipe(source, Optional.empty(), first, replica);
        var received = driver.get(replica).orElseThrow();
        assertThat(received.mounted()).isFalse();
        assertThat(received.readOnly()).isTrue();
        assertThat(received.snapshots()).extracting(s -> s.guid()).containsExactly(first.guid());

        FileTree.writeRandom(volume.mountpoint().resolve("c.bin"), MIB, 5);
        var second = driver.snapshot(source);
        pipe(source, Optional.of(first), second, replica);
        assertThat(driver.get(replica).orElseThrow().latestSnapshot().orElseThrow().guid()).isEqualTo(second.guid());

        var writable = driver.makeWritable(replica);
        assertThat(writable.mounted()).isTrue();
        assertThat(writable.readOnly()).isFalse();
        assertThat(FileTree.checksum(writable.mountpoint())).isEqualTo(FileTree.checksum(volume.mountpoint()));
        driver.makeReplica(replica);
        var again = driver.get(replica).orElseThrow();
        assertThat(again.mounted()).isFalse();
        assertThat(again.readOnly()).isTrue();
        assertThat(again.mountpoint()).as("a former writable copy keeps its mountpoint").isEqualTo(writable.mountpoint());
        FileTree.writeRandom(volume.mountpoint().resolve("d.bin"), MIB, 6);
        var third = driver.snapshot(source);
        pipe(source, Optional.of(second), third, replica);
        assertThat(driver.get(replica).orElseThrow().mounted()).as("an increment does not mount it (canmount=noauto)").isFalse();
        driver.prepareMount(replica); // coming back here: one call
        var prepared = driver.get(replica).orElseThrow();
        assertThat(prepared.mounted()).isFalse();
        assertThat(prepared.readOnly()).isFalse();
        var back = driver.makeWritable(replica);
        assertThat(back.mounted()).isTrue();
        assertThat(FileTree.checksum(back.mountpoint())).isEqualTo(FileTree.checksum(volume.mountpoint()));
        // Prepared (readonly=off while unmounted), it is only mounted: and written.
        java.nio.file.Files.writeString(back.mountpoint().resolve("back.txt"), "written where it came back");
        assertThat(driver.get(replica).orElseThrow().readOnly()).isFalse();
        driver.destroy(source);
        driver.destroy(replica);
    }

    /**
     * A copy set aside after a failover keeps what it holds even when the new line's increment is received into it: zfs-fuse
     * once received one, sent to the old name just after the rename, into the copy set aside, and `zfs recv -F` rolled it
     * back to the last common snapshot. The set-aside's own snapshot makes such a receive fail.
     */
    @Test
    void aCopySetAsideRefusesTheNewLinesIncrementAndKeepsItsWrites() throws Exception {
        var primary = DatasetId.random();
        var volume = driver.create(primary, null, NODE);
        Files.writeString(volume.mountpoint().resolve("common"), "both lines");
        var common = driver.snapshot(primary);
        var old = DatasetId.random();
        pipe(primary, Optional.empty(), common, old);
        var diverged = driver.makeWritable(old);
        Files.writeString(diverged.mountpoint().resolve("diverged"), "only the old line");
        Files.writeString(volume.mountpoint().resolve("new"), "only the new line");
        var next = driver.snapshot(primary);

        var name = driver.setAside(old, "diverged-g0");
        var receive = new ProcessBuilder("sh", "-c", "zfs send -i " + pool.name() + "/" + primary + "@" + common.name() + " "
                + pool.name() + "/" + primary + "@" + next.name() + " | zfs recv -F " + name).redirectErrorStream(true).start();
        var said = new String(receive.getInputStream().readAllBytes());
        assertThat(receive.waitFor()).as("the new line's increment into the copy set aside: %s", said).isNotZero();

        var at = Files.createTempDirectory("set-aside");
        new ZfsCommand().zfs("set", "mountpoint=" + at, name);
        try {
            if (!Files.exists(at.resolve("common"))) {
                new ZfsCommand().zfs("mount", name);
            }
            assertThat(at.resolve("diverged")).as("the old line's writes are kept").hasContent("only the old line");
            assertThat(at.resolve("new")).doesNotExist();
        } finally {
            new ZfsCommand().zfs("unmount", name);
            new ZfsCommand().zfs("destroy", "-r", name);
            Files.deleteIfExists(at);
        }
        driver.destroy(primary);
    }

    @Test
    void aPreparedReplicaReceivesUnmountedReadOnlyAndIsMadeWritableByAMount() throws Exception {
        var source = DatasetId.random();
        var volume = driver.create(source, null, NODE);
        FileTree.writeRandom(volume.mountpoint().resolve("a.bin"), MIB, 7);
        var first = driver.snapshot(source);
        var replica = DatasetId.random();
        pipe(source, Optional.empty(), first, replica);

        driver.prepareMount(replica);
        var prepared = driver.get(replica).orElseThrow();
        assertThat(prepared.mountpoint()).isEqualTo(driver.mountpoint(replica));
        assertThat(prepared.mounted()).as("a prepared replica is not mounted").isFalse();
        assertThat(prepared.readOnly()).as("a mount is all it takes to make it writable").isFalse();
        driver.prepareMount(replica); // idempotent

        // The handoff's fence: frozen (mounted, read-only in the kernel), nothing else changed; idempotent.
        FileTree.writeRandom(volume.mountpoint().resolve("b.bin"), MIB, 8);
        driver.freeze(source);
        driver.freeze(source);
        var fenced = driver.get(source).orElseThrow();
        assertThat(fenced.mounted()).isTrue();
        assertThat(fenced.readOnly()).as("discovery sees a frozen copy as mounted read-only").isTrue();
        assertThat(fenced.mountpoint()).isEqualTo(volume.mountpoint());
        assertThat(fenced.owner()).isEqualTo(NODE);
        assertThatThrownBy(() -> java.nio.file.Files.writeString(volume.mountpoint().resolve("late.txt"), "after the fence"))
                .as("nothing writes a frozen copy").isInstanceOf(IOException.class).hasMessageContaining("Read-only file system");
        var last = driver.snapshot(source);
        pipe(source, Optional.of(first), last, replica);
        assertThat(driver.get(replica).orElseThrow().mounted()).as("an increment does not mount a prepared replica").isFalse();

        var writable = driver.makeWritable(replica);
        assertThat(writable.mounted()).isTrue();
        assertThat(writable.readOnly()).isFalse();
        var seen = driver.get(replica).orElseThrow();
        assertThat(seen.mounted()).isTrue();
        assertThat(seen.readOnly()).isFalse();
        java.nio.file.Files.writeString(seen.mountpoint().resolve("written.txt"), "after the handoff");
        for (var file : java.util.List.of("a.bin", "b.bin", "written.txt")) {
            assertThat(seen.mountpoint().resolve(file)).as("what was written before the fence, and after the handoff").exists();
        }
        assertThat(seen.mountpoint().resolve("late.txt")).doesNotExist();
        driver.destroy(source);
        driver.destroy(replica);
    }

    private static void pipe(DatasetId from, Optional<dev.flocker.volume.Snapshot> base, dev.flocker.volume.Snapshot snapshot,
                             DatasetId to) throws Exception {
        try (var send = driver.send(from, base, snapshot)) {
            var in = new PipedInputStream(1 << 20);
            var out = new PipedOutputStream(in);
            var copy = ZfsCommand.background(() -> {
                try (out) {
                    return send.stream().transferTo(out);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            driver.receive(to, in);
            copy.join();
            send.finish();
        }
    }

    /**
     * zfs-fuse calls a file system with an open file busy, and the kernel refuses a read-only remount while a file is open
     * for writing: the freeze waits for it, briefly at first, and then succeeds; so does the unmount of a replica.
     */
    @Test
    void aFreezeAndAnUnmountWaitWhileAFileIsOpenForWritingAndSucceedOnceItIsNot() throws Exception {
        var id = DatasetId.random();
        var volume = driver.create(id, null, NODE);
        var writer = java.nio.channels.FileChannel.open(volume.mountpoint().resolve("open.bin"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        try (var reader = java.nio.channels.FileChannel.open(volume.mountpoint().resolve("open.bin"))) {
            assertThat(OpenWriters.on(volume.mountpoint(), 5)).as("what the log names when the freeze is busy: the writer, not the reader")
                    .containsExactly(ProcessHandle.current().pid() + " (java) " + volume.mountpoint().resolve("open.bin"));
        }
        var held = closedIn(300, writer);
        driver.freeze(id);
        held.join();
        assertThat(driver.get(id).orElseThrow().readOnly()).as("the freeze went through only after the file was closed").isTrue();

        // A frozen copy wanted writable here again (a handoff interrupted, then cancelled): writable, mounted where it was.
        var writable = driver.makeWritable(id);
        assertThat(writable.readOnly()).isFalse();
        assertThat(driver.get(id).orElseThrow().readOnly()).isFalse();
        java.nio.file.Files.writeString(volume.mountpoint().resolve("again.txt"), "writable again");

        held = closedIn(300, java.nio.channels.FileChannel.open(volume.mountpoint().resolve("again.txt"), java.nio.file.StandardOpenOption.WRITE));
        driver.freeze(id);
        held.join();
        var replica = driver.makeReplica(id);
        assertThat(replica.mounted()).as("a frozen copy made a replica is unmounted").isFalse();
        assertThat(replica.readOnly()).isTrue();
        driver.destroy(id);
    }

    /** Closes {@code channel} after {@code millis}, on a thread of its own. */
    private static Thread closedIn(long millis, java.nio.channels.FileChannel channel) {
        return Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(millis);
                channel.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void busyWaitsStartShortAndStillAddUpToSeconds() {
        assertThat(ZfsVolumeDriver.busyWaitMillis(1)).isEqualTo(10);
        long total = 0;
        for (int attempt = 1; attempt < 20; attempt++) {
            assertThat(ZfsVolumeDriver.busyWaitMillis(attempt + 1)).isGreaterThan(ZfsVolumeDriver.busyWaitMillis(attempt));
            total += ZfsVolumeDriver.busyWaitMillis(attempt);
        }
        assertThat(total).as("patience over the 20 attempts, ms").isGreaterThan(15_000);
    }

    @Test
    void badInputIsRefusedWithTheValueNamedAndNothingChanges() {
        var before = driver.list();
        var id = DatasetId.random();
        assertThatThrownBy(() -> driver.create(id, -1L, NODE)).hasMessageContaining("maximum_size -1");
        assertThatThrownBy(() -> driver.create(id, 1L << 62, NODE)).hasMessageContaining("maximum_size " + (1L << 62));
        assertThatThrownBy(() -> driver.create(id, 1000L, NODE)).hasMessageContaining("64 MiB");
        assertThatThrownBy(() -> DatasetId.of("x; rm -rf /")).hasMessageContaining("'x; rm -rf /'");
        assertThatThrownBy(() -> DatasetId.of("../../etc")).hasMessageContaining("not a version-4 UUID");
        assertThatThrownBy(() -> driver.resize(id, 128 * MIB)).hasMessageContaining(id + " does not exist");
        assertThatThrownBy(() -> driver.snapshot(id)).isInstanceOf(ZfsException.class).hasMessageContaining(id.toString());
        assertThatThrownBy(() -> ZfsVolumeDriver.open(ZfsConfig.existingPool("no-such-pool", Path.of("/flocker"))))
                .hasMessageContaining("ZFS pool 'no-such-pool' does not exist");
        assertThatThrownBy(() -> ZfsConfig.existingPool("tank; reboot", Path.of("/flocker"))).hasMessageContaining("'tank; reboot'");
        assertThatThrownBy(() -> ZfsConfig.existingPool("tank", Path.of("relative"))).hasMessageContaining("'relative'");
        assertThatThrownBy(() -> SnapshotName.requireValidComponent("a@b")).hasMessageContaining("'a@b'");
        assertThatThrownBy(() -> driver.pruneSnapshots(id, Set.of(), 0)).hasMessageContaining("keepNewest 0");
        var existing = driver.create(id, null, NODE);
        assertThatThrownBy(() -> driver.create(id, null, NODE)).hasMessageContaining(id + " already exists");
        driver.destroy(existing.id());
        assertThat(driver.list()).isEqualTo(before);
    }
}
