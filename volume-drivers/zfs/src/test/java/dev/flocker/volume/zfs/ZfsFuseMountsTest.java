package dev.flocker.volume.zfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On zfs-fuse, the zfs commands that mount run under the machine's mount lock, and the others do not: which commands
 * are wrapped (pure), then a real pool whose create waits while another process holds the lock and whose listing does
 * not.
 */
class ZfsFuseMountsTest {
    static TestPool pool;

    @BeforeAll
    static void pool() {
        pool = TestPool.create("ft-mountlock", 1L << 30);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    @Test
    void commandsThatMountAreWrappedOnZfsFuseOnly() {
        for (var mounting : List.of(List.of("zfs", "create", "p/a"), List.of("zfs", "mount", "p/a"), List.of("zfs", "recv", "-F", "p/a"),
                List.of("zfs", "rollback", "-r", "p/a@s"), List.of("zfs", "rename", "p/a", "p/b"), List.of("zfs", "set", "mountpoint=/m", "p/a"),
                List.of("zfs", "inherit", "mountpoint", "p/a"), List.of("zfs", "set", "canmount=on", "p/a"),
                List.of("zpool", "create", "p", "/f"), List.of("zpool", "import", "p"))) {
            assertThat(ZfsFuseMounts.wrap(mounting, true)).as("%s", mounting)
                    .containsExactlyElementsOf(concat(List.of("flock", ZfsFuseMounts.LOCK), mounting));
            assertThat(ZfsFuseMounts.wrap(mounting, false)).as("%s on OpenZFS", mounting).isEqualTo(mounting);
        }
        for (var other : List.of(List.of("zfs", "snapshot", "p/a@s"), List.of("zfs", "set", "readonly=on", "p/a"),
                List.of("zfs", "set", "flocker:owner=x", "p/a"), List.of("zfs", "get", "-H", "mountpoint", "p/a"), List.of("zfs", "destroy", "-r", "p/a"),
                List.of("zfs", "send", "p/a@s"), List.of("zpool", "list", "p"), List.of("mount", "-o", "remount,rw", "/m"),
                List.of("zfs", "recv", "-F", "-u", "p/a"), List.of("zfs", "receive", "-Fu", "p/a"), List.of("zfs", "set", "mountpoint=none", "p/a"))) {
            assertThat(ZfsFuseMounts.wrap(other, true)).as("%s", other).isEqualTo(other);
        }
    }

    @Test
    void aCreateWaitsForTheMountLockAndAListingDoesNot() throws Exception {
        assertThat(Files.exists(ZfsFuseMounts.SOCKET)).as("these tests run on zfs-fuse").isTrue();
        var zfs = new ZfsCommand();
        // Another process of the machine (another host's agent, a peer's receive) holds the lock for 2 s.
        var holder = new ProcessBuilder("flock", ZfsFuseMounts.LOCK, "sh", "-c", "echo held; sleep 2").start();
        assertThat(new String(holder.getInputStream().readNBytes(5))).isEqualTo("held\n");
        long start = System.nanoTime();
        zfs.zfs("list", "-H", "-o", "name", pool.name());
        long listed = System.nanoTime();
        zfs.zfs("create", "-o", "mountpoint=" + pool.mountRoot().resolve("waited"), pool.name() + "/waited");
        long created = System.nanoTime();
        assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat((listed - start) / 1_000_000).as("a listing does not take the lock").isLessThan(1_500);
        assertThat((created - start) / 1_000_000).as("the create waited for the holder's 2 s").isGreaterThanOrEqualTo(1_500);
        assertThat(zfs.zfs("get", "-H", "-o", "value", "mounted", pool.name() + "/waited").strip()).isEqualTo("yes");
    }

    @Test
    void aReceiveThatDoesNotMountNeitherWaitsForTheLockNorMounts() throws Exception {
        var zfs = new ZfsCommand();
        var source = pool.name() + "/sent";
        zfs.zfs("create", "-o", "mountpoint=" + pool.mountRoot().resolve("sent"), source);
        zfs.zfs("snapshot", source + "@s1");
        var holder = new ProcessBuilder("flock", ZfsFuseMounts.LOCK, "sh", "-c", "echo held; sleep 2").start();
        assertThat(new String(holder.getInputStream().readNBytes(5))).isEqualTo("held\n");
        long start = System.nanoTime();
        // A full stream creates the copy: with -u (as shipping receives), it is not mounted, so it needs no lock.
        var send = zfs.start("send", source + "@s1");
        zfs.zfsWithInput(send.getInputStream(), "recv", "-F", "-u", pool.name() + "/copy");
        assertThat(send.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long received = System.nanoTime();
        assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat((received - start) / 1_000_000).as("a receive with -u does not take the lock").isLessThan(1_500);
        assertThat(zfs.zfs("get", "-H", "-o", "value", "mounted", pool.name() + "/copy").strip()).isEqualTo("no");
        assertThat(Files.readString(java.nio.file.Path.of("/proc/self/mountinfo"))).doesNotContain(" " + pool.name() + "/copy ");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
