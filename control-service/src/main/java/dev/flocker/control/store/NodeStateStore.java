package dev.flocker.control.store;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The cluster state: each node's last report, in a Hazelcast map shared by all replicas. Every entry
 * lives for the node-expiry time after the agent's last message, so a node whose agent is gone (or
 * whose replica died with its connection) is forgotten without anyone having to remember to.
 *
 * <p>The last report of every node that holds datasets is also kept without expiry: once such a node stops reporting,
 * it is listed as offline with what it last held, so no agent takes its datasets for absent and creates them empty.
 * That record goes when the node reports again, or when none of what it held is in the configuration any more.
 */
public final class NodeStateStore {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeStateStore.class);
    private final IMap<String, String> map;
    private final IMap<String, String> lastReports;
    private final IMap<String, Long> seen;
    private final Duration expiry;
    private final Map<NodeId, NodeState> local = new ConcurrentHashMap<>();
    private final Map<NodeId, NodeState> last = new ConcurrentHashMap<>();
    private final List<Consumer<ClusterState>> listeners = new CopyOnWriteArrayList<>();
    private volatile ClusterState snapshot = ClusterState.EMPTY;

    public NodeStateStore(IMap<String, String> map, IMap<String, String> lastReports, Duration expiry) {
        this(map, lastReports, null, expiry);
    }

    /** @param seen when each node's agent last sent anything (epoch millis), shared by the replicas: its liveness */
    public NodeStateStore(IMap<String, String> map, IMap<String, String> lastReports, IMap<String, Long> seen, Duration expiry) {
        this.seen = seen;
        if (seen != null) {
            seenFlusher.scheduleWithFixedDelay(this::flushSeen, SEEN_FLUSH_MILLIS, SEEN_FLUSH_MILLIS, TimeUnit.MILLISECONDS);
        }
        this.map = map;
        this.lastReports = lastReports;
        this.expiry = expiry;
        map.addEntryListener(new Listener(local), true);
        lastReports.addEntryListener(new Listener(last), true);
        map.forEach((k, v) -> local.put(NodeId.of(k), Json.read(v, NodeState.class)));
        lastReports.forEach((k, v) -> last.put(NodeId.of(k), Json.read(v, NodeState.class)));
        publish();
    }

    private final class Listener implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String>,
            EntryRemovedListener<String, String>, EntryExpiredListener<String, String>, EntryEvictedListener<String, String>,
            MapClearedListener {
        private final Map<NodeId, NodeState> local;

        Listener(Map<NodeId, NodeState> mirror) {
            this.local = mirror;
        }

        @Override
        public void entryAdded(EntryEvent<String, String> event) {
            put(event);
        }

        @Override
        public void entryUpdated(EntryEvent<String, String> event) {
            if (!event.getValue().equals(event.getOldValue())) {
                put(event);
            }
        }

        @Override
        public void entryRemoved(EntryEvent<String, String> event) {
            remove(event.getKey());
        }

        @Override
        public void entryExpired(EntryEvent<String, String> event) {
            remove(event.getKey());
        }

        @Override
        public void entryEvicted(EntryEvent<String, String> event) {
            remove(event.getKey());
        }

        @Override
        public void mapCleared(MapEvent event) {
            local.clear();
            publish();
        }

        private void put(EntryEvent<String, String> event) {
            local.put(NodeId.of(event.getKey()), Json.read(event.getValue(), NodeState.class));
            publish();
        }

        private void remove(String key) {
            ttlRenewed.remove(key); // gone: the next message from it renews whatever it writes
            if (local.remove(NodeId.of(key)) != null) {
                publish();
            }
        }
    }

    private synchronized void publish() {
        var offline = new java.util.HashMap<>(last);
        offline.keySet().removeAll(local.keySet());
        offline.values().removeIf(n -> n.datasets().isEmpty());
        snapshot = new ClusterState(Map.copyOf(local), offline);
        listeners.forEach(l -> l.accept(snapshot));
    }

    public ClusterState current() {
        return snapshot;
    }

    public void onChange(Consumer<ClusterState> listener) {
        listeners.add(listener);
    }

    /** Records a node's report; it lives for the expiry time unless refreshed. */
    public void report(NodeState state) {
        var key = state.uuid().toString();
        markSeen(key);
        map.put(key, Json.write(state), expiry.toMillis(), TimeUnit.MILLISECONDS);
        ttlRenewed.put(key, System.currentTimeMillis());
        var before = last.get(state.uuid());
        // Only what it holds: moves' progress changes many times a second and does not matter here.
        var holdings = state.holdings();
        if (state.datasets().isEmpty()) {
            if (before != null) {
                lastReports.delete(key);
            }
        } else if (!holdings.equals(before)) {
            lastReports.set(key, Json.write(holdings));
        }
    }

    /** Forgets an offline node's last report (none of what it held is wanted any more). */
    public void forgetOffline(NodeId node) {
        if (!local.containsKey(node)) {
            lastReports.delete(node.toString());
        }
    }

    /**
     * Keeps a node's last report alive (its agent is still connected) without changing it. Agents ping every second;
     * the report's time to live is renewed at most every fifth of the expiry time (so a node is forgotten 80-100% of
     * the expiry after its last message), which at 1,000 agents is a few hundred cluster operations a second, not
     * thousands.
     */
    public void refresh(NodeId node) {
        var key = node.toString();
        markSeen(key);
        long now = System.currentTimeMillis();
        var renewed = ttlRenewed.get(key);
        if (renewed == null || now - renewed >= expiry.toMillis() / 5) {
            ttlRenewed.put(key, now);
            map.setTtl(key, expiry.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private final Map<String, Long> ttlRenewed = new ConcurrentHashMap<>();
    /** Liveness noted since the last flush: written to the shared map in one batch every {@link #SEEN_FLUSH_MILLIS}. */
    private final Map<String, Long> seenPending = new ConcurrentHashMap<>();
    static final long SEEN_FLUSH_MILLIS = 250;
    private final java.util.concurrent.ScheduledExecutorService seenFlusher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        var t = new Thread(r, "node-seen-flush");
        t.setDaemon(true);
        return t;
    });

    /**
     * Notes that a node's agent was heard from now. The shared record is written in batches (every 250 ms, one
     * operation per partition): at most that much later than the acknowledgement the agent gets, which the failover
     * timing allows for (a standby is promoted no sooner than 10 s after the last record, the agent fences 5 s after
     * its last acknowledged message).
     */
    private void markSeen(String key) {
        if (seen != null) {
            seenPending.put(key, System.currentTimeMillis());
        }
    }

    private void flushSeen() {
        if (seenPending.isEmpty()) {
            return;
        }
        var batch = new java.util.HashMap<String, Long>();
        for (var key : seenPending.keySet()) {
            var at = seenPending.remove(key);
            if (at != null) {
                batch.put(key, at);
            }
        }
        try {
            seen.putAll(batch);
        } catch (RuntimeException e) {
            batch.forEach(seenPending::putIfAbsent); // retried with the next flush
            LOG.atWarn().setCause(e).log("cannot record node liveness");
        }
    }

    /** Stops the liveness flusher after one last flush. */
    public void close() {
        seenFlusher.shutdown();
        if (seen != null) {
            try {
                flushSeen();
            } catch (RuntimeException e) {
                // the cluster is going away with this replica
            }
        }
    }

    /** When {@code node}'s agent last sent a state or ping to any replica, if one ever did since the replicas started. */
    public java.util.Optional<java.time.Instant> lastSeen(NodeId node) {
        var at = seen == null ? null : seenPending.getOrDefault(node.toString(), seen.get(node.toString()));
        return at == null ? java.util.Optional.empty() : java.util.Optional.of(java.time.Instant.ofEpochMilli(at));
    }
}
