package dev.flocker.control.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class Crc32CombineTest {
    private static int crc(byte[] bytes, int from, int length) {
        var crc = new CRC32();
        crc.update(bytes, from, length);
        return (int) crc.getValue();
    }

    @Test
    void theCombinationOfTwoPartsIsTheCrcOfBothJoined() {
        var random = new Random(17);
        var text = new byte[300_000];
        random.nextBytes(text);
        for (int cut : new int[] {0, 1, 2, 7, 8, 255, 4096, 65_537, 299_999, 300_000}) {
            int joined = Crc32Combine.combine(crc(text, 0, cut), crc(text, cut, text.length - cut), text.length - cut);
            assertThat(joined).as("cut at %d", cut).isEqualTo(crc(text, 0, text.length));
        }
    }

    @Test
    void manyPartsFoldedLeftToRightGiveTheWholeTextsCrc() {
        var random = new Random(42);
        var text = new byte[1 << 20];
        random.nextBytes(text);
        int crc = 0; // the CRC-32 of nothing
        int at = 0;
        while (at < text.length) {
            int length = Math.min(text.length - at, random.nextInt(20_000));
            crc = Crc32Combine.combine(crc, crc(text, at, length), length);
            at += length;
        }
        assertThat(crc).isEqualTo(crc(text, 0, text.length));
    }
}
