package dev.flocker.control.api;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.control.store.ConfigurationChange;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.pcollections.TreePMap;

/**
 * The dataset list as blocks kept between versions: each block (the datasets whose ids start with the same 10 bits,
 * about 100 of 100,000) as JSON and as a deflate segment of its own. A new version re-renders and re-compresses only
 * the blocks its changes touch; the gzip answer is the blocks' segments joined, as pigz joins its parallel pieces: each
 * segment is compressed by a fresh (reset) compressor and ends on a byte boundary (a sync flush), so their
 * concatenation is one valid deflate stream, closed by an empty final block, with the gzip header and the CRC-32 and
 * length of the whole text.
 * Not thread-safe: {@link RenderedViews} renders under its lock.
 */
final class DatasetBlocks {
    static final int BLOCKS = 1024;
    private static final byte[] OPEN = {'['};
    private static final byte[] COMMA = {','};
    private static final byte[] CLOSE = {']'};
    private static final byte[] OPEN_DEFLATED = deflate(OPEN);
    private static final byte[] COMMA_DEFLATED = deflate(COMMA);
    private static final byte[] CLOSE_DEFLATED = deflate(CLOSE);
    private static final int OPEN_CRC = crc(OPEN);
    private static final int COMMA_CRC = crc(COMMA);
    private static final int COMMA_SHIFT = Crc32Combine.shift(COMMA.length);
    private static final int CLOSE_CRC = crc(CLOSE);
    /** An empty final block with fixed codes: the end of the deflate stream. */
    private static final byte[] FINAL = {0x03, 0x00};
    private static final byte[] GZIP_HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final byte[][] raw = new byte[BLOCKS][];
    private final byte[][] deflated = new byte[BLOCKS][];
    /** The CRC-32 of each block's JSON. */
    private final int[] crcs = new int[BLOCKS];
    /** Each block's length as {@link Crc32Combine#shift}: a version folds 1,024 CRCs, most of them unchanged. */
    private final int[] shifts = new int[BLOCKS];
    private Configuration shown;
    /** A zlib stream's set-up (its tables) costs as much as compressing a block: one, reset for each block. */
    private final Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
    private final byte[] deflateBuffer = new byte[1 << 16];

    /** The list of {@code config}'s datasets, each as {@code json} gives it. */
    RawJson render(Configuration config, Function<Dataset, byte[]> json) {
        return render(config, json, (from, to) -> null);
    }

    /** The datasets changed between two versions, or null when not known. */
    interface Changes {
        java.util.Set<DatasetId> between(long from, long to);
    }

    /** As {@link #render(Configuration, Function)}; {@code changes} spares comparing the whole list with the last one. */
    RawJson render(Configuration config, Function<Dataset, byte[]> json, Changes changes) {
        var dirty = new boolean[BLOCKS];
        var known = shown == null ? null : changes.between(shown.version(), config.version());
        if (shown == null) {
            java.util.Arrays.fill(dirty, true);
        } else if (known != null) {
            known.forEach(id -> dirty[block(id)] = true);
        } else {
            ConfigurationChange.diff(shown.datasets(), config.datasets(), (id, d) -> dirty[block(id)] = true, id -> dirty[block(id)] = true);
        }
        var datasets = (TreePMap<DatasetId, Dataset>) config.datasets();
        for (int b = 0; b < BLOCKS; b++) {
            if (!dirty[b]) {
                continue;
            }
            var range = b == BLOCKS - 1 ? datasets.tailMap(lowest(b), true) : datasets.subMap(lowest(b), true, lowest(b + 1), false);
            var out = new ByteArrayOutputStream(range.size() * 200 + 16);
            boolean first = true;
            for (var dataset : range.values()) {
                if (!first) {
                    out.write(',');
                }
                out.writeBytes(json.apply(dataset));
                first = false;
            }
            raw[b] = out.toByteArray();
            deflated[b] = raw[b].length == 0 ? new byte[0] : deflate(deflater, raw[b], deflateBuffer);
            crcs[b] = crc(raw[b]);
            shifts[b] = Crc32Combine.shift(raw[b].length);
        }
        shown = config;

        // The text's parts, and the gzip answer's parts: header, the blocks' segments, the end and the trailer. The CRC of
        // the whole text is folded from each part's, so a version reads none of the unchanged blocks again.
        var parts = new ArrayList<byte[]>(BLOCKS * 2 + 2);
        var gzip = new ArrayList<byte[]>(BLOCKS * 2 + 5);
        gzip.add(GZIP_HEADER);
        parts.add(OPEN);
        gzip.add(OPEN_DEFLATED);
        int crc = Crc32Combine.combine(0, OPEN_CRC, OPEN.length);
        long length = OPEN.length;
        boolean first = true;
        for (int b = 0; b < BLOCKS; b++) {
            if (raw[b].length == 0) {
                continue;
            }
            if (!first) {
                parts.add(COMMA);
                gzip.add(COMMA_DEFLATED);
                crc = Crc32Combine.combineShifted(crc, COMMA_CRC, COMMA_SHIFT);
                length += COMMA.length;
            }
            parts.add(raw[b]);
            gzip.add(deflated[b]);
            crc = Crc32Combine.combineShifted(crc, crcs[b], shifts[b]);
            length += raw[b].length;
            first = false;
        }
        parts.add(CLOSE);
        gzip.add(CLOSE_DEFLATED);
        crc = Crc32Combine.combine(crc, CLOSE_CRC, CLOSE.length);
        length += CLOSE.length;
        gzip.add(FINAL);
        gzip.add(new byte[] {(byte) crc, (byte) (crc >>> 8), (byte) (crc >>> 16), (byte) (crc >>> 24),
                (byte) length, (byte) (length >>> 8), (byte) (length >>> 16), (byte) (length >>> 24)});
        return new RawJson(List.copyOf(parts), length, List.copyOf(gzip));
    }

    /** The block of {@code id}: the first 10 bits of its (lower-case hex) value. */
    static int block(DatasetId id) {
        return Integer.parseInt(id.value().substring(0, 3), 16) >> 2;
    }

    /** The smallest version-4 id of block {@code b}. */
    private static DatasetId lowest(int b) {
        return DatasetId.of(String.format("%03x00000-0000-4000-8000-000000000000", b << 2));
    }

    /** {@code bytes} compressed on their own and flushed to a byte boundary, not finished: a piece of a longer stream. */
    static byte[] deflate(byte[] bytes) {
        var deflater = new Deflater(Deflater.BEST_SPEED, true);
        try {
            return deflate(deflater, bytes, new byte[1 << 16]);
        } finally {
            deflater.end();
        }
    }

    /** As {@link #deflate(byte[])}, with a compressor (reset first) and a buffer used again for every block. */
    private static byte[] deflate(Deflater deflater, byte[] bytes, byte[] buffer) {
        deflater.reset();
        deflater.setInput(bytes);
        var out = new ByteArrayOutputStream(bytes.length / 4 + 64);
        int n;
        do {
            n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
            out.write(buffer, 0, n);
        } while (n == buffer.length);
        return out.toByteArray();
    }

    private static int crc(byte[] bytes) {
        var crc = new CRC32();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
