package dev.flocker.control.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The blocked dataset list: what gzip clients inflate is exactly the list, after every kind of change. */
class DatasetBlocksTest {
    private static final NodeId NODE = NodeId.random();

    /** The list as served: grouped by primary (in the primaries' order), each primary's datasets by id. */
    private static String expected(Configuration config) {
        return Json.write(config.datasets().values().stream()
                .sorted(java.util.Comparator.comparing(Dataset::primary).thenComparing(Dataset::datasetId)).toList());
    }

    private static String gunzip(byte[] gzip) throws Exception {
        try (var in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Renders with the changes named (as the store names them), not found by comparing. */
    private final DatasetBlocks told = new DatasetBlocks();
    private Configuration toldLast;

    private void check(DatasetBlocks blocks, Configuration config) throws Exception {
        var previous = toldLast;
        toldLast = config;
        var named = told.render(config, d -> Json.write(d).getBytes(StandardCharsets.UTF_8), (from, to) -> {
            var ids = new java.util.HashSet<DatasetId>();
            dev.flocker.control.store.ConfigurationChange.diff(previous.datasets(), config.datasets(), (id, d) -> ids.add(id), ids::add);
            return ids;
        });
        assertThat(gunzip(named.gzipped())).isEqualTo(expected(config));
        assertThat(new String(named.bytes(), StandardCharsets.UTF_8)).isEqualTo(expected(config));
        var json = blocks.render(config, d -> Json.write(d).getBytes(StandardCharsets.UTF_8));
        var expected = expected(config);
        assertThat(new String(json.bytes(), StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(json.length()).isEqualTo(expected.getBytes(StandardCharsets.UTF_8).length);
        assertThat(gunzip(json.gzipped())).isEqualTo(expected);
    }

    @Test
    void theGzipOfTheJoinedBlocksInflatesToTheWholeListAfterEveryChange() throws Exception {
        var blocks = new DatasetBlocks();
        var config = Configuration.EMPTY;
        check(blocks, config);
        for (int i = 0; i < 3000; i++) {
            config = config.withDataset(new Dataset(DatasetId.random(), NODE, false, Map.of("name", "v" + i), null));
        }
        check(blocks, config);
        var some = config.datasets().values().stream().skip(17).findFirst().orElseThrow();
        config = config.withDataset(new Dataset(some.datasetId(), NODE, false, Map.of("name", "renamed"), null));
        check(blocks, config);
        config = config.withoutDataset(config.datasets().keySet().iterator().next());
        check(blocks, config);
        // The first and last blocks, emptied and filled.
        config = config.withDataset(new Dataset(DatasetId.of("00000000-0000-4000-8000-000000000001"), NODE, false, Map.of(), null))
                .withDataset(new Dataset(DatasetId.of("ffffffff-ffff-4fff-bfff-ffffffffffff"), NODE, false, Map.of(), null));
        check(blocks, config);
        // Either side of a block's edge (blocks are the ids' first 10 bits), added, then changed.
        var lastOfBlock0 = DatasetId.of("003fffff-ffff-4fff-bfff-ffffffffffff");
        var firstOfBlock1 = DatasetId.of("00400000-0000-4000-8000-000000000000");
        org.assertj.core.api.Assertions.assertThat(DatasetBlocks.block(lastOfBlock0)).isZero();
        org.assertj.core.api.Assertions.assertThat(DatasetBlocks.block(firstOfBlock1)).isEqualTo(1);
        config = config.withDataset(new Dataset(lastOfBlock0, NODE, false, Map.of(), null))
                .withDataset(new Dataset(firstOfBlock1, NODE, false, Map.of(), null));
        check(blocks, config);
        config = config.withDataset(new Dataset(lastOfBlock0, NODE, false, Map.of("name", "a"), null))
                .withDataset(new Dataset(firstOfBlock1, NODE, false, Map.of("name", "b"), null));
        check(blocks, config);
        var few = Configuration.EMPTY.withDataset(new Dataset(DatasetId.of("ffffffff-ffff-4fff-bfff-ffffffffffff"), NODE, false, Map.of(), null));
        check(blocks, few);
        check(blocks, Configuration.EMPTY);
    }

    @Test
    void datasetsMovingBetweenPrimariesLeaveOneBlockAndJoinAnother() throws Exception {
        var blocks = new DatasetBlocks();
        var nodes = java.util.stream.Stream.generate(NodeId::random).limit(5).toList();
        var config = Configuration.EMPTY;
        for (int i = 0; i < 1000; i++) {
            config = config.withDataset(new Dataset(DatasetId.random(), nodes.get(i % 5), false, Map.of("name", "v" + i), null));
        }
        check(blocks, config);
        // Every dataset of node 0 moves to node 1, one at a time and then the rest at once; node 0 leaves the list.
        var ofNode0 = config.datasets().values().stream().filter(d -> d.primary().equals(nodes.get(0))).toList();
        for (var d : ofNode0.subList(0, 3)) {
            config = config.withDataset(new Dataset(d.datasetId(), nodes.get(1), false, d.metadata(), null));
            check(blocks, config);
        }
        for (var d : ofNode0.subList(3, ofNode0.size())) {
            config = config.withDataset(new Dataset(d.datasetId(), nodes.get(1), false, d.metadata(), null));
        }
        check(blocks, config);
        assertThat(expected(config)).doesNotContain(nodes.get(0).toString());
        // A new primary's first dataset, and one deleted (still listed, as deleted).
        var newcomer = NodeId.random();
        config = config.withDataset(new Dataset(DatasetId.random(), newcomer, false, Map.of(), null));
        var some = config.datasets().values().iterator().next();
        config = config.withDataset(new Dataset(some.datasetId(), some.primary(), true, some.metadata(), null));
        check(blocks, config);
    }

    @Test
    void aPrimaryWithManyDatasetsIsSplitIntoBlocksAndJoinedAgainAsItShrinks() throws Exception {
        var blocks = new DatasetBlocks();
        var config = Configuration.EMPTY;
        var ids = new java.util.ArrayList<DatasetId>();
        for (int i = 0; i < 5000; i++) {
            var id = DatasetId.random();
            ids.add(id);
            config = config.withDataset(new Dataset(id, NODE, false, Map.of(), null));
            if (i == 0 || i == 200 || i == 600 || i == 4999) {
                check(blocks, config);
                // Between a quarter of BLOCK_SIZE and twice it on average, and never one block of thousands.
                var sizes = blocks.blockSizes();
                assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(i + 1);
                assertThat((double) (i + 1) / sizes.size()).isLessThanOrEqualTo(2.0 * DatasetBlocks.BLOCK_SIZE);
            }
        }
        assertThat(blocks.blockSizes()).hasSizeGreaterThanOrEqualTo(5000 / (2 * DatasetBlocks.BLOCK_SIZE));
        java.util.Collections.shuffle(ids, new java.util.Random(7));
        for (int i = 0; i < 4990; i++) {
            config = config.withoutDataset(ids.get(i));
            if (i % 1000 == 999) {
                check(blocks, config);
                int left = 5000 - i - 1;
                assertThat((double) left / blocks.blockSizes().size()).isGreaterThanOrEqualTo(DatasetBlocks.BLOCK_SIZE / 4.0 / 2);
            }
        }
        check(blocks, config);
        assertThat(blocks.blockSizes()).hasSize(1);
    }

    @Test
    void manyVersionsOfFewChangesEachKeepTheListExact() throws Exception {
        // As the service sees it: one or a few datasets created, renamed, moved or deleted per version, most versions
        // touching blocks that stay (rendered in their place), some adding or emptying a block or a primary.
        var random = new java.util.Random(11);
        var nodes = java.util.stream.Stream.generate(NodeId::random).limit(40).toList();
        var blocks = new DatasetBlocks();
        var config = Configuration.EMPTY;
        for (int i = 0; i < 400; i++) {
            config = config.withDataset(new Dataset(DatasetId.random(), nodes.get(random.nextInt(nodes.size())), false, Map.of(), null));
        }
        check(blocks, config);
        for (int version = 0; version < 300; version++) {
            for (int change = 1 + random.nextInt(3); change > 0; change--) {
                var ids = new java.util.ArrayList<>(config.datasets().keySet());
                var some = config.datasets().get(ids.get(random.nextInt(ids.size())));
                config = switch (random.nextInt(4)) {
                    case 0 -> config.withDataset(new Dataset(DatasetId.random(), nodes.get(random.nextInt(nodes.size())), false, Map.of(), null));
                    case 1 -> config.withDataset(new Dataset(some.datasetId(), some.primary(), false, Map.of("name", "v" + version), null));
                    case 2 -> config.withDataset(new Dataset(some.datasetId(), nodes.get(random.nextInt(nodes.size())), false, some.metadata(), null));
                    default -> config.withoutDataset(some.datasetId());
                };
            }
            check(blocks, config);
        }
    }

    @Test
    void aChangeTheStoreDidNotNameLaysTheBlocksOutAgain() throws Exception {
        var blocks = new DatasetBlocks();
        var config = Configuration.EMPTY;
        for (int i = 0; i < 300; i++) {
            config = config.withDataset(new Dataset(DatasetId.random(), i % 2 == 0 ? NODE : NodeId.random(), false, Map.of(), null));
        }
        blocks.render(config, d -> Json.write(d).getBytes(StandardCharsets.UTF_8));
        // The store names one change of two (a version it no longer knew the changes of would say null instead): one
        // dataset gone unnamed, and one named that moved to another primary.
        var ids = config.datasets().keySet().iterator();
        var gone = ids.next();
        var moved = config.datasets().get(ids.next());
        var changed = config.withoutDataset(gone).withDataset(new Dataset(moved.datasetId(), NodeId.random(), false, Map.of(), null));
        var json = blocks.render(changed, d -> Json.write(d).getBytes(StandardCharsets.UTF_8), (from, to) -> java.util.Set.of(moved.datasetId()));
        assertThat(gunzip(json.gzipped()).equals(expected(changed))).as("the list after an unnamed change").isTrue();
        // Nor when the unnamed one is a dataset that changed primary (the count unchanged).
        var other = changed.datasets().values().stream().filter(d -> d.primary().equals(NODE)).findFirst().orElseThrow();
        var changedAgain = changed.withDataset(new Dataset(other.datasetId(), NodeId.random(), false, Map.of(), null))
                .withDataset(new Dataset(DatasetId.random(), NODE, false, Map.of(), null));
        var created = changedAgain.datasets().keySet().stream().filter(id -> !changed.datasets().containsKey(id)).findFirst().orElseThrow();
        json = blocks.render(changedAgain, d -> Json.write(d).getBytes(StandardCharsets.UTF_8), (from, to) -> java.util.Set.of(created));
        assertThat(gunzip(json.gzipped()).equals(expected(changedAgain))).as("the list after an unnamed move").isTrue();
        // A dataset moved unnamed to a primary with no other dataset, then deleted, named: its primary before (as the list
        // last shown says) has no block of it.
        var loner = changedAgain.datasets().values().stream().filter(d -> d.primary().equals(NODE)).findFirst().orElseThrow();
        var alone = changedAgain.withDataset(new Dataset(loner.datasetId(), NodeId.random(), false, Map.of(), null));
        blocks.render(alone, d -> Json.write(d).getBytes(StandardCharsets.UTF_8), (from, to) -> java.util.Set.of());
        var deleted = alone.withoutDataset(loner.datasetId());
        json = blocks.render(deleted, d -> Json.write(d).getBytes(StandardCharsets.UTF_8), (from, to) -> java.util.Set.of(loner.datasetId()));
        assertThat(gunzip(json.gzipped()).equals(expected(deleted))).as("the list after a named change of an unnamed one").isTrue();
    }

    @Test
    void aListGroupedByPrimaryIsSmallerGzippedThanOneInIdOrder() throws Exception {
        // The benchmark's cluster, a fifth of it: 1,000 nodes, 20 datasets each.
        var nodes = java.util.stream.Stream.generate(NodeId::random).limit(1000).toList();
        var config = Configuration.EMPTY;
        for (int i = 0; i < 20_000; i++) {
            config = config.withDataset(new Dataset(DatasetId.random(), nodes.get(i % 1000), false, Map.of("name", "volume-" + i), 10L << 30));
        }
        var json = new DatasetBlocks().render(config, d -> Json.write(d).getBytes(StandardCharsets.UTF_8));
        var inIdOrder = new java.io.ByteArrayOutputStream();
        try (var gzip = new java.util.zip.GZIPOutputStream(inIdOrder) {
            {
                def.setLevel(java.util.zip.Deflater.BEST_SPEED); // as the blocks are compressed
            }
        }) {
            gzip.write(Json.write(config.datasets().values()).getBytes(StandardCharsets.UTF_8));
        }
        System.out.printf("20,000 datasets of 1,000 primaries gzipped: %d bytes grouped by primary, %d in id order%n",
                json.gzipped().length, inIdOrder.size());
        assertThat((double) json.gzipped().length).isLessThan(0.75 * inIdOrder.size());
    }
}
