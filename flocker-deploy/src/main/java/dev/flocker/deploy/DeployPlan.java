package dev.flocker.deploy;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Dataset;
import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a deployment changes, as lines a person reads before anything is sent: applications started, stopped, moved
 * (with the data that moves with them) and restarted (with what changed), datasets created, moved and resized.
 */
record DeployPlan(List<String> lines, int unchanged) {

    static DeployPlan between(Configuration before, Configuration after, Map<NodeId, String> hosts) {
        var lines = new ArrayList<String>();
        int unchanged = 0;
        var movedWithApps = new HashSet<DatasetId>();
        var byName = Comparator.comparing(Application::name);
        for (var app : after.applications().values().stream().sorted(byName).toList()) {
            var old = before.applications().get(app.name());
            if (old == null) {
                lines.add("start    " + app.name() + " on " + host(hosts, app.node()) + " (" + app.imageWithTag() + ")");
            } else if (!old.node().equals(app.node())) {
                var data = "";
                if (!app.volumes().isEmpty()) {
                    var id = app.volumes().get(0).datasetId();
                    movedWithApps.add(id);
                    data = " with its data (dataset " + id + after.dataset(id).map(DeployPlan::sizeNote).orElse("") + ")";
                }
                lines.add("move     " + app.name() + " from " + host(hosts, old.node()) + " to " + host(hosts, app.node()) + data);
            } else {
                var changed = differences(old, app);
                if (changed.isEmpty()) {
                    unchanged++;
                } else {
                    lines.add("restart  " + app.name() + " on " + host(hosts, app.node()) + " (" + String.join(", ", changed) + " changed)");
                }
            }
        }
        for (var old : before.applications().values().stream().sorted(byName).toList()) {
            if (!after.applications().containsKey(old.name())) {
                lines.add("stop     " + old.name() + " on " + host(hosts, old.node()) + (old.volumes().isEmpty() ? "" : " (its data is kept)"));
            }
        }
        for (var dataset : after.datasets().values().stream().filter(d -> !d.deleted()).sorted(Comparator.comparing(DeployPlan::label)).toList()) {
            var old = before.dataset(dataset.datasetId());
            if (old.isEmpty()) {
                lines.add("create   dataset " + label(dataset) + " on " + host(hosts, dataset.primary()) + sizeNote(dataset));
                continue;
            }
            if (!old.get().primary().equals(dataset.primary()) && !movedWithApps.contains(dataset.datasetId())) {
                lines.add("move     dataset " + label(dataset) + " from " + host(hosts, old.get().primary()) + " to " + host(hosts, dataset.primary()));
            }
            if (!Objects.equals(old.get().maximumSize(), dataset.maximumSize())) {
                lines.add("resize   dataset " + label(dataset) + " to " + (dataset.maximumSize() == null ? "no limit" : bytes(dataset.maximumSize())));
            }
        }
        return new DeployPlan(List.copyOf(lines), unchanged);
    }

    boolean changesNothing() {
        return lines.isEmpty();
    }

    private static List<String> differences(Application a, Application b) {
        var changed = new ArrayList<String>();
        if (!a.imageWithTag().equals(b.imageWithTag())) {
            changed.add("image " + a.imageWithTag() + " -> " + b.imageWithTag());
        }
        if (!a.ports().equals(b.ports())) {
            changed.add("ports");
        }
        if (!a.environment().equals(b.environment())) {
            changed.add("environment");
        }
        if (!a.links().equals(b.links())) {
            changed.add("links");
        }
        if (!a.volumes().equals(b.volumes())) {
            changed.add("volume");
        }
        if (!Objects.equals(a.memoryLimit(), b.memoryLimit()) || !Objects.equals(a.cpuShares(), b.cpuShares())) {
            changed.add("limits");
        }
        if (!a.commandLine().equals(b.commandLine())) {
            changed.add("command");
        }
        if (!Objects.equals(a.restartPolicy(), b.restartPolicy())) {
            changed.add("restart policy");
        }
        return changed;
    }

    private static String label(Dataset dataset) {
        var name = dataset.metadata().get("name");
        return name == null ? dataset.datasetId().toString() : name + " (" + dataset.datasetId() + ")";
    }

    private static String sizeNote(Dataset dataset) {
        return dataset.maximumSize() == null ? "" : ", at most " + bytes(dataset.maximumSize());
    }

    static String host(Map<NodeId, String> hosts, NodeId node) {
        return hosts.getOrDefault(node, node.toString());
    }

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        var units = "KMGTP";
        int unit = (int) (Math.log(bytes) / Math.log(1024)) - 1;
        unit = Math.min(unit, units.length() - 1);
        return String.format("%.1f %siB", bytes / Math.pow(1024, unit + 1), units.charAt(unit));
    }
}
