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
import org.pcollections.TreePMap;

/**
 * The desired state of the whole cluster. Immutable; every change makes a copy with the next version,
 * whose string form is the {@code X-Configuration-Tag} clients use for conditional writes.
 */
public record Configuration(
        long version,
        Map<DatasetId, Dataset> datasets,
        Map<String, Application> applications,
        Map<DatasetId, Lease> leases) {

    public static final Configuration EMPTY = new Configuration(0, TreePMap.empty(), TreePMap.empty(), TreePMap.empty());

    public Configuration {
        datasets = sorted(datasets);
        applications = sorted(applications);
        leases = sorted(leases);
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
        return new Configuration(version + 1, tree(datasets).plus(dataset.datasetId(), dataset), applications, leases);
    }

    public Configuration withoutDataset(DatasetId id) {
        return new Configuration(version + 1, tree(datasets).minus(id), applications, leases);
    }

    public Configuration withApplication(Application application) {
        return new Configuration(version + 1, datasets, tree(applications).plus(application.name(), application), leases);
    }

    public Configuration withoutApplication(String name) {
        return new Configuration(version + 1, datasets, tree(applications).minus(name), leases);
    }

    public Configuration withLease(Lease lease) {
        return new Configuration(version + 1, datasets, applications, tree(leases).plus(lease.datasetId(), lease));
    }

    public Configuration withoutLease(DatasetId id) {
        return new Configuration(version + 1, datasets, applications, tree(leases).minus(id));
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
        return new Configuration(newVersion, ds, apps, ls);
    }

    /** This configuration as another version (the store numbers versions itself). */
    public Configuration atVersion(long newVersion) {
        return newVersion == version ? this : new Configuration(newVersion, datasets, applications, leases);
    }

    /** Leases still in force at {@code now}. */
    public Configuration withoutExpiredLeases(Instant now) {
        var live = leases.values().stream().filter(l -> !l.expired(now)).toList();
        return live.size() == leases.size() ? this
                : new Configuration(version + 1, datasets, applications, index(live, Lease::datasetId));
    }

    /** Replaces the applications and the datasets they create (what {@code flocker-deploy} sends). */
    public Configuration withDeployment(Collection<Dataset> newDatasets, Collection<Application> newApplications) {
        var ds = tree(datasets);
        for (var d : newDatasets) {
            ds = ds.plus(d.datasetId(), d);
        }
        return new Configuration(version + 1, ds, index(newApplications, Application::name), leases);
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
