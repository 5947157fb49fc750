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
        assertThat(gunzip(named.gzipped())).isEqualTo(Json.write(config.datasets().values()));
        var json = blocks.render(config, d -> Json.write(d).getBytes(StandardCharsets.UTF_8));
        var expected = Json.write(config.datasets().values());
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
}
