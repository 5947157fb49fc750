package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compose's networks, where they mean one network per set of applications: the services that join a network reach each
 * other on it by service name (and {@code aliases}) at their containers' own ports, as in Compose. Each network is a
 * Docker bridge network on the node those services run on (they must be placed on one node, as a shared volume's users
 * are), made by the agent when the first of them starts and removed when the last one stops. Clients outside the set
 * keep using the applications' external ports, which every host's proxy serves.
 */
final class ComposeNetworks {
    /** Compose's own network, which services may join without declaring it. */
    static final String DEFAULT = "default";
    private static final String ANY_NODE = " Networks here are bridges on one node, made by Flocker for the services that join them.";

    private ComposeNetworks() {
    }

    /** The top-level {@code networks} map: each declared network's Docker name; problems added to {@code problems}. */
    static Map<String, String> declared(Object top, List<String> problems) {
        var result = new LinkedHashMap<String, String>();
        result.put(DEFAULT, "flocker_" + DEFAULT);
        result.putAll(declarations(top, "networks", problems, ComposeNetworks::dockerName));
        return result;
    }

    private static String dockerName(String name, Object value) {
        if (!name.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}")) {
            throw new ConfigurationError("Invalid network name: use letters, digits, _ . -, starting with a letter or digit, at most 41.");
        }
        if (value == null) {
            return "flocker_" + name;
        }
        var network = asMap(value);
        if (network.get("external") != null && !Boolean.FALSE.equals(network.get("external"))) {
            throw new ConfigurationError("'external' cannot be used: a network made outside Flocker exists on some nodes only, and an"
                    + " application must be able to run and move anywhere. Leave 'external' out to have Flocker make it." + ANY_NODE);
        }
        for (var key : network.keySet()) {
            var k = String.valueOf(key);
            if (Set.of("ipam", "driver_opts", "attachable", "enable_ipv6", "internal").contains(k)) {
                throw new ConfigurationError("'" + k + "' is not supported." + ANY_NODE + " Leave it out.");
            }
        }
        unrecognised(network, Set.of("name", "driver", "external", "labels"));
        var driver = network.get("driver") == null ? "bridge" : String.valueOf(network.get("driver"));
        if (!driver.equals("bridge")) {
            throw new ConfigurationError("'driver' '" + driver + "' cannot be used: only bridge networks, on the node the services run"
                    + " on. Leave 'driver' out, or use bridge.");
        }
        return network.get("name") == null ? "flocker_" + name : string(network.get("name"), "name");
    }

    /**
     * A service's {@code networks} (a list of names, or names mapped to {@code aliases}): each Docker network with the
     * names the service is reached by there, its own service name first.
     */
    static Map<String, List<String>> joined(Object value, String service, Map<String, String> declared) {
        var result = new LinkedHashMap<String, List<String>>();
        if (value == null) {
            return result;
        }
        Map<?, ?> entries;
        if (value instanceof List<?> list) {
            entries = new LinkedHashMap<>();
            for (var item : list) {
                ((Map<Object, Object>) entries).put(string(item, "networks"), null);
            }
        } else {
            entries = asMap(value);
        }
        for (var entry : entries.entrySet()) {
            var name = String.valueOf(entry.getKey());
            var dockerName = declared.get(name);
            if (dockerName == null) {
                throw new ConfigurationError("Network '" + name + "' is not declared: add it under the top-level 'networks'.");
            }
            var aliases = new ArrayList<String>();
            aliases.add(service);
            if (entry.getValue() != null) {
                var settings = asMap(entry.getValue());
                for (var key : settings.keySet()) {
                    if (!String.valueOf(key).equals("aliases")) {
                        throw new ConfigurationError("Network '" + name + "': '" + key + "' is not supported (addresses are Docker's to"
                                + " choose on each node); use 'aliases'.");
                    }
                }
                for (var alias : asList(settings.get("aliases"), "aliases")) {
                    var text = string(alias, "aliases");
                    if (!aliases.contains(text)) {
                        aliases.add(text);
                    }
                }
            }
            result.put(dockerName, aliases);
        }
        return result;
    }
}
