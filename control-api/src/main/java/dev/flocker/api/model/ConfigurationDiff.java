package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;

/**
 * The change from one configuration to a later one, as pushed to agents: the datasets that changed or
 * went, and the applications and leases in full when they changed (they are small). Applying it to the
 * configuration it was computed from gives the later one exactly.
 *
 * @param applications null when unchanged
 * @param leases       null when unchanged
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigurationDiff(
        @JsonProperty("from_version") long fromVersion,
        @JsonProperty("version") long version,
        @JsonProperty("datasets") List<Dataset> datasets,
        @JsonProperty("removed_datasets") List<DatasetId> removedDatasets,
        @JsonProperty("applications") List<Application> applications,
        @JsonProperty("leases") List<Lease> leases) {

    public static ConfigurationDiff between(Configuration from, Configuration to) {
        var changed = new ArrayList<Dataset>();
        for (var dataset : to.datasets().values()) {
            var before = from.datasets().get(dataset.datasetId());
            if (before != dataset && !dataset.equals(before)) {
                changed.add(dataset);
            }
        }
        var removed = new ArrayList<DatasetId>();
        for (var id : from.datasets().keySet()) {
            if (!to.datasets().containsKey(id)) {
                removed.add(id);
            }
        }
        var applications = Objects.equals(from.applications(), to.applications()) ? null : List.copyOf(to.applications().values());
        var leases = Objects.equals(from.leases(), to.leases()) ? null : List.copyOf(to.leases().values());
        return new ConfigurationDiff(from.version(), to.version(), changed, removed, applications, leases);
    }

    /** The later configuration; refuses a base other than the one this diff was computed from. */
    public Configuration applyTo(Configuration from) {
        if (from.version() != fromVersion) {
            throw new IllegalStateException("diff from version " + fromVersion + " cannot apply to version " + from.version());
        }
        var datasetMap = from.with(version, datasets, removedDatasets, List.of(), List.of(), List.of(), List.of()).datasets();
        var applicationMap = from.applications();
        if (applications != null) {
            applicationMap = new LinkedHashMap<>();
            for (var a : applications) {
                applicationMap.put(a.name(), a);
            }
        }
        var leaseMap = from.leases();
        if (leases != null) {
            leaseMap = new LinkedHashMap<>();
            for (var l : leases) {
                leaseMap.put(l.datasetId(), l);
            }
        }
        return new Configuration(version, datasetMap, applicationMap, leaseMap);
    }

    public boolean empty() {
        return fromVersion == version && datasets.isEmpty() && removedDatasets.isEmpty() && applications == null && leases == null;
    }
}
