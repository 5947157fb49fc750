package dev.flocker.volume.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.api.model.DatasetId;
import org.junit.jupiter.api.Test;

/**
 * What a handoff's final increment reads from the peer's {@code zfs get} ({@link RemoteZfs#arrived}), as a pure function of
 * its output; {@code ShippingTest} gets the same output from real peers through the forced command.
 */
class PeerMountTest {
    static final DatasetId ID = DatasetId.random();
    static final String DATASET = "fl-x-n2/" + ID;
    static final String SNAPSHOT = "fl-20261205T060000.000000Z";

    static String output(String canmount, String mountpoint, String readonly, String mounted) {
        return String.join("\n", DATASET + "@" + SNAPSHOT + "\tguid\t42", DATASET + "\tcanmount\t" + canmount,
                DATASET + "\tmountpoint\t" + mountpoint, DATASET + "\treadonly\t" + readonly, DATASET + "\tmounted\t" + mounted);
    }

    @Test
    void eachStateOfThePeersCopyGivesItsPass() {
        var path = "/var/lib/flocker/" + ID;
        assertThat(RemoteZfs.arrived(DATASET, SNAPSHOT, true, output("noauto", path, "off", "no")).mount()).isEqualTo(RemoteZfs.PeerMount.MOUNT);
        assertThat(RemoteZfs.arrived(DATASET, SNAPSHOT, true, output("noauto", path, "on", "no")).mount())
                .isEqualTo(RemoteZfs.PeerMount.UNLOCK_AND_MOUNT);
        assertThat(RemoteZfs.arrived(DATASET, SNAPSHOT, true, output("on", "none", "on", "no")).mount()).isEqualTo(RemoteZfs.PeerMount.NONE);
        // Frozen (mounted, read-only in the kernel), whatever canmount says: remounted read-write at its mountpoint.
        var frozen = RemoteZfs.arrived(DATASET, SNAPSHOT, true, output("on", path, "on", "yes"));
        assertThat(frozen.mount()).isEqualTo(RemoteZfs.PeerMount.remount(path));
        assertThat(frozen.guid()).isEqualTo("42");
        // Mounted and writable already (an earlier pass landed): nothing to mount.
        assertThat(RemoteZfs.arrived(DATASET, SNAPSHOT, true, output("on", path, "off", "yes")).mount()).isEqualTo(RemoteZfs.PeerMount.NONE);
    }

    @Test
    void aFrozenCopyAtAPathTheForcedCommandWouldRefuseIsLeftToItsOwnAgent() {
        // Not remounted by the pass: it mounts the old way (which fails on a mounted copy) and records the owner alone; the
        // peer's agent then makes its copy writable itself.
        for (var path : new String[] {"/etc", "/var/lib/x/../" + ID, "/var/lib/flocker dir/" + ID, "relative/" + ID}) {
            assertThat(RemoteZfs.arrived(DATASET, SNAPSHOT, true, output("noauto", path, "on", "yes")).mount().kind()).as(path)
                    .isNotEqualTo(RemoteZfs.PeerMount.Kind.REMOUNT);
            assertThatThrownBy(() -> RemoteZfs.PeerMount.remount(path)).as(path).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(path).hasMessageContaining("[A-Za-z0-9_/-]").hasMessageContaining("ending in a dataset id");
        }
    }
}
