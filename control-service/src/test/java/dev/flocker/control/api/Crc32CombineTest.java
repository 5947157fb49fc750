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

    @Test
    void aTreeOfPartsGivesTheRowsCrcAfterAnyPartIsReplaced() {
        var random = new Random(5);
        int places = 37; // not a power of two: the tree's last places hold nothing
        var row = new byte[places][];
        var tree = new Crc32Combine.Tree(places);
        for (int i = 0; i < places; i++) {
            row[i] = new byte[random.nextInt(3000)];
            random.nextBytes(row[i]);
            tree.put(i, crc(row[i], 0, row[i].length), Crc32Combine.shift(row[i].length));
        }
        tree.fold();
        assertThat(tree.crc()).isEqualTo(crcOfRow(row));
        for (int round = 0; round < 200; round++) {
            int i = random.nextInt(places);
            row[i] = new byte[round % 10 == 0 ? 0 : random.nextInt(3000)]; // some emptied
            random.nextBytes(row[i]);
            tree.replace(i, crc(row[i], 0, row[i].length), Crc32Combine.shift(row[i].length));
            assertThat(tree.crc()).as("after round %d", round).isEqualTo(crcOfRow(row));
        }
        // The row's shift is its whole length's: the row's CRC joins another text's as the row written out after it.
        var all = new java.io.ByteArrayOutputStream();
        all.write('[');
        for (var part : row) {
            all.writeBytes(part);
        }
        var bytes = all.toByteArray();
        assertThat(Crc32Combine.combineShifted(crc(bytes, 0, 1), tree.crc(), tree.shift())).isEqualTo(crc(bytes, 0, bytes.length));
        assertThat(new Crc32Combine.Tree(0).crc()).as("no text").isZero();
    }

    private static int crcOfRow(byte[][] row) {
        var crc = new CRC32();
        for (var part : row) {
            crc.update(part);
        }
        return (int) crc.getValue();
    }
}
