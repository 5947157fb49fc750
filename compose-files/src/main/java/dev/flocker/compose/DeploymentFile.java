package dev.flocker.compose;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Reads a deployment file ({@code version: 1, nodes: {<IPv4>: [app names]}}), already parsed into maps and lists. */
public final class DeploymentFile {
    private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$");

    private DeploymentFile() {
    }

    /** The key under which a deployment file names standby nodes (beyond Flocker): {@code {<application>: [<IPv4>, ...]}}. */
    public static final String STANDBYS = "x-flocker-standbys";

    /**
     * Beyond Flocker: for each application named under {@link #STANDBYS}, the addresses of the nodes that keep standby
     * copies of its volumes, in file order; empty when the file has no such key.
     */
    public static Map<String, List<String>> standbys(Object root) {
        if (!(root instanceof Map<?, ?> map) || map.get(STANDBYS) == null) {
            return Map.of();
        }
        if (!(map.get(STANDBYS) instanceof Map<?, ?> named)) {
            throw new ConfigurationError("Deployment configuration has an error. '" + STANDBYS + "' must map application names to lists"
                    + " of node addresses, e.g. {db: [10.0.0.2]}.");
        }
        var result = new LinkedHashMap<String, List<String>>();
        named.forEach((key, value) -> {
            var app = String.valueOf(key);
            if (!(value instanceof List<?> list)) {
                throw new ConfigurationError("Application '" + app + "' has a config error in '" + STANDBYS + "'. Wrong value type: "
                        + FileValues.typeName(value) + ". Should have been a list of node addresses.");
            }
            var addresses = new ArrayList<String>();
            for (var item : list) {
                var address = String.valueOf(item);
                if (!IPV4.matcher(address).matches()) {
                    throw new ConfigurationError("Application '" + app + "' has a config error in '" + STANDBYS + "'. Standby node '"
                            + address + "' must be an IPv4 address.");
                }
                addresses.add(address);
            }
            result.put(app, addresses);
        });
        return result;
    }

    /** Node address to the names of the applications it should run, in file order. */
    public static Map<String, List<String>> parse(Object root) {
        if (!(root instanceof Map<?, ?> map) || !map.containsKey("nodes")) {
            throw new ConfigurationError("Deployment configuration has an error. Missing 'nodes' key.");
        }
        if (!map.containsKey("version")) {
            throw new ConfigurationError("Deployment configuration has an error. Missing 'version' key.");
        }
        if (!Integer.valueOf(1).equals(map.get("version"))) {
            throw new ConfigurationError("Deployment configuration has an error. Incorrect version specified.");
        }
        if (!(map.get("nodes") instanceof Map<?, ?> nodes)) {
            throw new ConfigurationError("Deployment configuration has an error. 'nodes' must be a map of node addresses to lists of applications.");
        }
        var result = new LinkedHashMap<String, List<String>>();
        var seen = new java.util.HashSet<String>();
        nodes.forEach((key, value) -> {
            var address = String.valueOf(key);
            if (!IPV4.matcher(address).matches()) {
                throw new ConfigurationError("Node \"" + address + "\" specified, but deployment configuration expects an IPv4 address.");
            }
            if (value != null && !(value instanceof List)) {
                throw new ConfigurationError("Node " + address + " has a config error. Wrong value type: " + FileValues.typeName(value)
                        + ". Should have been list.");
            }
            var apps = new ArrayList<String>();
            for (var app : value == null ? List.of() : (List<?>) value) {
                var name = String.valueOf(app);
                if (!seen.add(name)) {
                    throw new ConfigurationError("Application '" + name + "' appears more than once.");
                }
                apps.add(name);
            }
            result.put(address, apps);
        });
        return result;
    }
}
