package dev.flocker.control.api;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What a new version of the dataset list costs the service (run by {@code scripts/bench-render.sh [datasets...]}): the
 * list of N datasets on 1,000 primaries, one dataset created per version (as the control benchmark's conditional writes
 * do), rendered by the blocks kept between versions, against the floor of laying the same version out from scratch
 * (every block rendered and compressed again; each dataset's JSON cached in both, as {@link RenderedViews} caches it).
 * Rounds one after another in one JVM; the last rounds are the warm ones.
 */
public final class DatasetBlocksBenchmark {
    private static final int PRIMARIES = 1000;
    private static final int ROUNDS = 5;

    public static void main(String[] args) {
        var sizes = args.length == 0 ? new String[] {"10000", "100000"} : args;
        for (var size : sizes) {
            if (!size.matches("[1-9][0-9]{0,6}")) {
                System.err.println("bench-render: each argument is a number of datasets from 1 to 9999999, got '" + size + "'");
                System.exit(2);
            }
        }
        System.out.printf("%n## Dataset list, one version's rendering (ms per version; %d primaries, one dataset created per version)%n%n", PRIMARIES);
        System.out.println("| datasets | round | kept blocks | from scratch (floor) | floor / kept |");
        System.out.println("|---|---|---|---|---|");
        for (var size : sizes) {
            run(Integer.parseInt(size));
        }
    }

    private static void run(int size) {
        var random = new Random(size);
        var nodes = new ArrayList<NodeId>();
        for (int i = 0; i < PRIMARIES; i++) {
            nodes.add(NodeId.of(uuid(random)));
        }
        var config = Configuration.EMPTY;
        for (int i = 0; i < size; i++) {
            config = config.withDataset(new Dataset(id(random), nodes.get(i % PRIMARIES), false, Map.of("name", "volume-" + i), 10L << 30));
        }
        var cache = new java.util.HashMap<DatasetId, byte[]>();
        java.util.function.Function<Dataset, byte[]> json = d -> cache.computeIfAbsent(d.datasetId(), k -> Json.write(d).getBytes(StandardCharsets.UTF_8));
        for (int round = 1; round <= ROUNDS; round++) {
            // The versions: each creates one dataset on a random primary.
            var versions = new ArrayList<Configuration>();
            var created = new ArrayList<DatasetId>();
            var c = config;
            for (int v = 0; v < 1000; v++) {
                var id = id(random);
                c = c.withDataset(new Dataset(id, nodes.get(random.nextInt(PRIMARIES)), false, Map.of(), null));
                versions.add(c);
                created.add(id);
            }
            var kept = new DatasetBlocks();
            kept.render(config, json);
            int[] at = {0};
            DatasetBlocks.Changes changes = (from, to) -> Set.of(created.get(at[0]));
            long started = System.nanoTime();
            long bytes = 0;
            for (at[0] = 0; at[0] < versions.size(); at[0]++) {
                bytes += kept.render(versions.get(at[0]), json, changes).length();
            }
            double keptMs = (System.nanoTime() - started) / 1e6 / versions.size();
            // The floor: fewer versions (each lays out the whole list), the same kind of change.
            int floorVersions = 40;
            started = System.nanoTime();
            for (int v = 0; v < floorVersions; v++) {
                bytes += new DatasetBlocks().render(versions.get(v), json).length();
            }
            double floorMs = (System.nanoTime() - started) / 1e6 / floorVersions;
            if (bytes <= 0) {
                throw new IllegalStateException("nothing rendered");
            }
            System.out.printf("| %,d | %d | %.3f | %.3f | %.0fx |%n", size, round, keptMs, floorMs, floorMs / keptMs);
            config = versions.get(versions.size() - 1);
        }
    }

    private static DatasetId id(Random random) {
        return DatasetId.of(uuid(random));
    }

    /** A version-4 UUID from {@code random} (seeded: the same list in every run). */
    private static String uuid(Random random) {
        long high = (random.nextLong() & ~0xf000L) | 0x4000L;
        long low = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new java.util.UUID(high, low).toString();
    }
}
