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

/**
 * The desired state of the whole cluster. Immutable; every change makes a copy with the next version,
 * whose string form is the {@code X-Configuration-Tag} clients use for conditional writes.
 */
public record Configuration(
        long version,
        Map<DatasetId, Dataset> datasets,
        Map<String, Application> applications,
        Map<DatasetId, Lease> leases) {

    public static final Configuration EMPTY = new Configuration(0, Map.of(), Map.of(), Map.of());

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
        var copy = new LinkedHashMap<>(datasets);
        copy.put(dataset.datasetId(), dataset);
        return new Configuration(version + 1, copy, applications, leases);
    }

    public Configuration withoutDataset(DatasetId id) {
        var copy = new LinkedHashMap<>(datasets);
        copy.remove(id);
        return new Configuration(version + 1, copy, applications, leases);
    }

    public Configuration withApplication(Application application) {
        var copy = new LinkedHashMap<>(applications);
        copy.put(application.name(), application);
        return new Configuration(version + 1, datasets, copy, leases);
    }

    public Configuration withoutApplication(String name) {
        var copy = new LinkedHashMap<>(applications);
        copy.remove(name);
        return new Configuration(version + 1, datasets, copy, leases);
    }

    public Configuration withLease(Lease lease) {
        var copy = new LinkedHashMap<>(leases);
        copy.put(lease.datasetId(), lease);
        return new Configuration(version + 1, datasets, applications, copy);
    }

    public Configuration withoutLease(DatasetId id) {
        var copy = new LinkedHashMap<>(leases);
        copy.remove(id);
        return new Configuration(version + 1, datasets, applications, copy);
    }

    /** Leases still in force at {@code now}. */
    public Configuration withoutExpiredLeases(Instant now) {
        var live = leases.values().stream().filter(l -> !l.expired(now)).toList();
        return live.size() == leases.size() ? this
                : new Configuration(version + 1, datasets, applications, index(live, Lease::datasetId));
    }

    /** Replaces the applications and the datasets they create (what {@code flocker-deploy} sends). */
    public Configuration withDeployment(Collection<Dataset> newDatasets, Collection<Application> newApplications) {
        var ds = new LinkedHashMap<>(datasets);
        newDatasets.forEach(d -> ds.put(d.datasetId(), d));
        return new Configuration(version + 1, ds, index(newApplications, Application::name), leases);
    }

    private static <K extends Comparable<? super K>, V> Map<K, V> sorted(Map<K, V> map) {
        if (map == null) {
            return Map.of();
        }
        var copy = new java.util.TreeMap<K, V>(Comparator.naturalOrder());
        copy.putAll(map);
        return java.util.Collections.unmodifiableMap(copy);
    }

    private static <K, V> Map<K, V> index(Collection<V> values, Function<V, K> key) {
        if (values == null) {
            return Map.of();
        }
        return values.stream().collect(Collectors.toMap(key, v -> v, (a, b) -> b, LinkedHashMap::new));
    }
}
