package dev.flocker.control.store;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import dev.flocker.api.model.Configuration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The desired configuration, kept per entry in the cluster and committed through one small register.
 * <ul>
 * <li>Entries (datasets, applications, leases) live in a partitioned Hazelcast map, {@code key -> "<version>:<json>"}
 * ({@code "<version>:"} once removed), spread over every replica with synchronous backups.</li>
 * <li>The commit point is one entry of a second map: the configuration's version and the last change
 * ({@link ConfigurationChange}), a few hundred bytes however large the configuration is. A write is a compare-and-set
 * of that entry from version N to N+1, so there is one total order of changes, one tag ({@code N}) that changes on
 * every change, and no write is accepted on a stale tag: exactly Flocker's semantics, across partitions and replicas.</li>
 * <li>After its commit, a writer applies its change to the entries. Before committing, a writer that did not write
 * the last change applies that one too (its writer may have died in between), so the entries always hold every change
 * but possibly the register's last one. Entries carry their version and are never overwritten by an older one, so a
 * writer that wakes up late cannot undo a newer change.</li>
 * <li>Every replica applies each change to its own copy from the register's events (in order; a replica that missed
 * one reloads the entries and the register), and logs it to its disk ({@link ConfigurationLog}); the writer's replica
 * fsyncs the change before the write is acknowledged.</li>
 * </ul>
 * Reads come from the local copy. The copy's maps are persistent, so a change costs O(changes x log n), not the
 * configuration's size.
 */
public final class ConfigurationStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigurationStore.class);
    static final String HEAD = "head";
    static final java.time.Duration MAJORITY_WAIT = java.time.Duration.ofSeconds(5);
    /** Entries per seed batch (tests make it small, to seed in many batches). */
    static volatile int seedBatch = 2_000;
    /** How many seed batches are written at once ({@link #restore}). */
    private static final int SEED_WRITERS = 4;

    private final IMap<String, String> head;
    private final IMap<String, String> entries;
    private final ConfigurationLog log;
    private final List<Consumer<Configuration>> listeners = new CopyOnWriteArrayList<>();
    /**
     * This replica's copy and the register's JSON of the change that made it, as one pair (both null while it starts);
     * read without the lock, which {@link #apply} holds while it fsyncs.
     */
    private volatile Applied latest = new Applied(null, null);
    /** The last configurations this replica held, with their changes' JSON, newest last: what a rewind repairs entries from. */
    private final java.util.ArrayDeque<Applied> history = new java.util.ArrayDeque<>();
    private static final int HISTORY = 16;

    /** A configuration this replica held, and the register's JSON of the change that made it. */
    private record Applied(Configuration configuration, String json) {
    }
    /** The last version this replica wrote itself (its entries are known to be written). */
    private final java.util.concurrent.atomic.AtomicLong wroteLast = new java.util.concurrent.atomic.AtomicLong(-1);
    /**
     * The newest version whose writer announced its entries written ({@link #announceWrittenOn}): every change up to it is
     * in the entries, as every writer writes the change before its own first when it does not know it written.
     */
    private final java.util.concurrent.atomic.AtomicLong announcedWritten = new java.util.concurrent.atomic.AtomicLong(-1);
    private volatile com.hazelcast.topic.ITopic<Long> announcements;
    /** Tests only: runs in a writer between its commit and the writing of its entries (a slow writer, held there). */
    static volatile java.util.function.LongConsumer afterCommit = version -> { };

    /**
     * @param head    the commit register (one entry)
     * @param entries the configuration's entries
     */
    public ConfigurationStore(IMap<String, String> head, IMap<String, String> entries, ConfigurationLog log) {
        this(head, entries, log, log.readWithLastChange());
    }

    /** As above, with {@code log} read already ({@link ConfigurationLog#readWithLastChange}: a service reads it while its cluster forms). */
    public ConfigurationStore(IMap<String, String> head, IMap<String, String> entries, ConfigurationLog log, ConfigurationFile.Snapshot disk) {
        this.head = head;
        this.entries = entries;
        this.log = log;
        head.addEntryListener(new Listener(), HEAD, true);
        var fromDisk = disk.configuration();
        // The first replica up seeds the cluster from its disk; a replica that has seen a newer configuration than the
        // cluster holds (all replicas were down, and it was the last to go) brings it back. Writers wait meanwhile.
        // A replica whose disk ends with the very change the register holds has the cluster's configuration already
        // (as a replica running compares changes: same version, same change) and does not copy 100,000 entries back.
        long locking = System.nanoTime();
        withMajority(() -> {
            head.lock(HEAD);
            return null;
        });
        long locked = System.nanoTime();
        try {
            synchronized (this) { // the register's event of a restore is applied after the copy is set here, and finds it so
                var inCluster = head.get(HEAD);
                if (inCluster == null || ConfigurationChange.parse(inCluster).version() < fromDisk.version()) {
                    accept(fromDisk, restore(fromDisk, disk.lastChange(), inCluster != null), false);
                } else if (inCluster.equals(disk.lastChange())) {
                    accept(fromDisk, inCluster, false);
                } else {
                    load();
                }
            }
        } finally {
            head.unlock(HEAD);
        }
        var held = latest;
        if (held.configuration() != fromDisk || disk.lastChange() == null) { // a snapshot also records the change (and upgrades old files)
            log.snapshotNow(held.configuration(), held.json());
        }
        startedFromDisk = held.configuration() == fromDisk;
        LOG.atInfo().addKeyValue("version", held.configuration().version()).addKeyValue("datasets", held.configuration().datasets().size())
                .addKeyValue("from", startedFromDisk ? "disk" : "cluster").addKeyValue("disk_version", fromDisk.version())
                .addKeyValue("lock_wait_ms", (locked - locking) / 1_000_000).addKeyValue("after_lock_ms", (System.nanoTime() - locked) / 1_000_000)
                .addKeyValue("disk_change", disk.lastChange() == null ? "unknown" : disk.lastChange().length() > 80 ? disk.lastChange().substring(0, 80) : disk.lastChange())
                .log("configuration ready");
    }

    private final boolean startedFromDisk;

    /** Whether this replica started on its disk's configuration (seeding the cluster, or holding what it holds) rather than a copy. */
    public boolean startedFromDisk() {
        return startedFromDisk;
    }

    /**
     * Writes {@code configuration} into the cluster in place of what it holds (under the register's lock), and returns what
     * the register now holds: {@code lastChange}, the change that made this version, when the disk knows it (replicas
     * whose disks end with it need not copy the entries), else a mark of the version alone.
     */
    private String restore(Configuration configuration, String lastChange, boolean replacing) {
        long started = System.nanoTime();
        var stamp = configuration.version() + ":";
        var whole = ConfigurationChange.whole(configuration);
        long serialised = System.nanoTime();
        if (replacing) {
            var wanted = whole.puts().keySet();
            var stale = new HashMap<String, String>();
            for (var key : entries.keySet()) {
                if (!wanted.contains(key)) {
                    stale.put(key, stamp);
                }
            }
            withMajority(() -> {
                entries.putAll(stale);
                return null;
            });
        }
        // Batches written SEED_WRITERS at a time, so the members work on several at once rather than wait for each
        // putAll's owners and backups in turn. On 2 cores shared by three replicas it saved little (100,000 entries:
        // ~4 s either way: the write is CPU there, BENCHMARKS.md); not measured with a core per replica.
        var batches = new ArrayList<Map<String, String>>();
        var batch = new HashMap<String, String>();
        for (var e : whole.puts().entrySet()) {
            batch.put(e.getKey(), stamp + e.getValue());
            if (batch.size() == seedBatch) {
                batches.add(batch);
                batch = new HashMap<>();
            }
        }
        if (!batch.isEmpty()) {
            batches.add(batch);
        }
        writeAll(batches);
        var register = lastChange != null ? lastChange : ConfigurationChange.mark(configuration.version()).toJson();
        withMajority(() -> { // once every entry is in
            head.set(HEAD, register);
            return null;
        });
        LOG.atInfo().addKeyValue("version", configuration.version()).addKeyValue("entries", whole.puts().size())
                .addKeyValue("serialise_ms", (serialised - started) / 1_000_000).addKeyValue("write_ms", (System.nanoTime() - serialised) / 1_000_000)
                .log(replacing ? "restored a newer configuration from disk" : "seeded the cluster's configuration from disk");
        return register;
    }

    /** Writes {@code batches} into the entries, {@link #SEED_WRITERS} at a time; returns once all are written (or throws the first failure). */
    private void writeAll(List<Map<String, String>> batches) {
        if (batches.isEmpty()) {
            return;
        }
        try (var writers = java.util.concurrent.Executors.newFixedThreadPool(Math.min(SEED_WRITERS, batches.size()),
                Thread.ofPlatform().name("configuration-seed-", 0).daemon().factory())) {
            var written = new ArrayList<java.util.concurrent.Future<?>>();
            for (var b : batches) {
                written.add(writers.submit(() -> withMajority(() -> {
                    entries.putAll(b);
                    return null;
                })));
            }
            for (var w : written) {
                try {
                    w.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    written.forEach(f -> f.cancel(true));
                    throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    written.forEach(f -> f.cancel(true));
                    throw new IllegalStateException("interrupted while seeding the configuration", e);
                }
            }
        }
    }

    private final class Listener implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String> {
        @Override
        public void entryAdded(EntryEvent<String, String> event) {
            changed(event.getValue());
        }

        @Override
        public void entryUpdated(EntryEvent<String, String> event) {
            changed(event.getValue());
        }

        private void changed(String json) {
            if (current() == null) {
                // Still starting: the constructor reads the register under its lock and takes what it holds from there.
                // Loading here instead copied every entry back, while the disk held the same configuration.
                return;
            }
            try {
                var change = ConfigurationChange.parse(json);
                apply(change, json, null);
                if (change.version() < current().version()) {
                    catchUp(); // usually this replica applied newer changes first; or the register lost what it showed
                }
            } catch (RuntimeException e) {
                LOG.atError().setCause(e).log("cannot apply a configuration change");
            }
        }
    }

    /**
     * Applies {@code change} (whose JSON, as the register holds it, is {@code json}) to this replica's copy if it is the
     * next one (a known result may be given), reloads the whole configuration if changes were missed, and logs it to disk.
     */
    private synchronized void apply(ConfigurationChange change, String json, Configuration result) {
        var held = latest;
        var now = held.configuration();
        if (now != null && change.version() < now.version()) {
            return;
        }
        if (now != null && change.version() == now.version()) {
            if (!json.equals(held.json())) {
                rewind(); // the register holds another change at this version: the one applied here was lost
            }
            return;
        }
        if (now == null || change.version() != now.version() + 1) {
            load();
            return;
        }
        var next = result != null ? result : change.applyTo(now);
        log.append(change, json, next);
        remember(change);
        accept(next, json, false);
    }

    /** The register as read: its JSON and the change it holds. */
    private record Registered(String json, ConfigurationChange last) {
    }

    /**
     * Reads the register and brings this replica to it: applies what it lacks, or rewinds when the register is behind
     * its copy or holds another change at its version ({@link #apply} sees to that one). Hazelcast shows a write to events
     * and readers before its backups have it; when the member owning the register dies in that window, the write is gone
     * from the cluster (its writer got no answer) but this replica may have applied it. The register cannot go back
     * otherwise.
     */
    private Registered catchUp() {
        long seen = current().version();
        var registered = withMajority(() -> head.get(HEAD));
        var last = ConfigurationChange.parse(registered);
        if (last.version() < seen) {
            rewind();
        } else {
            apply(last, registered, null);
        }
        return new Registered(registered, last);
    }

    /**
     * Replaces this replica's copy by the cluster's, also when that is older (see {@link #catchUp()}), under the register's
     * lock. Entries written for a lost change (a writer applies the register's last change to the entries before its own
     * commit) are put back as they were, from this replica's history: an entry newer than the register, or at its
     * version but not touched by its change, was written for a lost one.
     */
    private synchronized void rewind() {
        withMajority(() -> {
            head.lock(HEAD);
            return null;
        });
        try {
            var registered = withMajority(() -> head.get(HEAD));
            var last = ConfigurationChange.parse(registered);
            var held = latest;
            if (held.configuration() != null && last.version() == held.configuration().version() && registered.equals(held.json())) {
                return; // another thread of this replica rewound already
            }
            repairEntries(last, registered);
            var from = held.configuration() == null ? -1 : held.configuration().version();
            recent.clear();
            load(true);
            LOG.atWarn().addKeyValue("from", from).addKeyValue("to", current().version())
                    .log("this replica held a change the cluster lost (its register's owner died before backing it up): rewound to the cluster's configuration");
        } finally {
            head.unlock(HEAD);
        }
    }

    private void repairEntries(ConfigurationChange last, String registered) {
        var touched = last.keys();
        var lost = new HashMap<String, String>();
        withMajority(() -> Map.copyOf(entries)).forEach((key, value) -> {
            long version = Long.parseLong(value.substring(0, value.indexOf(':')));
            if (version > last.version() || version == last.version() && !touched.isEmpty() && !touched.contains(key)) {
                lost.put(key, value);
            }
        });
        if (lost.isEmpty()) {
            return;
        }
        // An entry's value at the register's version: from the configuration this replica held at that version, or, for
        // an entry the register's change did not touch, at the version before (the change was made on top of it).
        var at = history.stream().filter(a -> a.configuration().version() == last.version() && a.json().equals(registered)).findFirst();
        var below = history.stream().filter(a -> a.configuration().version() == last.version() - 1).reduce((a, b) -> b);
        var repaired = new HashMap<String, String>();
        var unknown = new java.util.TreeSet<String>();
        lost.keySet().forEach(key -> {
            var source = at.isPresent() ? at : touched.contains(key) ? java.util.Optional.<Applied>empty() : below;
            if (source.isEmpty()) {
                unknown.add(key);
                return;
            }
            var json = ConfigurationChange.entryOf(source.get().configuration(), key);
            repaired.put(key, last.version() + ":" + (json == null ? "" : json));
        });
        repaired.entrySet().removeIf(e -> e.getValue().equals(lost.get(e.getKey()))); // put back already
        lost.keySet().retainAll(repaired.keySet());
        if (!lost.isEmpty()) {
            withMajority(() -> onKeys(lost.keySet(), new ReplaceIfUnchanged(lost, repaired)));
            LOG.atWarn().addKeyValue("version", last.version()).addKeyValue("entries", lost.keySet()).log("put back entries written for a lost change");
        }
        if (!unknown.isEmpty()) {
            LOG.atError().addKeyValue("version", last.version()).addKeyValue("entries", unknown)
                    .log("entries were written for a lost change, and this replica does not hold what they were before: they stay as written");
        }
    }

    /**
     * Reads the whole configuration from the cluster: the entries, and the register's change on top (it may not have
     * reached the entries yet). Retries until the register did not move while the entries were read.
     */
    private void load() {
        load(false);
    }

    /** As {@link #load()}; {@code rewinding}, it takes the cluster's configuration also when it is not newer. */
    private synchronized void load(boolean rewinding) {
        while (true) {
            var before = withMajority(() -> head.get(HEAD));
            var last = ConfigurationChange.parse(before);
            var now = current();
            if (!rewinding && now != null && last.version() <= now.version()) {
                return;
            }
            var all = withMajority(() -> Map.copyOf(entries));
            if (!before.equals(withMajority(() -> head.get(HEAD)))) {
                continue;
            }
            var puts = new HashMap<String, String>();
            all.forEach((key, value) -> {
                int colon = value.indexOf(':');
                if (colon < value.length() - 1) { // not a removed entry
                    puts.put(key, value.substring(colon + 1));
                }
            });
            var loaded = last.applyTo(new ConfigurationChange(last.version(), puts, List.of()).applyTo(Configuration.EMPTY));
            if (rewinding) {
                log.rewind(loaded, before); // the log may hold the lost change
            } else if (now != null) {
                log.snapshotNow(loaded, before);
                LOG.atInfo().addKeyValue("from", now.version()).addKeyValue("to", loaded.version()).log("reloaded the configuration");
            }
            accept(loaded, before, rewinding);
            return;
        }
    }

    /** The last changes, by version: what readers of successive versions ask instead of comparing 100,000 entries. */
    private final java.util.concurrent.ConcurrentSkipListMap<Long, ConfigurationChange> recent = new java.util.concurrent.ConcurrentSkipListMap<>();
    static final int RECENT_CHANGES = 10_000;

    private void remember(ConfigurationChange change) {
        recent.put(change.version(), change);
        while (recent.size() > RECENT_CHANGES) {
            recent.pollFirstEntry();
        }
    }

    /**
     * The datasets and leases (by dataset id) changed from version {@code from} to version {@code to}, or null when
     * some change between them is not remembered (the caller compares the two configurations instead).
     */
    public java.util.Set<dev.flocker.api.model.DatasetId> datasetsChanged(long from, long to) {
        if (to < from) {
            return null;
        }
        var changed = new java.util.HashSet<dev.flocker.api.model.DatasetId>();
        for (long v = from + 1; v <= to; v++) {
            var change = recent.get(v);
            if (change == null) {
                return null;
            }
            change.touchedDatasets(changed);
        }
        return changed;
    }

    private synchronized void accept(Configuration configuration, String json, boolean rewinding) {
        var now = current();
        if (!rewinding && now != null && configuration.version() <= now.version()) {
            return;
        }
        latest = new Applied(configuration, json);
        history.addLast(latest);
        if (history.size() > HISTORY) {
            history.removeFirst();
        }
        listeners.forEach(l -> l.accept(configuration));
    }

    /** The latest configuration this replica has seen. */
    public Configuration current() {
        return latest.configuration();
    }

    /** The configuration as the cluster holds it now (the register is read; the local copy catches up to it). */
    public Configuration latest() {
        catchUp();
        return current();
    }

    /**
     * How long a write's steps took on its writer's replica: {@code prepare} (the change worked out on the copy, with
     * retries after a lost compare-and-set and the entries of a change another replica committed last), {@code register}
     * (the compare-and-set, waiting for the register's owner and backups), then, side by side from the commit on,
     * {@code entries} (the change's entries, waiting for their owners and backups) and {@code disk} (this replica's copy
     * and log, fsynced). The answer waits for both.
     */
    public record CommitTimes(long prepareNanos, long registerNanos, long entriesNanos, long diskNanos) {
        /** The steps' names, in order, as {@link #byStep} keys them. */
        public static final List<String> STEPS = List.copyOf(new CommitTimes(0, 0, 0, 0).byStep().keySet());

        /** Each step's time in nanoseconds, by name, in the steps' order. */
        public java.util.SequencedMap<String, Long> byStep() {
            var steps = new java.util.LinkedHashMap<String, Long>();
            steps.put("prepare", prepareNanos);
            steps.put("register", registerNanos);
            steps.put("entries", entriesNanos);
            steps.put("disk", diskNanos);
            return steps;
        }
    }

    private final List<Consumer<CommitTimes>> commitWatchers = new CopyOnWriteArrayList<>();

    /** Calls {@code watcher} with the steps' times of every write committed through this replica. */
    public void onCommit(Consumer<CommitTimes> watcher) {
        commitWatchers.add(watcher);
    }

    /**
     * Writers announce on {@code topic} that a change's entries are written (after their owners and backups answered), and
     * this replica hears the others': a writer whose last change came from another replica need not write that change's
     * entries again before its own commit (a round trip to their owners and backups) once their writer announced them. A
     * writer that has not heard it yet writes them, as before; an announcement is sent only for a commit that was
     * acknowledged, so never for a change the cluster then lost.
     */
    public void announceWrittenOn(com.hazelcast.topic.ITopic<Long> topic) {
        topic.addMessageListener(message -> announcedWritten.accumulateAndGet(message.getMessageObject(), Math::max));
        announcements = topic;
    }

    /** Calls {@code listener} with every newer configuration (from any replica). */
    public void onChange(Consumer<Configuration> listener) {
        listeners.add(listener);
    }

    /**
     * Applies {@code change} to the current configuration with compare-and-set, retrying when another writer got in
     * first. With {@code ifMatches} non-null the change applies only to that tag. Returns the new configuration, or the
     * unchanged one when {@code change} returned its argument.
     */
    public Configuration update(String ifMatches, UnaryOperator<Configuration> change) {
        long started = System.nanoTime();
        // First from this replica's copy, which the register's events keep current: the compare-and-set below is what
        // makes a write atomic, and it fails when the copy was behind. Only then (or before answering 412) is the register
        // read: one round trip to the member that owns it fewer per write, which is most of a write on three replicas.
        boolean fromCopy = true;
        while (true) {
            Applied now;
            String registered;
            ConfigurationChange last;
            if (fromCopy && (now = latest).json() != null) {
                registered = now.json();
                last = null; // parsed only if its entries need writing
            } else {
                fromCopy = false;
                var read = catchUp();
                registered = read.json();
                last = read.last();
                now = latest;
                if (now.configuration().version() != last.version() || !registered.equals(now.json())) {
                    continue; // a newer change arrived meanwhile: read the register again
                }
            }
            var before = now.configuration();
            if (ifMatches != null && !ifMatches.equals(before.tag())) {
                if (fromCopy) {
                    fromCopy = false; // the copy may be behind the tag the client read elsewhere: ask the register
                    continue;
                }
                throw new TagMismatchException(ifMatches, before.tag());
            }
            var tracked = before.tracked();
            Configuration after;
            try {
                after = change.apply(tracked);
            } catch (RuntimeException refused) {
                if (fromCopy) {
                    fromCopy = false; // refused (a 409, a 400) by a copy that may be behind: decided on the register's
                    continue;
                }
                throw refused;
            }
            if (after == tracked) {
                if (fromCopy) {
                    fromCopy = false; // nothing to do, by a copy that may be behind: only the register's says so
                    continue;
                }
                return before;
            }
            long version = before.version() + 1;
            var delta = ConfigurationChange.between(before, after, version);
            if (wroteLast.get() != before.version() && announcedWritten.get() < before.version()) {
                // Its writer may have died before it did.
                writeEntries(last != null ? last : ConfigurationChange.parse(registered), false);
            }
            var json = delta.toJson();
            String expected = registered;
            long committing = System.nanoTime();
            if (!withMajority(() -> head.replace(HEAD, expected, json)) && !json.equals(withMajority(() -> head.get(HEAD)))) {
                fromCopy = false;
                continue;
            }
            long committed = System.nanoTime();
            // Taken, or refused while the register holds exactly this change: when the member owning the register dies
            // mid-call, Hazelcast runs the compare-and-set again on the new owner, which finds it done and answers false.
            // Writing it again would give one change two versions, and a conditional writer a 412 for a write taken.
            after = after.atVersion(version).untracked();
            afterCommit.accept(version);
            // The entries are written by their owners while this replica logs the change to its disk: both are waited for
            // before the answer, side by side rather than one after the other. Neither needs the other: a replica that
            // reads the entries meanwhile (a reload) takes the register's change on top of them, and the register has it.
            var entriesWritten = writeEntriesAsync(delta, true);
            apply(delta, json, after);
            long logged = System.nanoTime();
            awaitEntries(entriesWritten);
            long written = System.nanoTime();
            // Only now: another writer on this replica that commits the next change meanwhile writes this one's entries
            // first. Set at the commit (before), it skipped them while they were still being written, and a replica that
            // loaded the entries then (a gap in its events) lost this acknowledged change for good (a CI failure of
            // ConfigurationStoreTest's concurrent writers, one dataset missing on one replica).
            wroteLast.accumulateAndGet(version, Math::max);
            var topic = announcements;
            if (topic != null) {
                try {
                    topic.publishAsync(version);
                } catch (RuntimeException e) { // the next writer elsewhere writes them again, as without announcements
                    LOG.atDebug().addKeyValue("version", version).log("cannot announce the entries written: " + e);
                }
            }
            var times = new CommitTimes(committing - started, committed - committing, written - committed, logged - committed);
            commitWatchers.forEach(w -> w.accept(times));
            return after;
        }
    }

    /** Writes a change's entries: {@code committed} by its writer, whose commit was acknowledged (see {@link PutIfNewer}). */
    private void writeEntries(ConfigurationChange change, boolean committed) {
        awaitEntries(writeEntriesAsync(change, committed));
    }

    /** A change's entries being written: what was asked of which keys, and the answer to come. */
    private record EntriesWrite(java.util.Set<String> keys, PutIfNewer processor, java.util.concurrent.CompletableFuture<Map<String, Boolean>> answer) {
    }

    /** Starts writing a change's entries (null when it has none); {@link #awaitEntries} waits for them. */
    private EntriesWrite writeEntriesAsync(ConfigurationChange change, boolean committed) {
        if (change.puts().isEmpty() && change.removes().isEmpty()) {
            return null;
        }
        var keys = change.keys();
        var processor = new PutIfNewer(change.version(), change.puts(), committed);
        java.util.concurrent.CompletableFuture<Map<String, Boolean>> answer;
        try {
            answer = entries.submitToKeys(keys, processor).toCompletableFuture();
        } catch (SplitBrainProtectionException e) {
            answer = java.util.concurrent.CompletableFuture.failedFuture(e); // asked again by awaitEntries
        }
        return new EntriesWrite(keys, processor, answer);
    }

    /**
     * Waits for {@link #writeEntriesAsync}'s write; one refused for want of a majority is asked again, as
     * {@link #withMajority} retries any operation.
     */
    private void awaitEntries(EntriesWrite write) {
        if (write == null) {
            return;
        }
        try {
            await(write.answer());
        } catch (SplitBrainProtectionException e) {
            withMajority(() -> onKeys(write.keys(), write.processor()));
        }
    }

    /**
     * Sets an entry to its value in a change (or marks it removed), unless the entry already holds a newer version (or
     * the same one: only the change's own writer, {@code committed}, overwrites that, which was then written for a lost
     * change): run where the entry lives, and on its backups.
     */
    record PutIfNewer(long version, Map<String, String> puts, boolean committed) implements EntryProcessor<String, String, Boolean>, java.io.Serializable {
        PutIfNewer {
            puts = new HashMap<>(puts);
        }

        PutIfNewer(long version, Map<String, String> puts) {
            this(version, puts, false);
        }

        @Override
        public Boolean process(Map.Entry<String, String> entry) {
            var existing = entry.getValue();
            long held = existing == null ? -1 : Long.parseLong(existing.substring(0, existing.indexOf(':')));
            if (held > version || held == version && (!committed || existing.equals(version + ":" + puts.getOrDefault(entry.getKey(), "")))) {
                return false;
            }
            var json = puts.get(entry.getKey());
            entry.setValue(version + ":" + (json == null ? "" : json));
            return true;
        }
    }

    /** Puts back entries that still hold what a rewind found in them (see {@link #rewind()}). */
    record ReplaceIfUnchanged(Map<String, String> expected, Map<String, String> replacements)
            implements EntryProcessor<String, String, Boolean>, java.io.Serializable {
        ReplaceIfUnchanged {
            expected = new HashMap<>(expected);
            replacements = new HashMap<>(replacements);
        }

        @Override
        public Boolean process(Map.Entry<String, String> entry) {
            if (!java.util.Objects.equals(expected.get(entry.getKey()), entry.getValue())) {
                return false;
            }
            entry.setValue(replacements.get(entry.getKey()));
            return true;
        }
    }

    /**
     * Runs {@code processor} on {@code keys} where they live ({@code executeOnKeys}), failing as any call on a stopped
     * member does when this replica's member stops meanwhile. Hazelcast 5.6 can leave such a call on many partitions
     * waiting for ever when its own member is terminated during it (a writer of the lost replica in
     * ConfigurationStoreTest's concurrent writers, once in CI and once in four runs of the class here: its thread parked
     * in {@code executeOnKeys} with every other writer done), so the wait looks every second whether the member still runs.
     */
    private <R> Map<String, R> onKeys(java.util.Set<String> keys, EntryProcessor<String, String, R> processor) {
        return await(entries.submitToKeys(keys, processor).toCompletableFuture());
    }

    /** Waits for an answer of {@link #onKeys}, looking every second whether this replica's member still runs. */
    private <R> R await(java.util.concurrent.CompletableFuture<R> future) {
        while (true) {
            try {
                return future.get(1, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                if (entries instanceof com.hazelcast.spi.impl.AbstractDistributedObject<?> proxy) {
                    proxy.getNodeEngine(); // throws HazelcastInstanceNotActiveException once the member stopped
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // As executeOnKeys throws it (withMajority waits out a SplitBrainProtectionException).
                throw e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while writing entries", e);
            }
        }
    }

    /**
     * While the cluster settles after losing a replica, Hazelcast may briefly refuse operations for want of a majority;
     * wait a little for it before giving up with {@link NoMajorityException}.
     */
    private static <T> T withMajority(Supplier<T> operation) {
        long deadline = System.nanoTime() + MAJORITY_WAIT.toNanos();
        while (true) {
            try {
                return operation.get();
            } catch (SplitBrainProtectionException e) {
                if (System.nanoTime() > deadline) {
                    throw new NoMajorityException(e);
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new NoMajorityException(e);
                }
            }
        }
    }

    @Override
    public void close() {
        log.close();
    }

    /** No majority of replicas is reachable, so this one must not accept writes. */
    public static final class NoMajorityException extends RuntimeException {
        NoMajorityException(Throwable cause) {
            super("No majority of control-service replicas is reachable; the configuration cannot be changed now. Retry later.", cause);
        }
    }
}
