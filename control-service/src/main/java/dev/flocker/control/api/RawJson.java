package dev.flocker.control.api;

/** JSON already rendered: big answers are rendered once per state and served many times. */
final class RawJson {
    private final byte[] bytes;
    private volatile byte[] gzipped;

    RawJson(String text) {
        this(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    RawJson(byte[] bytes) {
        this.bytes = bytes;
    }

    byte[] bytes() {
        return bytes;
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
            var out = new java.io.ByteArrayOutputStream(bytes.length / 4 + 64);
            try (var gzip = new java.util.zip.GZIPOutputStream(out, 1 << 16) {
                {
                    def.setLevel(java.util.zip.Deflater.BEST_SPEED);
                }
            }) {
                gzip.write(bytes);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            result = out.toByteArray();
            gzipped = result;
            return result;
        }
    }
}
