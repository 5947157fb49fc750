package dev.flocker.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class VolumeSizeTest {
    @ParameterizedTest
    @CsvSource({
        "10GiB, 10737418240", "10g, 10737418240", "10G, 10737418240", "512M, 536870912", "512MiB, 536870912",
        "1TB, 1000000000000", "2.5G, 2684354560", "67108864, 67108864", "100MB, 100000768", "1 TiB, 1099511627776",
        "65537K, 67109888"})
    void parsesBytesAndUnits(String text, long bytes) {
        assertThat(VolumeSize.parse(text)).isEqualTo(bytes);
        assertThat(bytes % 1024).as("whole KiB").isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "lots", "10 gigs", "-5G", "1.2.3G", "G", "0x100", "10GiBs", "1e9"})
    void refusesWhatIsNotASize(String text) {
        assertThatThrownBy(() -> VolumeSize.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a size").hasMessageContaining("10GiB");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1M", "63MiB", "1000", "0"})
    void refusesWhatIsBelowTheApiMinimum(String text) {
        assertThatThrownBy(() -> VolumeSize.parse(text)).hasMessageContaining("below the minimum of 64MiB");
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999T", "9999999999999999999999"})
    void refusesWhatIsTooLarge(String text) {
        assertThatThrownBy(() -> VolumeSize.parse(text)).hasMessageContaining("too large");
    }
}
