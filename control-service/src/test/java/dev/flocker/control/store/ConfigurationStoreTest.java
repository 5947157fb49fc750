package dev.flocker.control.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-entry store on three real Hazelcast members (in this JVM): conditional writers on every replica at once, a
 * replica lost among them, a zombie writer, and every replica restarted from its disk.
 */
@Tag("integration")
class ConfigurationStoreTest {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private final List<HazelcastInstance> members = new ArrayList<>();
    private final List<ConfigurationStore> stores = new ArrayList<>();

    @AfterEach
    void stop() {
        stores.forEach(ConfigurationStore::close);
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    private List<ConfigurationStore> start(Path data, int replicas) {
        return start(data, replicas, false);
    }

    /** {@code together}: the stores start at once, as replicas' processes do (each hears the others' seeding as it starts). */
    private List<ConfigurationStore> start(Path data, int replicas, boolean together) {
        var cluster = "store-test-" + ProcessHandle.current().pid() + "-" + CLUSTERS.incrementAndGet();
        int base = 5900 + (int) (ProcessHandle.current().pid() % 50) * 4;
        var started = new ArrayList<HazelcastInstance>();
        for (int i = 0; i < replicas; i++) {
            var config = new Config().setClusterName(cluster);
            config.setProperty("hazelcast.phone.home.enabled", "false");
            config.setProperty("hazelcast.logging.type", "slf4j");
            // As the service runs its members (ControlService.hazelcastConfig): a lost member is declared gone within 10 s, not
            // Hazelcast's default 60 s, during which operations on the partitions it owned wait.
            config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
            config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
            var network = config.getNetworkConfig().setPort(base + i).setPortAutoIncrement(false);
            network.getJoin().getMulticastConfig().setEnabled(false);
            network.getJoin().getAutoDetectionConfig().setEnabled(false);
            var tcp = network.getJoin().getTcpIpConfig().setEnabled(true);
            for (int j = 0; j < replicas; j++) {
                tcp.addMember("127.0.0.1:" + (base + j));
            }
            network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
            config.addMapConfig(new MapConfig("head").setBackupCount(2));
            config.addMapConfig(new MapConfig("entries").setBackupCount(2));
            started.add(Hazelcast.newHazelcastInstance(config));
        }
        members.addAll(started);
        var result = new ArrayList<ConfigurationStore>();
        var starting = new ArrayList<java.util.concurrent.Future<ConfigurationStore>>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < replicas; i++) {
                var m = started.get(i);
                var log = new ConfigurationLog(data.resolve("r" + i), 50);
                java.util.concurrent.Callable<ConfigurationStore> store = () -> {
                    var made = new ConfigurationStore(m.getMap("head"), m.getMap("entries"), log);
                    made.announceWrittenOn(m.getTopic("written")); // as the service's replicas do
                    return made;
                };
                if (together) {
                    starting.add(threads.submit(store));
                } else {
                    result.add(store.call());
                }
            }
            for (var future : starting) {
                result.add(future.get(60, TimeUnit.SECONDS));
            }
        } catch (Exception e) {
            throw new IllegalStateException("a store did not start", e);
        }
        stores.addAll(result);
        return result;
    }

    private static Dataset dataset(String tag) {
        return new Dataset(DatasetId.random(), ConfigurationLogTest.NODE, false, Map.of("writer", tag), null);
    }

    @Test
    void concurrentConditionalWritersOnThreeReplicasLoseNothingAndSurviveLosingOne(@TempDir Path data) throws Exception {
        var replicas = start(data, 3);
        var acknowledged = ConcurrentHashMap.<DatasetId>newKeySet();
        var ambiguous = ConcurrentHashMap.<DatasetId>newKeySet();
        var versions = ConcurrentHashMap.<Long>newKeySet();
        var refused = new AtomicInteger();
        var pool = Executors.newFixedThreadPool(9);
        var futures = new ArrayList<java.util.concurrent.Future<?>>();
        for (int w = 0; w < 9; w++) {
            int writer = w;
            futures.add(pool.submit(() -> {
                int replica = writer % 3;
                for (int i = 0; i < 25; i++) {
                    var d = dataset("w" + writer);
                    while (true) {
                        var store = replicas.get(replica);
                        var tag = store.current().tag();
                        var wanted = d;
                        try {
                            var after = store.update(tag, c -> c.withDataset(wanted));
                            assertThat(versions.add(after.version())).as("version %s given twice", after.version()).isTrue();
                            assertThat(after.version()).isEqualTo(Long.parseLong(tag) + 1);
                            acknowledged.add(d.datasetId());
                            break;
                        } catch (TagMismatchException e) {
                            refused.incrementAndGet();
                        } catch (RuntimeException e) {
                            // This writer's replica went away mid-write: the write may or may not have been taken.
                            assertThat(replica).as("only replica 1 goes away: %s", e).isEqualTo(1);
                            ambiguous.add(d.datasetId());
                            replica = writer % 2 == 0 ? 0 : 2;
                            d = dataset("w" + writer);
                        }
                    }
                }
                return null;
            }));
        }
        while (acknowledged.size() < 60) {
            Thread.sleep(5);
        }
        members.get(1).getLifecycleService().terminate();
        for (var f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(acknowledged).hasSize(9 * 25);
        assertThat(refused.get()).as("writers raced, so some tags were stale").isPositive();
        for (int i : new int[] {0, 2}) {
            var store = replicas.get(i);
            var latest = store.latest();
            assertThat(latest.datasets().keySet()).containsAll(acknowledged);
            var extra = new java.util.HashSet<>(latest.datasets().keySet());
            extra.removeAll(acknowledged);
            assertThat(ambiguous).containsAll(extra);
            assertThat(latest.version()).as("one version per change, none lost or doubled").isEqualTo(latest.datasets().size());
            store.close();
            assertThat(new ConfigurationLog(data.resolve("r" + i)).read()).as("replica %s's disk", i).isEqualTo(store.current());
        }
        assertThat(replicas.get(0).current()).isEqualTo(replicas.get(2).current());
    }

    /**
     * Hazelcast shows a write to events and readers before its backups have it: when the register's owner dies in that
     * window, every replica may have applied a change (and a writer written its entries) that the cluster then lacks. Here
     * the register is set to such a change and back by hand, as the owner's death does.
     */
    /**
     * A writer starts from its replica's copy, which the register's events bring up to date a moment after another replica
     * writes: a tag the client read on that other replica a moment ago is still the cluster's, and must be taken, never
     * answered 412 from the copy; a tag one change old must still be refused, on either replica.
     */
    @Test
    void aTagJustReadOnAnotherReplicaIsTakenAndAnOldOneRefusedWhateverThisReplicasCopyHoldsYet(@TempDir Path data) {
        var replicas = start(data, 3);
        var tag = replicas.get(0).update(null, c -> c.withDataset(dataset("start"))).tag();
        for (int i = 0; i < 60; i++) {
            var written = replicas.get(i % 3).update(tag, c -> c.withDataset(dataset("a" + c.version())));
            var stale = tag;
            tag = written.tag();
            var next = replicas.get((i + 1) % 3);
            // Right away, on the next replica, whose copy may not have the write yet.
            var after = next.update(tag, c -> c.withDataset(dataset("b" + c.version())));
            assertThat(after.version()).isEqualTo(written.version() + 1);
            tag = after.tag();
            for (var replica : replicas) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> replica.update(stale, c -> c.withDataset(dataset("never"))))
                        .isInstanceOf(TagMismatchException.class);
            }
        }
        for (var replica : replicas) {
            assertThat(replica.latest().tag()).isEqualTo(tag);
            assertThat(replica.latest().datasets().values()).noneMatch(d -> "never".equals(d.metadata().get("writer")));
        }
    }

    /**
     * A replica whose copy is held behind (its register events wait behind a listener that blocks): a write there with the
     * cluster's tag is taken, and a change's own refusal, or finding nothing to do, is decided on the register, never on
     * the copy: right after another replica removed a dataset, creating it again is not refused; right after another
     * added one, removing it is not found to be nothing.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 90, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aReplicaWhoseCopyIsBehindDecidesTagsRefusalsAndNoOpsOnTheRegister(@TempDir Path data) throws Exception {
        var replicas = start(data, 3);
        var a = replicas.get(0);
        var b = replicas.get(1);
        var d = dataset("d");
        var hold = new java.util.concurrent.atomic.AtomicBoolean();
        var release = new java.util.concurrent.CountDownLatch(1);
        var held = new java.util.concurrent.CountDownLatch(1);
        // Events of the register reach a member's listeners in order, on one thread: while this one waits in an event, the
        // store's listener hears that event or not (their order is not given), and no later one.
        members.get(1).<String, String>getMap("head").addEntryListener((com.hazelcast.map.listener.EntryUpdatedListener<String, String>) event -> {
            if (hold.get()) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, true);
        try {
            var withD = a.update(null, c -> c.withDataset(d));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (b.current().version() < withD.version() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(b.current().datasets()).containsKey(d.datasetId());
            hold.set(true);
            var other = a.update(null, c -> c.withDataset(dataset("other"))); // b's event thread waits in this one
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            var withoutD = a.update(other.tag(), c -> c.withoutDataset(d.datasetId()));
            Thread.sleep(200);
            assertThat(b.current().version()).as("b's copy is held behind").isLessThan(withoutD.version());
            assertThat(b.current().datasets()).containsKey(d.datasetId());

            // Refused while it exists (unconditional: no tag to catch the copy's age first): not refused, since it is gone
            // from the cluster's configuration.
            var created = b.update(null, c -> {
                if (c.datasets().containsKey(d.datasetId())) {
                    throw new IllegalStateException("dataset in use");
                }
                return c.withDataset(d);
            });
            assertThat(created.version()).isEqualTo(withoutD.version() + 1);
            assertThat(created.datasets()).containsKey(d.datasetId());

            // b heard nothing of this one (its event waits), though it caught up above: removing it if present is not
            // nothing to do.
            var e = dataset("e");
            var withE = a.update(null, c -> c.withDataset(e));
            var removed = b.update(null, c -> c.datasets().containsKey(e.datasetId()) ? c.withoutDataset(e.datasetId()) : c);
            assertThat(removed.version()).isEqualTo(withE.version() + 1);
            assertThat(removed.datasets()).doesNotContainKey(e.datasetId()).containsKey(d.datasetId());

            // A tag b's copy does not have yet (b caught up on each fallback above; this change's event waits too): taken.
            var newer = a.update(null, c -> c.withDataset(dataset("newer")));
            var tagged = b.update(newer.tag(), c -> c.withDataset(dataset("tagged")));
            assertThat(tagged.version()).isEqualTo(newer.version() + 1);
        } finally {
            hold.set(false);
            release.countDown();
        }
        var last = a.latest();
        for (var replica : replicas) {
            assertThat(replica.latest().tag()).isEqualTo(last.tag());
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 90, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aChangeTheClusterShowedAndThenLostIsRewoundEverywhereAndItsEntriesPutBack(@TempDir Path data) throws Exception {
        var replicas = start(data, 2);
        var kept = dataset("kept");
        var committed = replicas.get(0).update(null, c -> c.withDataset(kept));
        var changed = new Dataset(kept.datasetId(), kept.primary(), false, Map.of("writer", "lost"), null);
        var lostDataset = dataset("lost");
        var lost = ConfigurationChange.between(committed, committed.withDataset(changed).withDataset(lostDataset), committed.version() + 1);
        var head = members.get(0).<String, String>getMap("head");
        var entries = members.get(0).<String, String>getMap("entries");
        var committedJson = head.get(ConfigurationStore.HEAD);
        head.set(ConfigurationStore.HEAD, lost.toJson());
        for (var store : replicas) {
            awaitVersion(store, lost.version());
        }
        entries.executeOnKeys(lost.keys(), new ConfigurationStore.PutIfNewer(lost.version(), lost.puts())); // a writer's help
        head.set(ConfigurationStore.HEAD, committedJson); // the owner died: its successor holds the committed change

        var next = dataset("next");
        var after = replicas.get(1).update(committed.tag(), c -> c.withDataset(next));
        assertThat(after.version()).isEqualTo(committed.version() + 1);
        assertThat(after.datasets()).containsOnlyKeys(kept.datasetId(), next.datasetId());
        assertThat(after.datasets().get(kept.datasetId())).isEqualTo(kept);
        awaitVersion(replicas.get(0), after.version());
        assertThat(replicas.get(0).latest()).isEqualTo(after);
        assertThat(entries.get("dataset/" + lostDataset.datasetId().value())).isEqualTo(committed.version() + ":");
        assertThat(entries.get("dataset/" + kept.datasetId().value())).startsWith(committed.version() + ":").contains("\"kept\"");
        for (int i = 0; i < 2; i++) {
            replicas.get(i).close();
            assertThat(new ConfigurationLog(data.resolve("r" + i)).read()).as("replica %s's disk", i).isEqualTo(after);
        }
        // A replica started now loads the entries: nothing of the lost change is among them.
        stop();
        stores.clear();
        members.clear();
        assertThat(start(data, 1).get(0).current()).isEqualTo(after);
    }

    private static void awaitVersion(ConfigurationStore store, long version) throws InterruptedException {
        var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.current().version() != version) {
            assertThat(System.nanoTime()).as("replica at version %s, not %s", store.current().version(), version).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void everyReplicaRestartedFromItsDiskServesExactlyTheConfigurationItHad(@TempDir Path data) throws Exception {
        int batch = ConfigurationStore.seedBatch;
        ConfigurationStore.seedBatch = 16; // the seed in ~8 batches written together; the replica copying below reads them all
        try {
            restartFromDisks(data);
        } finally {
            ConfigurationStore.seedBatch = batch;
        }
    }

    private void restartFromDisks(Path data) throws Exception {
        var replicas = start(data, 3);
        Configuration last = null;
        for (int i = 0; i < 120; i++) {
            var d = dataset("r" + i % 3);
            last = replicas.get(i % 3).update(null, c -> c.withDataset(d));
        }
        var removed = last.datasets().keySet().iterator().next();
        last = replicas.get(0).update(last.tag(), c -> c.withoutDataset(removed));
        for (var store : replicas) {
            var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (store.current().version() < last.version() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        stop();
        stores.clear();
        members.clear();
        var restarted = start(data, 3, true);
        for (var store : restarted) {
            assertThat(store.current()).isEqualTo(last);
            assertThat(store.current().datasets()).doesNotContainKey(removed);
            // The first seeded the cluster from its disk; the others' disks end with the change the register then holds.
            assertThat(store.startedFromDisk()).isTrue();
        }
        var d = dataset("after");
        var after = restarted.get(2).update(last.tag(), c -> c.withDataset(d));
        assertThat(after.version()).isEqualTo(last.version() + 1);

        // Restarted again, one replica's disk behind (it missed the last change) and one holding another change at the
        // last version (one the cluster lost): each serves the cluster's configuration, copied, not its own.
        for (var store : restarted) {
            awaitVersion(store, after.version());
        }
        stop();
        stores.clear();
        members.clear();
        var behind = data.resolve("r1");
        try (var files = java.nio.file.Files.list(behind)) {
            for (var file : files.toList()) {
                java.nio.file.Files.delete(file);
            }
        }
        new ConfigurationFile(behind).write(last);
        var other = new ConfigurationLog(data.resolve("r2"));
        var diverged = other.read();
        assertThat(diverged).isEqualTo(after);
        other.rewind(last, null);
        var lostDataset = dataset("lost");
        var lostConfig = last.withDataset(lostDataset);
        other.append(ConfigurationChange.between(last, lostConfig, after.version()), lostConfig.atVersion(after.version()));
        other.close();
        var again = start(data, 3);
        for (var store : again) {
            assertThat(store.current()).isEqualTo(after);
        }
        assertThat(again.get(0).startedFromDisk()).isTrue();
        assertThat(again.get(1).startedFromDisk()).as("a replica whose disk is behind").isFalse();
        assertThat(again.get(2).startedFromDisk()).as("a replica whose disk holds another change at that version").isFalse();
        assertThat(new ConfigurationLog(data.resolve("r2")).read()).as("its disk, rewritten").isEqualTo(after);
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 90, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aChangeWhoseWriterIsStillWritingItsEntriesIsNotLostByTheNextWriterOfTheSameReplica(@TempDir Path data) throws Exception {
        var replicas = start(data, 1);
        var first = replicas.get(0).update(null, c -> c.withDataset(dataset("first")));
        var slow = dataset("slow");
        withWriteHeldAfterCommit(replicas.get(0), slow, first.version() + 1, slowVersion -> {
            // Committed, its entries not written yet: another writer of the same replica commits the next change.
            var next = dataset("next");
            var afterNext = replicas.get(0).update(null, c -> c.withDataset(next));
            assertThat(afterNext.version()).isEqualTo(slowVersion + 1);
            // A replica loading the cluster's configuration now (a new one, or one that missed events) has both.
            var late = lateReplica(0, data);
            assertThat(late.current().datasets()).containsKeys(slow.datasetId(), next.datasetId());
            assertThat(late.current()).isEqualTo(afterNext);
        });
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 90, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aChangeWhoseWriterHasNotAnnouncedItsEntriesWrittenIsWrittenByTheNextWriterOfAnotherReplica(@TempDir Path data) throws Exception {
        var replicas = start(data, 2);
        var first = replicas.get(0).update(null, c -> c.withDataset(dataset("first")));
        // Announced by now or not, the next change from the other replica keeps it (written again or known written).
        var second = replicas.get(1).update(null, c -> c.withDataset(dataset("second")));
        assertThat(second.version()).isEqualTo(first.version() + 1);
        var slow = dataset("slow");
        withWriteHeldAfterCommit(replicas.get(0), slow, second.version() + 1, slowVersion -> {
            // Committed on replica 0, its entries neither written nor announced: replica 1 commits the next change, as a
            // writer that dies here would leave it. The entries must then hold the slow change: replica 1 wrote them.
            awaitVersion(replicas.get(1), slowVersion);
            var next = dataset("next");
            var afterNext = replicas.get(1).update(null, c -> c.withDataset(next));
            assertThat(afterNext.version()).isEqualTo(slowVersion + 1);
            var late = lateReplica(1, data);
            assertThat(late.current()).isEqualTo(afterNext);
            assertThat(late.current().datasets()).containsKeys(slow.datasetId(), next.datasetId());
        });
    }

    /** What runs while a write is held between its commit and its entries' write; given the held write's version. */
    private interface WhileHeld {
        void run(long heldVersion) throws Exception;
    }

    /**
     * Adds {@code slow} through {@code writer}, holds that write (of {@code version}) between its commit and the writing of
     * its entries while {@code meanwhile} runs, then lets it finish and checks it was taken.
     */
    private static void withWriteHeldAfterCommit(ConfigurationStore writer, Dataset slow, long version, WhileHeld meanwhile) throws Exception {
        var held = new java.util.concurrent.CountDownLatch(1);
        var release = new java.util.concurrent.CountDownLatch(1);
        ConfigurationStore.afterCommit = v -> {
            if (v == version) {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        var threads = Executors.newVirtualThreadPerTaskExecutor();
        try {
            var slowWrite = threads.submit(() -> writer.update(null, c -> c.withDataset(slow)));
            assertThat(held.await(30, TimeUnit.SECONDS)).as("the slow writer committed").isTrue();
            meanwhile.run(version);
            release.countDown();
            assertThat(slowWrite.get(30, TimeUnit.SECONDS).datasets()).containsKey(slow.datasetId());
        } finally {
            release.countDown();
            threads.close();
            ConfigurationStore.afterCommit = v -> { };
        }
    }

    /** A new replica's store on member {@code member}: it loads the cluster's configuration (its disk is empty). */
    private ConfigurationStore lateReplica(int member, Path data) {
        var late = new ConfigurationStore(members.get(member).getMap("head"), members.get(member).getMap("entries"),
                new ConfigurationLog(data.resolve("late"), 50));
        stores.add(late);
        return late;
    }

    @Test
    void aWriterThatWakesUpLateCannotUndoANewerChangeOfAnEntry(@TempDir Path data) {
        var replicas = start(data, 1);
        var d = dataset("x");
        var first = replicas.get(0).update(null, c -> c.withDataset(d));
        var renamed = new Dataset(d.datasetId(), d.primary(), false, Map.of("name", "newer"), null);
        var second = replicas.get(0).update(null, c -> c.withDataset(renamed));
        var entries = members.get(0).<String, String>getMap("entries");
        var key = "dataset/" + d.datasetId().value();
        var late = ConfigurationChange.between(Configuration.EMPTY, first, first.version());
        var applied = entries.executeOnKeys(Set.of(key), new ConfigurationStore.PutIfNewer(late.version(), late.puts()));
        assertThat(applied.get(key)).isFalse();
        assertThat(entries.get(key)).startsWith(second.version() + ":").contains("newer");
    }
}
