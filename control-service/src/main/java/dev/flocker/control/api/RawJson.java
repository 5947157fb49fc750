package dev.flocker.control.api;

/**
 * JSON already rendered: big answers are rendered once per state and served many times. Either one array of bytes
 * (compressed on first demand) or parts with their gzip form made ahead ({@link DatasetBlocks}), joined only when a
 * client that does not take gzip asks.
 * <p>
 * What is sent is each form copied once into native memory ({@link #gzippedBuffer()}, {@link #buffer()}), and every
 * answer is a view of it: a 100,000-dataset list is 5 MB gzipped, and copying it into a new heap buffer per answer
 * (what {@code Buffer.buffer(byte[])} does), then again into native memory for BoringSSL, cost a third of the service's
 * time at 200 reads/s, and its garbage more (each copy a humongous object for G1). The native copy is a JDK direct
 * buffer, freed by the garbage collector once no answer uses it; all of them together stay within {@link #nativeBudget}.
 */
final class RawJson {
    private volatile byte[] bytes;
    private final java.util.List<byte[]> parts;
    private final long length;
    private volatile byte[] gzipped;
    /** The gzip form in parts, when made ahead. */
    private final java.util.List<byte[]> gzipParts;
    private volatile io.vertx.core.buffer.Buffer buffer;
    private volatile io.vertx.core.buffer.Buffer gzippedBuffer;

    RawJson(String text) {
        this(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    RawJson(byte[] bytes) {
        this.bytes = bytes;
        this.parts = null;
        this.length = bytes.length;
        this.gzipParts = null;
    }

    RawJson(java.util.List<byte[]> parts, long length, java.util.List<byte[]> gzipParts) {
        this.parts = parts;
        this.length = length;
        this.gzipParts = gzipParts;
    }

    long length() {
        return length;
    }

    byte[] bytes() {
        var result = bytes;
        if (result != null) {
            return result;
        }
        synchronized (this) {
            if (bytes == null) {
                bytes = join(parts);
            }
            return bytes;
        }
    }

    /** Compressed once, on first demand: a 10,000-dataset list shrinks about tenfold. */
    byte[] gzipped() {
        var result = gzipped;
        if (result != null) {
            return result;
        }
        // One thread compresses; the others wait for it instead of all compressing the same megabytes.
        synchronized (this) {
            result = gzipped;
            if (result != null) {
                return result;
            }
            if (gzipParts != null) {
                gzipped = join(gzipParts);
                return gzipped;
            }
            var raw = bytes();
            var out = new java.io.ByteArrayOutputStream(raw.length / 4 + 64);
            try (var gzip = new java.util.zip.GZIPOutputStream(out, 1 << 16) {
                {
                    def.setLevel(java.util.zip.Deflater.BEST_SPEED);
                }
            }) {
                gzip.write(raw);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            result = out.toByteArray();
            gzipped = result;
            return result;
        }
    }

    /** {@link #bytes()} as sent: in native memory, copied once (see {@link #direct}); each answer is a view of it. */
    io.vertx.core.buffer.Buffer buffer() {
        var result = buffer;
        if (result == null) {
            synchronized (this) {
                if (buffer == null) {
                    buffer = direct(parts == null ? java.util.List.of(bytes()) : parts, this::bytes);
                }
                result = buffer;
            }
        }
        return result;
    }

    /** {@link #gzipped()} as sent: in native memory, copied once (from its parts when made ahead). */
    io.vertx.core.buffer.Buffer gzippedBuffer() {
        var result = gzippedBuffer;
        if (result == null) {
            var gzip = gzipParts != null ? gzipParts : java.util.List.of(gzipped());
            synchronized (this) {
                if (gzippedBuffer == null) {
                    gzippedBuffer = direct(gzip, this::gzipped);
                }
                result = gzippedBuffer;
            }
        }
        return result;
    }

    private static byte[] join(java.util.List<byte[]> parts) {
        var out = new java.io.ByteArrayOutputStream(parts.stream().mapToInt(p -> p.length).sum());
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /**
     * How much native memory the answers' copies may hold at once. The JDK frees a direct buffer only when the garbage
     * collector finds it unreachable, and stalls an allocation that finds the JVM's limit reached (a System.gc(), then up
     * to half a second of waiting). Versions come 20 a second in the benchmark at 100,000 datasets (5 MB each, gzipped),
     * and young collections can be 10 s apart: beyond this budget (512 MB, or a quarter of the heap's maximum, which is also
     * the JDK's default limit of direct memory, when that is less) a version's answers are served from the heap instead
     * (BoringSSL's handler then copies them, 16 KB at a time) until collected copies give the budget back.
     */
    static volatile long nativeBudget = Math.min(512L << 20, Runtime.getRuntime().maxMemory() / 4); // tests set less
    private static final java.util.concurrent.atomic.AtomicLong NATIVE_HELD = new java.util.concurrent.atomic.AtomicLong();
    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

    private static final java.util.concurrent.atomic.AtomicLong COPIED = new java.util.concurrent.atomic.AtomicLong();

    /** Bytes copied into native memory so far (tests: what a version copied, whatever the collector freed meanwhile). */
    static long copiedBytes() {
        return COPIED.get();
    }

    /** Native bytes held by answers' copies now (until the collector frees them). */
    static long nativeHeld() {
        return NATIVE_HELD.get();
    }

    /**
     * Parts are copied to native memory in runs of this many, each run shared by every version that holds the very same
     * parts ({@link DatasetBlocks} keeps an unchanged block's arrays from version to version): a change of one dataset
     * copies the run of its block and the last part (the gzip trailer, new in every version), about 0.3 MB of a
     * 100,000-dataset list's 5 MB (2,051 parts: 17 runs). Copying all of it per version (20 a second) spent the native
     * budget between two collections, and the versions beyond it were then joined and served from the heap. More runs
     * would copy less, but Netty walks every run of an answer for each 16 KB TLS record: at 200 reads/s, 33 runs tripled
     * the reads' p50 against 17 (a list as 515 runs was slower than one copy).
     */
    static final int RUN_PARTS = 128;
    /**
     * Runs kept for later versions to share, least recently used first: at most {@link #RUNS_KEPT} (a version of the
     * list looks up all of its 17, so the current ones are never the eldest; the rest are runs of recent versions, which
     * hold their parts' arrays on the heap too), and at most half the native budget.
     */
    private static final java.util.LinkedHashMap<Run, java.nio.ByteBuffer> RUNS = new java.util.LinkedHashMap<>(64, 0.75f, true);
    static final int RUNS_KEPT = 64;
    private static long runsBytes;

    /** How many runs are kept now (tests). */
    static synchronized int runsKept() {
        return RUNS.size();
    }

    private static synchronized java.nio.ByteBuffer kept(Run run) {
        return RUNS.get(run);
    }

    private static synchronized void keep(Run run, java.nio.ByteBuffer copy) {
        if (RUNS.put(run, copy) == null) {
            runsBytes += copy.capacity();
        }
        for (var eldest = RUNS.values().iterator(); (runsBytes > nativeBudget / 2 || RUNS.size() > RUNS_KEPT) && eldest.hasNext(); ) {
            runsBytes -= eldest.next().capacity(); // its answers still hold it; the collector frees it after them
            eldest.remove();
        }
    }

    /**
     * Consecutive parts, equal to another run only when it holds the same arrays (not merely equal bytes). Its hash is
     * its first part's identity and its length: hashing all 128 parts' identities read 128 arrays' headers scattered over
     * the heap at every lookup (the most sampled leaf of a replica's minute), where comparing two runs reads only the
     * two lists of references. Runs that share a first part and differ after it are told apart by {@link #equals}.
     */
    private static final class Run {
        private final java.util.List<byte[]> parts;
        private final int hash;

        Run(java.util.List<byte[]> parts) {
            this.parts = parts;
            this.hash = 31 * System.identityHashCode(parts.get(0)) + parts.size();
        }

        @Override
        public boolean equals(Object other) {
            if (!(other instanceof Run run) || run.hash != hash || run.parts.size() != parts.size()) {
                return false;
            }
            for (int i = 0; i < parts.size(); i++) {
                if (parts.get(i) != run.parts.get(i)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** {@code parts} joined in native memory, or {@code heap} (the same bytes) when the budget is spent. */
    private static io.vertx.core.buffer.Buffer direct(java.util.List<byte[]> parts, java.util.function.Supplier<byte[]> heap) {
        if (parts.size() <= RUN_PARTS) {
            var copy = copy(parts);
            return copy == null ? onHeap(heap) : view(copy.duplicate());
        }
        var runs = new java.util.ArrayList<java.nio.ByteBuffer>(parts.size() / RUN_PARTS + 2);
        int last = parts.size() - 1;
        var ranges = new java.util.ArrayList<int[]>();
        for (int from = 0; from < last; from += RUN_PARTS) {
            ranges.add(new int[] {from, Math.min(from + RUN_PARTS, last)});
        }
        ranges.add(new int[] {last, last + 1}); // alone: a gzip trailer (CRC and length) differs in every version
        for (var range : ranges) {
            var run = new Run(java.util.List.copyOf(parts.subList(range[0], range[1])));
            var copy = kept(run);
            if (copy == null) {
                copy = copy(run.parts);
                if (copy == null) {
                    return onHeap(heap);
                }
                keep(run, copy);
            }
            runs.add(copy.duplicate());
        }
        // A wrapped JDK buffer is not freed by Netty's release, and the views Vert.x hands each answer are unreleasable
        // slices with their own indexes: answers on several event loops read it at once.
        return io.vertx.core.internal.buffer.BufferInternal.buffer(
                io.netty.buffer.Unpooled.wrappedBuffer(runs.size(), runs.toArray(java.nio.ByteBuffer[]::new)));
    }

    private static io.vertx.core.buffer.Buffer view(java.nio.ByteBuffer copy) {
        // See direct(): unreleasable views, freed by the collector.
        return io.vertx.core.internal.buffer.BufferInternal.buffer(io.netty.buffer.Unpooled.wrappedBuffer(copy));
    }

    private static io.vertx.core.buffer.Buffer onHeap(java.util.function.Supplier<byte[]> heap) {
        return io.vertx.core.internal.buffer.BufferInternal.buffer(io.netty.buffer.Unpooled.wrappedBuffer(heap.get()));
    }

    /** {@code parts} joined in a new native buffer, or null when the budget is spent. */
    private static java.nio.ByteBuffer copy(java.util.List<byte[]> parts) {
        long size = parts.stream().mapToLong(p -> p.length).sum();
        if (NATIVE_HELD.addAndGet(size) > nativeBudget) {
            NATIVE_HELD.addAndGet(-size);
            return null;
        }
        var direct = java.nio.ByteBuffer.allocateDirect((int) size);
        parts.forEach(direct::put);
        COPIED.addAndGet(size);
        // Given back when the buffer is collected (its memory freed by the JDK then), whoever held it last.
        CLEANER.register(direct, () -> NATIVE_HELD.addAndGet(-size));
        return direct.flip();
    }
}
