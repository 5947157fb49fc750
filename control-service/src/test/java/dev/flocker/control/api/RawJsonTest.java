package dev.flocker.control.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.internal.buffer.BufferInternal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Answers' copies in native memory, within their budget: beyond it the same bytes come from the heap. */
class RawJsonTest {
    private final long budget = RawJson.nativeBudget;

    @AfterEach
    void restore() {
        RawJson.nativeBudget = budget;
    }

    private static byte[] text(int size, long seed) {
        var bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] sent(io.vertx.core.buffer.Buffer buffer) {
        var view = ((BufferInternal) buffer).getByteBuf(); // what an answer writes
        var bytes = new byte[view.readableBytes()];
        view.getBytes(view.readerIndex(), bytes);
        return bytes;
    }

    /**
     * Native bytes held once the collector has freed what earlier tests in this JVM let go: copies freed while this test
     * runs would leave more of its budget than it counts on.
     */
    private static long settledNativeHeld() throws InterruptedException {
        long last = -1;
        int same = 0;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (same < 3 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50); // the cleaner's thread gives back what the collection freed
            long now = RawJson.nativeHeld();
            same = now == last ? same + 1 : 0;
            last = now;
        }
        return last;
    }

    @Test
    void answersAreNativeCopiesUntilTheBudgetIsSpentThenHeapOnesAndNativeAgainOnceCollected() throws Exception {
        RawJson.nativeBudget = settledNativeHeld() + (1 << 20);
        var held = new ArrayList<RawJson>();
        var kinds = new ArrayList<Boolean>();
        for (int i = 0; i < 4; i++) {
            var bytes = text(400_000, i);
            var json = new RawJson(bytes);
            var buffer = json.buffer();
            assertThat(sent(buffer)).isEqualTo(bytes);
            assertThat(json.buffer()).as("made once").isSameAs(buffer);
            kinds.add(((BufferInternal) buffer).getByteBuf().isDirect());
            held.add(json);
        }
        assertThat(kinds).containsExactly(true, true, false, false);

        // Parts and their gzip form made ahead: the same, joined.
        var parts = List.of(text(1000, 7), text(2000, 8));
        var gzip = List.of(text(300, 9), text(200, 10));
        var joined = new RawJson(parts, 3000, gzip);
        assertThat(sent(joined.buffer())).isEqualTo(joined.bytes()).startsWith(parts.get(0)).hasSize(3000);
        assertThat(sent(joined.gzippedBuffer())).isEqualTo(joined.gzipped()).hasSize(500);

        held.clear();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (RawJson.nativeHeld() + 400_000 > RawJson.nativeBudget && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        var again = new RawJson(text(400_000, 99));
        assertThat(((BufferInternal) again.buffer()).getByteBuf().isDirect()).as("native again once the collector freed the others").isTrue();
    }

    /**
     * A version whose parts are the last one's but for one block (and the trailer, always new) copies only that block's
     * run and the trailer to native memory; its answer is still exactly its bytes.
     */
    @Test
    void aNewVersionCopiesOnlyTheRunsItChanged() {
        int run = RawJson.RUN_PARTS;
        var parts = new ArrayList<byte[]>();
        for (int i = 0; i < 3 * run + 5; i++) {
            parts.add(text(1000, 100 + i));
        }
        parts.add(text(8, 1));
        var first = new RawJson(List.of(new byte[0]), 0, List.copyOf(parts));
        long before = RawJson.copiedBytes();
        var firstSent = first.gzippedBuffer();
        assertThat(RawJson.copiedBytes() - before).as("all of it, once").isEqualTo((3L * run + 5) * 1000 + 8);
        assertThat(sent(firstSent)).isEqualTo(first.gzipped());
        assertThat(((BufferInternal) firstSent).getByteBuf().isDirect()).isTrue();

        parts.set(run + 6, text(900, 7)); // in the second run
        parts.set(parts.size() - 1, text(8, 2));
        var second = new RawJson(List.of(new byte[0]), 0, List.copyOf(parts));
        before = RawJson.copiedBytes();
        var secondSent = second.gzippedBuffer();
        assertThat(RawJson.copiedBytes() - before).as("the changed run and the trailer").isEqualTo((run - 1) * 1000L + 900 + 8);
        assertThat(sent(secondSent)).isEqualTo(second.gzipped()).isNotEqualTo(first.gzipped());
        assertThat(sent(firstSent)).as("the first version's answer is unchanged").isEqualTo(first.gzipped());

        // Many versions later (more than the runs kept), the runs no version changed are still shared.
        for (int v = 0; v < 2 * RawJson.RUNS_KEPT; v++) {
            parts.set(run + 6, text(900, 1000 + v));
            parts.set(parts.size() - 1, text(8, 3 + v));
            var next = new RawJson(List.of(new byte[0]), 0, List.copyOf(parts));
            before = RawJson.copiedBytes();
            assertThat(sent(next.gzippedBuffer())).isEqualTo(next.gzipped());
            assertThat(RawJson.copiedBytes() - before).as("version %s", v).isEqualTo((run - 1) * 1000L + 900 + 8);
        }
        assertThat(RawJson.runsKept()).as("older versions' runs are let go").isLessThanOrEqualTo(RawJson.RUNS_KEPT);
    }
}
