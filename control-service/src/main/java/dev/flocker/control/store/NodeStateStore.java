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

    /** Keeps a node's last report alive (its agent is still connected) without changing it. */
    public void refresh(NodeId node) {
        markSeen(node.toString());
        map.setTtl(node.toString(), expiry.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void markSeen(String key) {
        if (seen != null) {
            seen.set(key, System.currentTimeMillis());
        }
    }

    /** When {@code node}'s agent last sent a state or ping to any replica, if one ever did since the replicas started. */
    public java.util.Optional<java.time.Instant> lastSeen(NodeId node) {
        var at = seen == null ? null : seen.get(node.toString());
        return at == null ? java.util.Optional.empty() : java.util.Optional.of(java.time.Instant.ofEpochMilli(at));
    }
}
