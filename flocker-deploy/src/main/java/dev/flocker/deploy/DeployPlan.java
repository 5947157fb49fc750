package dev.flocker.deploy;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.DockerOptions;
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
                lines.add("start    " + app.name() + " on " + host(hosts, app.node()) + " (" + String.join("; ", summary(app, after)) + ")");
            } else if (!old.node().equals(app.node())) {
                var data = "";
                var parts = new ArrayList<String>();
                for (var id : app.datasets()) {
                    movedWithApps.add(id);
                    parts.add("dataset " + id + after.dataset(id).map(DeployPlan::sizeNote).orElse(""));
                }
                if (!parts.isEmpty()) {
                    data = " with its data (" + String.join("; ", parts) + (parts.size() > 1 ? ", together" : "") + ")";
                }
                lines.add("move     " + app.name() + " from " + host(hosts, old.node()) + " to " + host(hosts, app.node()) + data);
            } else {
                var changed = differences(old, app, after);
                if (changed.isEmpty()) {
                    unchanged++;
                } else {
                    lines.add("restart  " + app.name() + " on " + host(hosts, app.node()) + " (" + String.join("; ", changed) + ")");
                }
            }
        }
        for (var old : before.applications().values().stream().sorted(byName).toList()) {
            if (!after.applications().containsKey(old.name())) {
                lines.add("stop     " + old.name() + " on " + host(hosts, old.node()) + (old.datasets().isEmpty() ? "" : " (its data is kept)"));
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

    /** What a new application is: image, ports as {@code status} prints them (external->internal), mounts, limits, order. */
    private static List<String> summary(Application app, Configuration config) {
        var parts = new ArrayList<String>();
        parts.add(app.imageWithTag());
        if (!app.ports().isEmpty()) {
            parts.add("ports " + String.join(", ", app.ports().stream().map(DeployPlan::port).toList()));
        }
        app.allVolumes().forEach(v -> parts.add(mount(v, config)));
        if (!app.environment().isEmpty()) {
            parts.add("environment " + String.join(", ", app.environment().keySet()));
        }
        var limits = limits(app);
        if (!limits.isEmpty()) {
            parts.add(limits);
        }
        if (app.healthcheck() != null) {
            parts.add("health check");
        }
        if (app.docker() != null && !app.docker().files().isEmpty()) {
            parts.add("files " + String.join(", ", app.docker().files().stream().map(DockerOptions.FileMount::target).toList()));
        }
        if (app.docker() != null && !app.docker().networks().isEmpty()) {
            parts.add("networks " + String.join(", ", app.docker().networks().entrySet().stream()
                    .map(n -> n.getKey() + " as " + String.join(", ", n.getValue())).toList()));
        }
        if (!app.dependsOn().isEmpty()) {
            parts.add("after " + String.join(", ", app.dependsOn().stream().map(DeployPlan::dependency).toList()));
        }
        return parts;
    }

    /**
     * What changed, each with its detail: images, ports added and removed, environment keys added, removed or changed
     * (never their values: they may be secrets), mounts, limits, command, order.
     */
    private static List<String> differences(Application a, Application b, Configuration after) {
        var changed = new ArrayList<String>();
        if (!a.imageWithTag().equals(b.imageWithTag())) {
            changed.add("image " + a.imageWithTag() + " -> " + b.imageWithTag());
        }
        if (!a.ports().equals(b.ports())) {
            changed.add("ports " + added(a.ports().stream().map(DeployPlan::port).toList(), b.ports().stream().map(DeployPlan::port).toList()));
        }
        if (!a.environment().equals(b.environment())) {
            var keys = new java.util.TreeSet<String>();
            keys.addAll(a.environment().keySet());
            keys.addAll(b.environment().keySet());
            var parts = new ArrayList<String>();
            for (var key : keys) {
                if (!a.environment().containsKey(key)) {
                    parts.add("+" + key);
                } else if (!b.environment().containsKey(key)) {
                    parts.add("-" + key);
                } else if (!a.environment().get(key).equals(b.environment().get(key))) {
                    parts.add("~" + key);
                }
            }
            changed.add("environment " + String.join(" ", parts) + " (values not shown)");
        }
        if (!a.links().equals(b.links())) {
            changed.add("links");
        }
        if (!a.allVolumes().equals(b.allVolumes())) {
            changed.add(b.allVolumes().isEmpty() ? "no mount" : String.join(", ", b.allVolumes().stream().map(v -> mount(v, after)).toList()));
        }
        if (!limits(a).equals(limits(b))) {
            changed.add("limits " + (limits(a).isEmpty() ? "none" : limits(a)) + " -> " + (limits(b).isEmpty() ? "none" : limits(b)));
        }
        if (!a.commandLine().equals(b.commandLine()) || !Objects.equals(a.entrypoint(), b.entrypoint())) {
            changed.add("command " + String.join(" ", b.entrypoint() == null ? List.of() : b.entrypoint()) + (b.entrypoint() == null ? "" : " ")
                    + String.join(" ", b.commandLine()));
        }
        if (!Objects.equals(a.restartPolicy(), b.restartPolicy())) {
            changed.add("restart policy " + b.restartPolicy().name());
        }
        if (!Objects.equals(a.healthcheck(), b.healthcheck())) {
            changed.add(b.healthcheck() == null ? "no health check" : "health check " + String.join(" ", b.healthcheck().test()));
        }
        if (!a.dependsOn().equals(b.dependsOn())) {
            changed.add("start after " + (b.dependsOn().isEmpty() ? "nothing" : String.join(", ", b.dependsOn().stream().map(DeployPlan::dependency).toList())));
        }
        if (!Objects.equals(a.docker(), b.docker())) {
            changed.add("docker options " + String.join(", ", dockerChanges(a.docker(), b.docker())));
        }
        if (!Objects.equals(a.init(), b.init())) {
            changed.add("init " + (b.init() == null || b.init() ? "on" : "off"));
        }
        return changed;
    }

    /** The names of the options that differ, and the files (configs, secrets) added, removed or changed, by target. */
    private static List<String> dockerChanges(DockerOptions a, DockerOptions b) {
        var none = new DockerOptions(null, null, null, null, null, null, null, null, null, null);
        a = a == null ? none : a;
        b = b == null ? none : b;
        var names = new ArrayList<String>();
        if (!Objects.equals(a.user(), b.user())) {
            names.add("user");
        }
        if (!Objects.equals(a.workingDir(), b.workingDir())) {
            names.add("working_dir");
        }
        if (!Objects.equals(a.hostname(), b.hostname())) {
            names.add("hostname");
        }
        if (!a.labels().equals(b.labels())) {
            names.add("labels");
        }
        if (!Objects.equals(a.readOnly(), b.readOnly()) || !a.tmpfs().equals(b.tmpfs()) || !Objects.equals(a.shmSize(), b.shmSize())) {
            names.add("file systems");
        }
        if (!a.extraHosts().equals(b.extraHosts())) {
            names.add("extra_hosts");
        }
        if (!Objects.equals(a.stopSignal(), b.stopSignal()) || !Objects.equals(a.stopGracePeriodMs(), b.stopGracePeriodMs())) {
            names.add("stop");
        }
        if (!Objects.equals(a.tty(), b.tty()) || !Objects.equals(a.stdinOpen(), b.stdinOpen())) {
            names.add("terminal");
        }
        if (!a.dns().equals(b.dns()) || !a.dnsSearch().equals(b.dnsSearch())) {
            names.add("dns");
        }
        if (!a.ulimits().equals(b.ulimits()) || !a.sysctls().equals(b.sysctls())) {
            names.add("kernel limits");
        }
        if (!a.networks().equals(b.networks())) {
            names.add("networks " + (b.networks().isEmpty() ? "none" : String.join(", ", b.networks().keySet())));
        }
        if (!Objects.equals(a.imageId(), b.imageId()) && Objects.equals(a.imageId() == null, b.imageId() == null)) {
            names.add("image content"); // a rebuild whose name did not change (it changes with the content)
        }
        var before = a.files();
        var after = b.files();
        for (var file : after) {
            var old = before.stream().filter(f -> f.target().equals(file.target())).findFirst();
            if (old.isEmpty()) {
                names.add("+" + file.target());
            } else if (!old.get().equals(file)) {
                names.add("~" + file.target());
            }
        }
        before.stream().filter(f -> after.stream().noneMatch(g -> g.target().equals(f.target()))).forEach(f -> names.add("-" + f.target()));
        return names;
    }

    private static String port(Application.Port port) {
        return port.external() + "->" + port.internal();
    }

    /** {@code +new -gone} between two lists. */
    private static String added(List<String> before, List<String> after) {
        var parts = new ArrayList<String>();
        after.stream().filter(p -> !before.contains(p)).forEach(p -> parts.add("+" + p));
        before.stream().filter(p -> !after.contains(p)).forEach(p -> parts.add("-" + p));
        return String.join(" ", parts);
    }

    private static String mount(Application.Volume volume, Configuration config) {
        var label = config.dataset(volume.datasetId()).map(DeployPlan::label).orElse(volume.datasetId().toString());
        return "mounts " + label + " at " + volume.mountpoint() + (volume.readOnly() ? " read-only" : "");
    }

    private static String limits(Application app) {
        var parts = new ArrayList<String>();
        if (app.memoryLimit() != null) {
            parts.add("memory " + bytes(app.memoryLimit()));
        }
        if (app.cpus() != null) {
            parts.add("cpus " + java.math.BigDecimal.valueOf(app.cpus()).stripTrailingZeros().toPlainString());
        }
        if (app.cpuShares() != null) {
            parts.add("cpu_shares " + app.cpuShares());
        }
        return String.join(", ", parts);
    }

    private static String dependency(Application.Dependency dependency) {
        return dependency.name() + (dependency.condition().equals("healthy") ? " (healthy)" : "");
    }

    private static String label(Dataset dataset) {
        var name = dataset.metadata().get("name");
        return name == null ? dataset.datasetId().toString() : name + " (" + dataset.datasetId() + ")";
    }

    private static String sizeNote(Dataset dataset) {
        return dataset.maximumSize() == null ? "" : ", at most " + bytes(dataset.maximumSize());
    }

    /** The node's address, its uuid when it is not reporting, "?" when none is known (a move waiting for its owner). */
    static String host(Map<NodeId, String> hosts, NodeId node) {
        if (node == null) {
            return "?";
        }
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
