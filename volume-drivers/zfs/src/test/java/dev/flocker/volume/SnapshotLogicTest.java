package dev.flocker.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SnapshotLogicTest {
    @Test
    void generatedNamesStrictlyIncreaseAndAreRecognisedAsOurs() {
        var names = new ArrayList<String>();
        for (int i = 0; i < 10_000; i++) {
            names.add(SnapshotName.next());
        }
        assertThat(names).isSorted().doesNotHaveDuplicates().allMatch(SnapshotName::isOurs);
        assertThat(SnapshotName.isOurs("manual-backup")).isFalse();
    }

    @Test
    void snapshotNamesCannotCarryShellPathOrZfsSeparators() {
        for (var bad : List.of("", "a b", "a/b", "a@b", "-rf", "$(x)", "a;b", "x".repeat(201))) {
            assertThatThrownBy(() -> SnapshotName.requireValidComponent(bad)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(SnapshotName.requireValidComponent("fl-20261122T000259.123456Z")).isNotNull();
    }

    @Test
    void latestCommonSnapshotIsTheNewestOfMineWhoseGuidTheyHold() {
        var a = new Snapshot("a", "1", 10);
        var b = new Snapshot("b", "2", 20);
        var c = new Snapshot("c", "3", 30);
        assertThat(Snapshot.latestCommon(List.of(a, b, c), List.of(a, b))).contains(b);
        assertThat(Snapshot.latestCommon(List.of(a, b, c), List.of(new Snapshot("a", "1", 99)))).contains(a);
        assertThat(Snapshot.latestCommon(List.of(a, b, c), List.of())).isEmpty();
        // Same name, different content (guid): not common.
        assertThat(Snapshot.latestCommon(List.of(a, b), List.of(new Snapshot("b", "999", 20)))).isEmpty();
    }
}
