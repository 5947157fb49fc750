package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.DatasetId;
import dev.flocker.volume.Volume;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountNamespaceTest {
    static final String MOUNTINFO = """
            22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw
            98 22 0:45 / /var/lib/flocker-lab/x/n1/flocker/aaaaaaaa-0000-4000-8000-000000000001 rw,relatime - fuse fl-x-n1/aaaa rw
            99 22 0:46 / /mnt/with\\040space rw,relatime - fuse pool/b rw
            """;

    static Volume volume(String id, String mountpoint, boolean mounted) {
        return new Volume(DatasetId.of(id), 0, 0, null, mountpoint == null ? null : Path.of(mountpoint), mounted, false, null, 0, List.of());
    }

    @Test
    void readsMountPointsWithTheirEscapesUndone() {
        assertThat(new dev.flocker.volume.zfs.MountTable(MOUNTINFO.lines().toList()).mountPoints()).containsExactlyInAnyOrder("/",
                "/var/lib/flocker-lab/x/n1/flocker/aaaaaaaa-0000-4000-8000-000000000001", "/mnt/with space");
    }

    @Test
    void aDatasetZfsCallsMountedThatThisProcessDoesNotSeeIsFound() {
        var points = new dev.flocker.volume.zfs.MountTable(MOUNTINFO.lines().toList()).mountPoints();
        var seen = volume("aaaaaaaa-0000-4000-8000-000000000001", "/var/lib/flocker-lab/x/n1/flocker/aaaaaaaa-0000-4000-8000-000000000001", true);
        var unmounted = volume("bbbbbbbb-0000-4000-8000-000000000002", "/flocker/b", false);
        var replica = volume("cccccccc-0000-4000-8000-000000000003", null, false);
        assertThat(MountNamespace.unseen(List.of(seen, unmounted, replica), points)).isEmpty();
        var hidden = volume("dddddddd-0000-4000-8000-000000000004", "/flocker/d", true);
        assertThat(MountNamespace.unseen(List.of(seen, hidden), points)).contains(hidden);
    }

    @Test
    void thisTestProcessSeesItsOwnMounts() {
        assertThat(MountNamespace.problem(List.of())).isEmpty();
    }
}
