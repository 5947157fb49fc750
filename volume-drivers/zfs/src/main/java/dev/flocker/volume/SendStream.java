package dev.flocker.volume;

import java.io.InputStream;

/** A snapshot stream being produced by the backend: read it, then {@link #finish()} to learn whether it was whole. */
public interface SendStream extends AutoCloseable {
    InputStream stream();

    /** Expected stream size in bytes when the backend can tell, else -1. */
    long expectedBytes();

    /** Waits for the producer to end and throws {@link VolumeException} with its error output if it failed. */
    void finish();

    /** Stops the producer; the stream ends early. */
    void cancel();

    @Override
    default void close() {
        cancel();
    }
}
