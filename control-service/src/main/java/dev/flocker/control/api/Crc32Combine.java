package dev.flocker.control.api;

/**
 * CRC-32 (the gzip polynomial) of two texts joined, from the CRC of each and the second's length, as zlib's
 * {@code crc32_combine} does it (multiplying by x^(8 * length) modulo the polynomial). The JDK has no such call; it lets
 * {@link DatasetBlocks} keep each block's CRC and close a gzip answer without reading the whole 18 MB list again per
 * version.
 */
final class Crc32Combine {
    private Crc32Combine() {}

    /** The polynomial, reflected. */
    private static final int POLY = 0xedb88320;
    /** x^0, reflected: the {@link #shift} of no bytes. */
    static final int NO_SHIFT = 1 << 31;
    /** x^(2^n) modulo the polynomial, reflected. */
    private static final int[] X2N = new int[32];

    static {
        int p = 1 << 30; // x^1
        X2N[0] = p;
        for (int n = 1; n < 32; n++) {
            X2N[n] = p = multiply(p, p);
        }
    }

    /** The CRC-32 of A followed by B, given CRC-32(A), CRC-32(B) and B's length in bytes. */
    static int combine(int crcA, int crcB, long lengthB) {
        return combineShifted(crcA, crcB, shift(lengthB));
    }

    /** What {@link #combineShifted} takes for a B of {@code length} bytes: kept with B, it spares most of the work. */
    static int shift(long length) {
        return x2n(length, 3);
    }

    /** As {@link #combine}, with B's length given as {@link #shift}{@code (lengthB)}. */
    static int combineShifted(int crcA, int crcB, int shiftB) {
        return multiply(shiftB, crcA) ^ crcB;
    }

    /** The {@link #shift} of A followed by B, from the shift of each. */
    static int joinShifts(int shiftA, int shiftB) {
        return multiply(shiftA, shiftB);
    }

    /**
     * The CRC-32 of a row of texts, any one of which can be replaced: a binary tree whose every node holds the CRC and
     * {@link #shift} of the texts under it, so a replacement folds {@code 2 log2(n)} products again, not the whole row.
     * An empty place holds the empty text (CRC 0, {@link #NO_SHIFT}).
     */
    static final class Tree {
        /** The places, a power of two; node 1 is the root, node {@code size + i} place i. */
        private final int size;
        private final int[] crc;
        private final int[] shift;

        Tree(int places) {
            int size = 1;
            while (size < places) {
                size <<= 1;
            }
            this.size = size;
            crc = new int[2 * size];
            shift = new int[2 * size];
            java.util.Arrays.fill(shift, NO_SHIFT);
        }

        /** Place {@code i} holds a text of this CRC and {@link #shift}; the nodes above it are not folded until {@link #fold}. */
        void put(int i, int crcOfText, int shiftOfText) {
            crc[size + i] = crcOfText;
            shift[size + i] = shiftOfText;
        }

        /** Folds every node again (after {@link #put}s). */
        void fold() {
            for (int node = size - 1; node >= 1; node--) {
                join(node);
            }
        }

        /** As {@link #put} and folds the nodes above place {@code i} only. */
        void replace(int i, int crcOfText, int shiftOfText) {
            put(i, crcOfText, shiftOfText);
            for (int node = (size + i) >> 1; node >= 1; node >>= 1) {
                join(node);
            }
        }

        private void join(int node) {
            int left = 2 * node;
            int right = left + 1;
            crc[node] = combineShifted(crc[left], crc[right], shift[right]);
            shift[node] = multiply(shift[left], shift[right]);
        }

        /** The CRC-32 of all the texts in a row. */
        int crc() {
            return crc[1];
        }

        /** The {@link #shift} of all the texts in a row. */
        int shift() {
            return shift[1];
        }
    }

    /** a times b modulo the polynomial (both reflected). */
    private static int multiply(int a, int b) {
        int m = 1 << 31;
        int p = 0;
        while (true) {
            if ((a & m) != 0) {
                p ^= b;
                if ((a & (m - 1)) == 0) {
                    break;
                }
            }
            m >>>= 1;
            b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
        }
        return p;
    }

    /** x^(n * 2^k) modulo the polynomial. */
    private static int x2n(long n, int k) {
        int p = 1 << 31; // x^0
        while (n != 0) {
            if ((n & 1) != 0) {
                p = multiply(X2N[k & 31], p);
            }
            n >>>= 1;
            k++;
        }
        return p;
    }
}
