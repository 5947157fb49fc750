package dev.flocker.control.api;

/**
 * JSON already rendered: big answers are rendered once per state and served many times. Either one array of bytes
 * (compressed on first demand) or parts with their gzip form made ahead ({@link DatasetBlocks}), joined only when a
 * client that does not take gzip asks.
 */
final class RawJson {
    private volatile byte[] bytes;
    private final java.util.List<byte[]> parts;
    private final long length;
    private volatile byte[] gzipped;

    RawJson(String text) {
        this(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    RawJson(byte[] bytes) {
        this.bytes = bytes;
        this.parts = null;
        this.length = bytes.length;
    }

    RawJson(java.util.List<byte[]> parts, long length, byte[] gzipped) {
        this.parts = parts;
        this.length = length;
        this.gzipped = gzipped;
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
                var out = new java.io.ByteArrayOutputStream((int) length);
                parts.forEach(out::writeBytes);
                bytes = out.toByteArray();
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
}
