package dev.flocker.volume.zfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountTableTest {
    private static final MountTable TABLE = new MountTable(List.of(
            "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
            "51 27 0:41 / /var/lib/flocker/aaaa rw,relatime shared:30 - fuse.zfs pool/flocker/aaaa rw,user_id=0,group_id=0,allow_other",
            "52 27 0:42 / /mnt/with\\040space rw,relatime - zfs tank/flocker/bbbb rw,xattr",
            "53 27 0:43 / /var/lib/flocker/cccc rw,relatime - ext4 /dev/sda1 rw"));

    @Test
    void findsADatasetMountedAtItsPathWhateverTheOptionalFields() {
        assertThat(TABLE.mounts("pool/flocker/aaaa", Path.of("/var/lib/flocker/aaaa"))).isTrue();
        assertThat(TABLE.mounts("tank/flocker/bbbb", Path.of("/mnt/with space"))).as("octal escapes").isTrue();
    }

    @Test
    void anotherDatasetAnotherPathOrAnotherFileSystemTypeIsNotIt() {
        assertThat(TABLE.mounts("pool/flocker/aaaa", Path.of("/var/lib/flocker/other"))).isFalse();
        assertThat(TABLE.mounts("pool/flocker/zzzz", Path.of("/var/lib/flocker/aaaa"))).isFalse();
        assertThat(TABLE.mounts("/dev/sda1", Path.of("/var/lib/flocker/cccc"))).as("not a ZFS mount").isFalse();
    }

    @Test
    void unescapesOnlyOctalEscapes() {
        assertThat(MountTable.unescape("a\\040b\\134c")).isEqualTo("a b\\c");
        assertThat(MountTable.unescape("end\\04")).isEqualTo("end\\04");
        assertThat(MountTable.unescape("plain")).isEqualTo("plain");
    }
}
