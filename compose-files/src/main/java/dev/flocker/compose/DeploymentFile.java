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
