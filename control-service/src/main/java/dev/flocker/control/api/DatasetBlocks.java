package dev.flocker.control.api;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.control.store.ConfigurationChange;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * The dataset list as blocks kept between versions, grouped by primary (as Flocker's own list was: it walked the
 * deployment node by node) and within a primary by id: each block holds one primary's datasets, at most about
 * {@link #BLOCK_SIZE} of them (a primary with more has them split by the ids' leading bits), as JSON and as a deflate
 * segment of its own. A new version re-renders and re-compresses only the blocks its changes touch; the gzip answer is
 * the blocks' segments joined, as pigz joins its parallel pieces: each segment is compressed by a fresh (reset)
 * compressor and ends on a byte boundary (a sync flush), so their concatenation is one valid deflate stream, closed by an
 * empty final block, with the gzip header and the CRC-32 and length of the whole text.
 * <p>
 * Why by primary: a segment only finds repeats inside itself, and an id is random, so a block of datasets in id order
 * spelled out the primary's 36 characters again for nearly every dataset (1,000 nodes, 100 datasets in a block): at
 * 100,000 datasets the list was 5.3 MB gzipped; with the primary repeated throughout its block it is 3.0 MB.
 * Not thread-safe: {@link RenderedViews} renders under its lock.
 */
final class DatasetBlocks {
    /** About how many datasets a block holds at most (between a quarter of it and twice it, as a primary's count changes). */
    static final int BLOCK_SIZE = 128;
    /** The ids' leading bits a primary's datasets are split by, at most ({@link #block}). */
    private static final int ID_BITS = 10;
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

    /** Some of one primary's datasets (those whose ids start with the same bits), as JSON and deflated. */
    private static final class Block {
        final java.util.TreeSet<DatasetId> ids = new java.util.TreeSet<>();
        boolean dirty = true;
        byte[] raw;
        byte[] deflated;
        int crc;
        /** The JSON's length as {@link Crc32Combine#shift}: a version folds every block's CRC, most of them unchanged. */
        int shift;
    }

    /** One primary's datasets: in blocks by the ids' first {@code bits} bits. */
    private static final class Group {
        int bits;
        int size;
        final java.util.TreeMap<Integer, Block> blocks = new java.util.TreeMap<>();

        void add(DatasetId id) {
            var block = blocks.computeIfAbsent(block(id) >> (ID_BITS - bits), k -> new Block());
            if (block.ids.add(id)) {
                size++;
            }
            block.dirty = true;
        }

        /** Whether it held {@code id}. */
        boolean remove(DatasetId id) {
            var key = block(id) >> (ID_BITS - bits);
            var block = blocks.get(key);
            if (block == null || !block.ids.remove(id)) {
                return false;
            }
            block.dirty = true;
            size--;
            if (block.ids.isEmpty()) {
                blocks.remove(key);
            }
            return true;
        }

        /** Split again when its blocks hold over twice or under a quarter of {@link #BLOCK_SIZE} on average. */
        void resplitIfNeeded() {
            int wanted = bitsAfter(bits, size);
            if (wanted == bits) {
                return;
            }
            var ids = new ArrayList<DatasetId>(size);
            blocks.values().forEach(b -> ids.addAll(b.ids));
            blocks.clear();
            bits = wanted;
            size = 0;
            ids.forEach(this::add);
        }

        /**
         * The bits {@code size} datasets split by {@code bits} are to be split by: {@link #bitsFor} once their blocks hold
         * over twice or under a quarter of {@link #BLOCK_SIZE} on average, else {@code bits} still.
         */
        static int bitsAfter(int bits, int size) {
            int wanted = bitsFor(size);
            return wanted == bits || (wanted > bits ? size <= 2 * BLOCK_SIZE << bits : size >= (BLOCK_SIZE << bits) / 4) ? bits : wanted;
        }

        /** The fewest leading bits that split {@code size} datasets into blocks of at most {@link #BLOCK_SIZE}. */
        static int bitsFor(int size) {
            int bits = 0;
            while (bits < ID_BITS && size > BLOCK_SIZE << bits) {
                bits++;
            }
            return bits;
        }
    }

    private final java.util.TreeMap<NodeId, Group> groups = new java.util.TreeMap<>();
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
        if (shown == null) {
            // Each primary's blocks split from the start as re-splitting one block of them would (filled as one block and
            // split after, a primary of thousands would be inserted twice).
            var sizes = new java.util.HashMap<NodeId, Integer>();
            config.datasets().values().forEach(d -> sizes.merge(d.primary(), 1, Integer::sum));
            sizes.forEach((primary, size) -> groups.computeIfAbsent(primary, k -> new Group()).bits = Group.bitsAfter(0, size));
            config.datasets().values().forEach(d -> groups.get(d.primary()).add(d.datasetId()));
        } else {
            var known = changes.between(shown.version(), config.version());
            var before = shown.datasets();
            var touched = new java.util.HashSet<NodeId>();
            // A changed dataset leaves its block (of its primary before) and joins its block (of its primary now).
            java.util.function.Consumer<DatasetId> change = id -> {
                var old = before.get(id);
                var now = config.datasets().get(id);
                var was = old == null ? null : groups.get(old.primary());
                if (was != null && was.remove(id)) {
                    touched.add(old.primary());
                }
                if (now != null) {
                    groups.computeIfAbsent(now.primary(), k -> new Group()).add(id);
                    touched.add(now.primary());
                }
            };
            if (known != null) {
                known.forEach(change);
            } else {
                ConfigurationChange.diff(before, config.datasets(), (id, d) -> change.accept(id), change);
            }
            touched.forEach(node -> {
                var group = groups.get(node);
                if (group.size == 0) {
                    groups.remove(node);
                } else {
                    group.resplitIfNeeded();
                }
            });
        }
        var datasets = config.datasets();
        if (groups.values().stream().mapToInt(g -> g.size).sum() != datasets.size()) {
            return renderAgain(config, json, changes);
        }
        for (var entry : groups.entrySet()) {
            for (var block : entry.getValue().blocks.values()) {
                if (!block.dirty) {
                    continue;
                }
                var out = new ByteArrayOutputStream(block.ids.size() * 200 + 16);
                boolean first = true;
                for (var id : block.ids) {
                    var dataset = datasets.get(id);
                    if (dataset == null || !dataset.primary().equals(entry.getKey())) {
                        return renderAgain(config, json, changes);
                    }
                    if (!first) {
                        out.write(',');
                    }
                    out.writeBytes(json.apply(dataset));
                    first = false;
                }
                block.raw = out.toByteArray();
                block.deflated = deflate(deflater, block.raw, deflateBuffer);
                block.crc = crc(block.raw);
                block.shift = Crc32Combine.shift(block.raw.length);
                block.dirty = false;
            }
        }
        shown = config;

        // The text's parts, and the gzip answer's parts: header, the blocks' segments, the end and the trailer. The CRC of
        // the whole text is folded from each part's, so a version reads none of the unchanged blocks again.
        int count = groups.values().stream().mapToInt(g -> g.blocks.size()).sum();
        var parts = new ArrayList<byte[]>(count * 2 + 2);
        var gzip = new ArrayList<byte[]>(count * 2 + 5);
        gzip.add(GZIP_HEADER);
        parts.add(OPEN);
        gzip.add(OPEN_DEFLATED);
        int crc = Crc32Combine.combine(0, OPEN_CRC, OPEN.length);
        long length = OPEN.length;
        boolean first = true;
        for (var group : groups.values()) {
            for (var block : group.blocks.values()) {
                if (!first) {
                    parts.add(COMMA);
                    gzip.add(COMMA_DEFLATED);
                    crc = Crc32Combine.combineShifted(crc, COMMA_CRC, COMMA_SHIFT);
                    length += COMMA.length;
                }
                parts.add(block.raw);
                gzip.add(block.deflated);
                crc = Crc32Combine.combineShifted(crc, block.crc, block.shift);
                length += block.raw.length;
                first = false;
            }
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

    /** A change the store did not name (a bug there) left the blocks unlike the list: they are laid out again. */
    private RawJson renderAgain(Configuration config, Function<Dataset, byte[]> json, Changes changes) {
        groups.clear();
        shown = null;
        return render(config, json, changes);
    }

    /** The first 10 bits of {@code id}'s (lower-case hex) value: a primary's datasets are split by a prefix of them. */
    static int block(DatasetId id) {
        return Integer.parseInt(id.value().substring(0, 3), 16) >> 2;
    }

    /** The blocks now, per primary in the list's order (tests). */
    java.util.List<Integer> blockSizes() {
        var sizes = new ArrayList<Integer>();
        groups.values().forEach(g -> g.blocks.values().forEach(b -> sizes.add(b.ids.size())));
        return sizes;
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
