package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.pcollections.HashTreePSet;
import org.pcollections.PSet;
import org.pcollections.TreePMap;

/**
 * The desired state of the whole cluster. Immutable; every change makes a copy with the next version,
 * whose string form is the {@code X-Configuration-Tag} clients use for conditional writes.
 */
public record Configuration(
        long version,
        Map<DatasetId, Dataset> datasets,
        Map<String, Application> applications,
        Map<DatasetId, Lease> leases,
        @JsonIgnore Edits edits) {

    public static final Configuration EMPTY = new Configuration(0, TreePMap.empty(), TreePMap.empty(), TreePMap.empty());

    public Configuration {
        datasets = sorted(datasets);
        applications = sorted(applications);
        leases = sorted(leases);
    }

    public Configuration(long version, Map<DatasetId, Dataset> datasets, Map<String, Application> applications, Map<DatasetId, Lease> leases) {
        this(version, datasets, applications, leases, null);
    }

    /**
     * Which entries a chain of changes touched since a base configuration ({@link #tracked}): the control service's writer
     * finds its change from these keys, O(changes), instead of comparing 100,000-entry maps (~13 ms a write). A null set
     * means that whole map may have changed (it is then compared). Not part of the configuration's value: equality,
     * hashing and JSON ignore it.
     */
    public record Edits(Map<DatasetId, Dataset> baseDatasets, Map<String, Application> baseApplications, Map<DatasetId, Lease> baseLeases,
                        PSet<DatasetId> datasets, PSet<String> applications, PSet<DatasetId> leases) {
        Edits dataset(Collection<DatasetId> ids) {
            return new Edits(baseDatasets, baseApplications, baseLeases, datasets == null ? null : datasets.plusAll(ids), applications, leases);
        }

        Edits application(Collection<String> names) {
            return new Edits(baseDatasets, baseApplications, baseLeases, datasets, applications == null ? null : applications.plusAll(names), leases);
        }

        Edits lease(Collection<DatasetId> ids) {
            return new Edits(baseDatasets, baseApplications, baseLeases, datasets, applications, leases == null ? null : leases.plusAll(ids));
        }

        Edits allApplications() {
            return new Edits(baseDatasets, baseApplications, baseLeases, datasets, null, leases);
        }
    }

    /** This configuration, noting from now on which entries each change touches ({@link #edits}). */
    public Configuration tracked() {
        return new Configuration(version, datasets, applications, leases,
                new Edits(datasets, applications, leases, HashTreePSet.empty(), HashTreePSet.empty(), HashTreePSet.empty()));
    }

    /** This configuration without its {@link #edits} (what a store keeps: the edits hold on to their base's maps). */
    public Configuration untracked() {
        return edits == null ? this : new Configuration(version, datasets, applications, leases);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Configuration c && version == c.version && datasets.equals(c.datasets) && applications.equals(c.applications)
                && leases.equals(c.leases);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(version, datasets, applications, leases);
    }

    @Override
    public String toString() {
        return "Configuration[version=" + version + ", datasets=" + datasets + ", applications=" + applications + ", leases=" + leases + "]";
    }

    private Edits touched(java.util.function.UnaryOperator<Edits> how) {
        return edits == null ? null : how.apply(edits);
    }

    /** The JSON form: lists rather than maps, so it reads like Flocker's API. */
    record Form(@JsonProperty("version") long version, @JsonProperty("datasets") List<Dataset> datasets,
                @JsonProperty("applications") List<Application> applications, @JsonProperty("leases") List<Lease> leases) {
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static Configuration fromJson(Form form) {
        return new Configuration(form.version(), index(form.datasets(), Dataset::datasetId), index(form.applications(), Application::name),
                index(form.leases(), Lease::datasetId));
    }

    @JsonValue
    Form toJson() {
        return new Form(version, List.copyOf(datasets.values()), List.copyOf(applications.values()), List.copyOf(leases.values()));
    }

    @JsonIgnore
    public String tag() {
        return Long.toString(version);
    }

    public Optional<Dataset> dataset(DatasetId id) {
        return Optional.ofNullable(datasets.get(id));
    }

    public Configuration withDataset(Dataset dataset) {
        return new Configuration(version + 1, tree(datasets).plus(dataset.datasetId(), dataset), applications, leases,
                touched(e -> e.dataset(List.of(dataset.datasetId()))));
    }

    public Configuration withoutDataset(DatasetId id) {
        return new Configuration(version + 1, tree(datasets).minus(id), applications, leases, touched(e -> e.dataset(List.of(id))));
    }

    public Configuration withApplication(Application application) {
        return new Configuration(version + 1, datasets, tree(applications).plus(application.name(), application), leases,
                touched(e -> e.application(List.of(application.name()))));
    }

    public Configuration withoutApplication(String name) {
        return new Configuration(version + 1, datasets, tree(applications).minus(name), leases, touched(e -> e.application(List.of(name))));
    }

    public Configuration withLease(Lease lease) {
        return new Configuration(version + 1, datasets, applications, tree(leases).plus(lease.datasetId(), lease),
                touched(e -> e.lease(List.of(lease.datasetId()))));
    }

    public Configuration withoutLease(DatasetId id) {
        return new Configuration(version + 1, datasets, applications, tree(leases).minus(id), touched(e -> e.lease(List.of(id))));
    }

    /**
     * This configuration with entries replaced and removed, at {@code newVersion}: what a change record of the control
     * service's store applies (O(changes x log n): the maps are persistent, so nothing else is copied).
     */
    public Configuration with(long newVersion, Collection<Dataset> putDatasets, Collection<DatasetId> removeDatasets,
                              Collection<Application> putApplications, Collection<String> removeApplications,
                              Collection<Lease> putLeases, Collection<DatasetId> removeLeases) {
        var ds = tree(datasets).minusAll(removeDatasets);
        for (var d : putDatasets) {
            ds = ds.plus(d.datasetId(), d);
        }
        var apps = tree(applications).minusAll(removeApplications);
        for (var a : putApplications) {
            apps = apps.plus(a.name(), a);
        }
        var ls = tree(leases).minusAll(removeLeases);
        for (var l : putLeases) {
            ls = ls.plus(l.datasetId(), l);
        }
        return new Configuration(newVersion, ds, apps, ls, touched(e -> e
                .dataset(removeDatasets).dataset(putDatasets.stream().map(Dataset::datasetId).toList())
                .application(removeApplications).application(putApplications.stream().map(Application::name).toList())
                .lease(removeLeases).lease(putLeases.stream().map(Lease::datasetId).toList())));
    }

    /** This configuration as another version (the store numbers versions itself). */
    public Configuration atVersion(long newVersion) {
        return newVersion == version ? this : new Configuration(newVersion, datasets, applications, leases, edits);
    }

    /** Leases still in force at {@code now}. */
    public Configuration withoutExpiredLeases(Instant now) {
        var expired = leases.values().stream().filter(l -> l.expired(now)).map(Lease::datasetId).toList();
        return expired.isEmpty() ? this
                : new Configuration(version + 1, datasets, applications, tree(leases).minusAll(expired), touched(e -> e.lease(expired)));
    }

    /** Replaces the applications and the datasets they create (what {@code flocker-deploy} sends). */
    public Configuration withDeployment(Collection<Dataset> newDatasets, Collection<Application> newApplications) {
        var ds = tree(datasets);
        for (var d : newDatasets) {
            ds = ds.plus(d.datasetId(), d);
        }
        return new Configuration(version + 1, ds, index(newApplications, Application::name), leases,
                touched(e -> e.dataset(newDatasets.stream().map(Dataset::datasetId).toList()).allApplications()));
    }

    /**
     * The maps are persistent sorted maps: a change shares all but O(log n) of its map with the configuration before it,
     * which keeps a write cheap at 100,000 datasets.
     */
    private static <K extends Comparable<? super K>, V> Map<K, V> sorted(Map<K, V> map) {
        if (map instanceof TreePMap<K, V> tree && (tree.comparator() == null || tree.comparator() == Comparator.naturalOrder())) {
            return tree;
        }
        if (map == null) {
            return TreePMap.empty();
        }
        return TreePMap.from(map);
    }

    private static <K extends Comparable<? super K>, V> TreePMap<K, V> tree(Map<K, V> map) {
        return (TreePMap<K, V>) map;
    }

    private static <K, V> Map<K, V> index(Collection<V> values, Function<V, K> key) {
        if (values == null) {
            return Map.of();
        }
        return values.stream().collect(Collectors.toMap(key, v -> v, (a, b) -> b, LinkedHashMap::new));
    }
}
