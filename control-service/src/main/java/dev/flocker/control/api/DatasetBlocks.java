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
        final NodeId primary;
        final java.util.TreeSet<DatasetId> ids = new java.util.TreeSet<>();
        /** In {@link #dirty}: its JSON is to be rendered again. */
        boolean dirty;
        /** No longer in its group (emptied, or its group split again): a dirty one is passed over. */
        boolean gone;
        /** Its place in the list's row of blocks ({@link #layOut}). */
        int place;
        byte[] raw = new byte[0];
        byte[] deflated;
        int crc;
        /** The JSON's length as {@link Crc32Combine#shift}, kept for the row's CRC tree. */
        int shift;

        Block(NodeId primary) {
            this.primary = primary;
        }
    }

    /** One primary's datasets: in blocks by the ids' first {@code bits} bits. */
    private final class Group {
        final NodeId primary;
        int bits;
        int size;
        final java.util.TreeMap<Integer, Block> blocks = new java.util.TreeMap<>();

        Group(NodeId primary) {
            this.primary = primary;
        }

        void add(DatasetId id) {
            var block = blocks.computeIfAbsent(block(id) >> (ID_BITS - bits), k -> {
                laidOut = false;
                return new Block(primary);
            });
            if (block.ids.add(id)) {
                size++;
                total++;
            }
            touch(block);
        }

        /** Whether it held {@code id}. */
        boolean remove(DatasetId id) {
            var key = block(id) >> (ID_BITS - bits);
            var block = blocks.get(key);
            if (block == null || !block.ids.remove(id)) {
                return false;
            }
            touch(block);
            size--;
            total--;
            if (block.ids.isEmpty()) {
                block.gone = true;
                blocks.remove(key);
                laidOut = false;
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
            blocks.values().forEach(b -> {
                ids.addAll(b.ids);
                b.gone = true;
            });
            blocks.clear();
            laidOut = false;
            bits = wanted;
            total -= size;
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
    /** The datasets in all groups. */
    private int total;
    /** The blocks whose JSON is to be rendered again, each once. */
    private final List<Block> dirty = new ArrayList<>();
    private Configuration shown;
    /** A zlib stream's set-up (its tables) costs as much as compressing a block: one, reset for each block. */
    private final Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
    private final byte[] deflateBuffer = new byte[1 << 16];

    /*
     * The list as a row of blocks, kept between versions while no block comes or goes (the usual write changes datasets
     * of blocks that stay): the text's parts ("[", block, ",", block, ..., "]"), the gzip answer's parts (header, the same
     * as deflate segments, the end; the trailer is a version's own), and the CRC-32 of the text between the brackets in a
     * tree ({@link Crc32Combine.Tree}, a block and the comma before it in each place). A version then does work for the
     * blocks it changed only. At 1,000 primaries the walks over every block and the folding of ~2,000 CRCs per version
     * were three quarters of the rendering: 0.22-0.52 ms a version at 10,000 datasets before, 0.06-0.07 after
     * (scripts/bench-render.sh; docs/BENCHMARKS.md).
     */
    private boolean laidOut;
    private byte[][] parts;
    private byte[][] gzipParts;
    private Crc32Combine.Tree crcs;
    private long length;

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
            sizes.forEach((primary, size) -> groups.computeIfAbsent(primary, Group::new).bits = Group.bitsAfter(0, size));
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
                    groups.computeIfAbsent(now.primary(), Group::new).add(id);
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
        if (total != datasets.size()) {
            return renderAgain(config, json, changes);
        }
        for (var block : dirty) {
            if (block.gone) {
                continue;
            }
            var out = new ByteArrayOutputStream(block.ids.size() * 200 + 16);
            boolean first = true;
            for (var id : block.ids) {
                var dataset = datasets.get(id);
                if (dataset == null || !dataset.primary().equals(block.primary)) {
                    return renderAgain(config, json, changes);
                }
                if (!first) {
                    out.write(',');
                }
                out.writeBytes(json.apply(dataset));
                first = false;
            }
            if (laidOut) {
                length += out.size() - block.raw.length;
            }
            block.raw = out.toByteArray();
            block.deflated = deflate(deflater, block.raw, deflateBuffer);
            block.crc = crc(block.raw);
            block.shift = Crc32Combine.shift(block.raw.length);
            if (laidOut) {
                parts[1 + 2 * block.place] = block.raw;
                gzipParts[2 + 2 * block.place] = block.deflated;
                crcs.replace(block.place, placed(block), placedShift(block));
            }
        }
        dirty.forEach(b -> b.dirty = false);
        dirty.clear();
        if (!laidOut) {
            layOut();
        }
        shown = config;

        // The CRC of the whole text is folded from the brackets' and the tree's, so a version reads none of the unchanged
        // blocks again.
        int crc = Crc32Combine.combineShifted(OPEN_CRC, crcs.crc(), crcs.shift());
        crc = Crc32Combine.combine(crc, CLOSE_CRC, CLOSE.length);
        var gzip = gzipParts.clone();
        gzip[gzip.length - 1] = new byte[] {(byte) crc, (byte) (crc >>> 8), (byte) (crc >>> 16), (byte) (crc >>> 24),
                (byte) length, (byte) (length >>> 8), (byte) (length >>> 16), (byte) (length >>> 24)};
        return new RawJson(List.of(parts), length, List.of(gzip));
    }

    /** Lays the row of blocks out again from the groups (a block came or went). */
    private void layOut() {
        int count = 0;
        for (var group : groups.values()) {
            count += group.blocks.size();
        }
        parts = new byte[Math.max(2, 2 * count + 1)][];
        gzipParts = new byte[parts.length + 3][];
        crcs = new Crc32Combine.Tree(count);
        parts[0] = OPEN;
        gzipParts[0] = GZIP_HEADER;
        gzipParts[1] = OPEN_DEFLATED;
        length = OPEN.length + CLOSE.length;
        int place = 0;
        for (var group : groups.values()) {
            for (var block : group.blocks.values()) {
                block.place = place;
                if (place > 0) {
                    parts[2 * place] = COMMA;
                    gzipParts[1 + 2 * place] = COMMA_DEFLATED;
                    length += COMMA.length;
                }
                parts[1 + 2 * place] = block.raw;
                gzipParts[2 + 2 * place] = block.deflated;
                crcs.put(place, placed(block), placedShift(block));
                length += block.raw.length;
                place++;
            }
        }
        parts[parts.length - 1] = CLOSE;
        gzipParts[parts.length] = CLOSE_DEFLATED;
        gzipParts[parts.length + 1] = FINAL;
        gzipParts[parts.length + 2] = new byte[0]; // the trailer, a version's own
        crcs.fold();
        laidOut = true;
    }

    /** The CRC of the text in {@code block}'s place: the comma before it (but the first) and its JSON. */
    private static int placed(Block block) {
        return block.place == 0 ? block.crc : Crc32Combine.combineShifted(COMMA_CRC, block.crc, block.shift);
    }

    private static int placedShift(Block block) {
        return block.place == 0 ? block.shift : Crc32Combine.joinShifts(COMMA_SHIFT, block.shift);
    }

    /** Marks {@code block}'s JSON to be rendered again. */
    private void touch(Block block) {
        if (!block.dirty) {
            block.dirty = true;
            dirty.add(block);
        }
    }

    /** A change the store did not name (a bug there) left the blocks unlike the list: they are laid out again. */
    private RawJson renderAgain(Configuration config, Function<Dataset, byte[]> json, Changes changes) {
        groups.clear();
        dirty.clear(); // its blocks, as all the others, are dropped
        total = 0;
        laidOut = false;
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
