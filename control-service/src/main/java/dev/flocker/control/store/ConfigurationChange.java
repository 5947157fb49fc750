package dev.flocker.control.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flocker.api.model.Application;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.Lease;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One committed change of the configuration: the entries it replaced (their JSON) and removed, at its version. It is
 * what the cluster's commit register holds, what the per-entry map receives, and a line of each replica's log.
 * Keys name an entry by kind: {@code dataset/<id>}, {@code application/<name>}, {@code lease/<dataset id>}.
 */
public record ConfigurationChange(long version, Map<String, String> puts, List<String> removes) {
    static final String DATASET = "dataset/";
    static final String APPLICATION = "application/";
    static final String LEASE = "lease/";

    public ConfigurationChange {
        puts = java.util.Collections.unmodifiableMap(new TreeMap<>(puts));
        removes = List.copyOf(removes);
    }

    /** A change that replaces nothing: a new version only (what seeding and restoring leave in the register). */
    static ConfigurationChange mark(long version) {
        return new ConfigurationChange(version, Map.of(), List.of());
    }

    /**
     * What turns {@code before} into {@code after}, as version {@code version}. Where {@code after} was made from
     * {@code before} {@linkplain Configuration#tracked() tracked}, only the entries its edits name are looked at, O(changes);
     * otherwise the sorted maps are merged, O(n).
     */
    public static ConfigurationChange between(Configuration before, Configuration after, long version) {
        var puts = new TreeMap<String, String>();
        var removes = new ArrayList<String>();
        var e = after.edits();
        compare(before.datasets(), after.datasets(), e == null ? null : touched(e.baseDatasets(), before.datasets(), e.datasets()),
                (id, d) -> puts.put(DATASET + id.value(), Json.write(d)), id -> removes.add(DATASET + id.value()));
        compare(before.applications(), after.applications(), e == null ? null : touched(e.baseApplications(), before.applications(), e.applications()),
                (name, a) -> puts.put(APPLICATION + name, Json.write(a)), name -> removes.add(APPLICATION + name));
        compare(before.leases(), after.leases(), e == null ? null : touched(e.baseLeases(), before.leases(), e.leases()),
                (id, l) -> puts.put(LEASE + id.value(), Json.write(l)), id -> removes.add(LEASE + id.value()));
        return new ConfigurationChange(version, puts, removes);
    }

    /** The keys edits touched in a map, when they were tracked from {@code before}'s map itself; null when unknown. */
    private static <K> java.util.Set<K> touched(Map<K, ?> base, Map<K, ?> before, java.util.Set<K> keys) {
        return base == before ? keys : null;
    }

    /** {@link #diff}, but only over {@code touched} when it is known (the only keys that can differ). */
    private static <K extends Comparable<? super K>, V> void compare(Map<K, V> a, Map<K, V> b, java.util.Set<K> touched, BiConsumer<K, V> put,
                                                                    Consumer<K> remove) {
        if (touched == null) {
            diff(a, b, put, remove);
            return;
        }
        for (var key : new java.util.TreeSet<>(touched)) { // in order, as the merge gives them
            V was = a.get(key);
            V is = b.get(key);
            if (is == null) {
                if (was != null) {
                    remove.accept(key);
                }
            } else if (was != is && !is.equals(was)) {
                put.accept(key, is);
            }
        }
    }

    /** Every entry of {@code configuration}, as one change (seeding the cluster, restoring it from disk). */
    static ConfigurationChange whole(Configuration configuration) {
        return between(Configuration.EMPTY, configuration, configuration.version());
    }

    /** Calls {@code put} for keys added or changed from {@code a} to {@code b} and {@code remove} for keys gone: both maps are sorted. */
    public static <K extends Comparable<? super K>, V> void diff(Map<K, V> a, Map<K, V> b, BiConsumer<K, V> put, Consumer<K> remove) {
        if (a == b) {
            return;
        }
        Iterator<Map.Entry<K, V>> ia = a.entrySet().iterator();
        Iterator<Map.Entry<K, V>> ib = b.entrySet().iterator();
        Map.Entry<K, V> ea = ia.hasNext() ? ia.next() : null;
        Map.Entry<K, V> eb = ib.hasNext() ? ib.next() : null;
        while (ea != null || eb != null) {
            int order = ea == null ? 1 : eb == null ? -1 : ea.getKey().compareTo(eb.getKey());
            if (order < 0) {
                remove.accept(ea.getKey());
                ea = ia.hasNext() ? ia.next() : null;
            } else if (order > 0) {
                put.accept(eb.getKey(), eb.getValue());
                eb = ib.hasNext() ? ib.next() : null;
            } else {
                if (ea.getValue() != eb.getValue() && !ea.getValue().equals(eb.getValue())) {
                    put.accept(eb.getKey(), eb.getValue());
                }
                ea = ia.hasNext() ? ia.next() : null;
                eb = ib.hasNext() ? ib.next() : null;
            }
        }
    }

    /** {@code base} with this change applied, at this change's version. */
    public Configuration applyTo(Configuration base) {
        var datasets = new ArrayList<Dataset>();
        var applications = new ArrayList<Application>();
        var leases = new ArrayList<Lease>();
        puts.forEach((key, json) -> {
            if (key.startsWith(DATASET)) {
                datasets.add(Json.read(json, Dataset.class));
            } else if (key.startsWith(APPLICATION)) {
                applications.add(Json.read(json, Application.class));
            } else if (key.startsWith(LEASE)) {
                leases.add(Json.read(json, Lease.class));
            } else {
                throw new IllegalArgumentException("unknown configuration entry " + key);
            }
        });
        var removedDatasets = new ArrayList<DatasetId>();
        var removedApplications = new ArrayList<String>();
        var removedLeases = new ArrayList<DatasetId>();
        for (var key : removes) {
            if (key.startsWith(DATASET)) {
                removedDatasets.add(DatasetId.of(key.substring(DATASET.length())));
            } else if (key.startsWith(APPLICATION)) {
                removedApplications.add(key.substring(APPLICATION.length()));
            } else if (key.startsWith(LEASE)) {
                removedLeases.add(DatasetId.of(key.substring(LEASE.length())));
            } else {
                throw new IllegalArgumentException("unknown configuration entry " + key);
            }
        }
        return base.with(version, datasets, removedDatasets, applications, removedApplications, leases, removedLeases);
    }

    /** The JSON of entry {@code key} in {@code configuration} (as a change would put it), or null when it has none. */
    static String entryOf(Configuration configuration, String key) {
        Object entry;
        if (key.startsWith(DATASET)) {
            entry = configuration.datasets().get(DatasetId.of(key.substring(DATASET.length())));
        } else if (key.startsWith(APPLICATION)) {
            entry = configuration.applications().get(key.substring(APPLICATION.length()));
        } else if (key.startsWith(LEASE)) {
            entry = configuration.leases().get(DatasetId.of(key.substring(LEASE.length())));
        } else {
            throw new IllegalArgumentException("unknown configuration entry " + key);
        }
        return entry == null ? null : Json.write(entry);
    }

    /** Adds the datasets whose entry or lease this change touches to {@code into}. */
    void touchedDatasets(java.util.Set<DatasetId> into) {
        for (var key : keys()) {
            if (key.startsWith(DATASET)) {
                into.add(DatasetId.of(key.substring(DATASET.length())));
            } else if (key.startsWith(LEASE)) {
                into.add(DatasetId.of(key.substring(LEASE.length())));
            }
        }
    }

    /** Every key this change touches. */
    java.util.Set<String> keys() {
        var keys = new java.util.HashSet<>(puts.keySet());
        keys.addAll(removes);
        return keys;
    }

    /** One line of JSON: {@code {"version":N,"puts":{key: entry},"removes":[key]}}. */
    public String toJson() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", version);
        var putNode = root.putObject("puts");
        try {
            for (var e : puts.entrySet()) {
                putNode.set(e.getKey(), Json.MAPPER.readTree(e.getValue()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        var removeNode = root.putArray("removes");
        removes.forEach(removeNode::add);
        return Json.write(root);
    }

    public static ConfigurationChange parse(String json) {
        try {
            JsonNode root = Json.MAPPER.readTree(json);
            if (!root.path("version").canConvertToLong() || !root.path("puts").isObject() || !root.path("removes").isArray()) {
                throw new IllegalArgumentException("a configuration change needs version, puts and removes: " + abbreviate(json));
            }
            var puts = new TreeMap<String, String>();
            root.path("puts").properties().forEach(e -> puts.put(e.getKey(), e.getValue().toString()));
            var removes = new ArrayList<String>();
            root.path("removes").forEach(n -> removes.add(n.asText()));
            return new ConfigurationChange(root.path("version").asLong(), puts, removes);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a configuration change: " + e.getMessage() + ": " + abbreviate(json), e);
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
