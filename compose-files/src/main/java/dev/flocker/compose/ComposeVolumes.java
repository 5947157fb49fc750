package dev.flocker.compose;

import static dev.flocker.compose.FileValues.*;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compose's volumes: the top-level {@code volumes} declarations (a name, or an existing dataset with {@code external})
 * and each service's mounts of them. A named volume is one dataset, shared by the services that mount it; a volume
 * with only a container path is the service's own dataset; host paths are refused, since their data cannot move.
 */
final class ComposeVolumes {
    private static final Set<String> MODES = Set.of("rw", "ro", "z", "Z", "nocopy");

    /**
     * A top-level declaration.
     *
     * @param datasetName the dataset's name: the key, or its {@code name}, or the external name
     * @param size        {@code driver_opts.size} in bytes, or null
     */
    record Declared(String datasetName, boolean external, Long size) {
    }

    private ComposeVolumes() {
    }

    /** The top-level {@code volumes} map, each problem added to {@code problems}. */
    static Map<String, Declared> declared(Object top, List<String> problems) {
        return declarations(top, "volumes", problems, ComposeVolumes::declaration);
    }

    private static Declared declaration(String name, Object value) {
        if (!name.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]*")) {
            throw new ConfigurationError("Invalid volume name: use letters, digits, _ . -, starting with a letter or digit.");
        }
        if (value == null) {
            return new Declared(name, false, null);
        }
        var volume = asMap(value);
        unrecognised(volume, Set.of("external", "name", "driver", "driver_opts"));
        var driver = volume.get("driver") == null ? "local" : String.valueOf(volume.get("driver"));
        if (!driver.equals("local") && !driver.equals("flocker")) {
            throw new ConfigurationError("'driver' '" + driver + "' cannot be used: every volume here is a Flocker dataset (ZFS) that moves"
                    + " with its application. Leave 'driver' out, or use local or flocker.");
        }
        Long size = null;
        if (volume.get("driver_opts") != null) {
            var options = asMap(volume.get("driver_opts"));
            unrecognised(options, Set.of("size"));
            size = options.get("size") == null ? null : size(options.get("size"));
        }
        var datasetName = volume.get("name") == null ? name : string(volume.get("name"), "name");
        var external = volume.get("external");
        if (external instanceof Map<?, ?> legacy) { // Compose 3.0-3.3: external: {name: ...}
            unrecognised(legacy, Set.of("name"));
            return new Declared(legacy.get("name") == null ? datasetName : string(legacy.get("name"), "external name"), true, null);
        }
        if (external != null && !(external instanceof Boolean)) {
            throw new ConfigurationError("'external' must be true or false, found " + typeName(external) + ".");
        }
        if (Boolean.TRUE.equals(external)) {
            if (size != null) {
                throw new ConfigurationError("An external volume is an existing dataset: its size cannot be set here ('driver_opts').");
            }
            return new Declared(datasetName, true, null);
        }
        return new Declared(datasetName, false, size);
    }

    /**
     * One entry of a service's {@code volumes}: short ({@code "name:/path:ro"}, {@code "/path"}) or long syntax; null for
     * {@code type: tmpfs}, which is no dataset (its target joins the service's tmpfs).
     */
    static AppSpec.VolumeSpec mount(Object entry, Map<String, Declared> declared) {
        String source;
        Object target;
        boolean readOnly;
        if (entry instanceof Map<?, ?> map) {
            unrecognised(map, Set.of("type", "source", "target", "read_only", "volume"));
            var type = map.get("type") == null ? "volume" : String.valueOf(map.get("type"));
            if (type.equals("bind")) {
                throw hostPath(map.get("source"));
            }
            if (type.equals("tmpfs")) {
                unrecognised(map, Set.of("type", "target"));
                return null; // an in-memory file system: the service's own (see tmpfs), nothing that moves
            }
            if (!type.equals("volume")) {
                throw new ConfigurationError("Volumes of type '" + type + "' are not supported: only 'volume' (a dataset that moves with the"
                        + " application).");
            }
            if (map.get("volume") != null) {
                unrecognised(asMap(map.get("volume")), Set.of("nocopy"));
            }
            source = map.get("source") == null ? null : String.valueOf(map.get("source"));
            target = map.get("target");
            var ro = map.get("read_only");
            if (ro != null && !(ro instanceof Boolean)) {
                throw new ConfigurationError("'read_only' must be true or false, found " + typeName(ro) + ".");
            }
            readOnly = Boolean.TRUE.equals(ro);
        } else {
            var text = string(entry, "volumes");
            var parts = text.split(":", -1);
            if (parts.length > 3) {
                throw new ConfigurationError("Invalid volume '" + text + "': use \"/path\", \"name:/path\" or \"name:/path:ro\".");
            }
            source = parts.length == 1 ? null : parts[0];
            target = parts.length == 1 ? parts[0] : parts[1];
            readOnly = false;
            if (parts.length == 3) {
                for (var mode : parts[2].split(",")) {
                    if (!MODES.contains(mode)) {
                        throw new ConfigurationError("Invalid volume mode '" + parts[2] + "' in '" + text + "': use ro or rw.");
                    }
                    readOnly |= mode.equals("ro");
                }
            }
        }
        var mountpoint = mountpoint(target);
        if (source == null || source.isEmpty()) {
            return new AppSpec.VolumeSpec(mountpoint, null, null, null, false, readOnly);
        }
        if (source.startsWith("/") || source.startsWith(".") || source.startsWith("~")) {
            throw hostPath(source);
        }
        var volume = declared.get(source);
        if (volume == null) {
            throw new ConfigurationError("Named volume '" + source + "' is not declared under the top-level 'volumes' key; add"
                    + " 'volumes: {" + source + ": {}}'.");
        }
        return new AppSpec.VolumeSpec(mountpoint, volume.size(), null, volume.datasetName(), volume.external(), readOnly);
    }

    private static ConfigurationError hostPath(Object source) {
        return new ConfigurationError("Host paths cannot be volumes ('" + source + "'): a host's directory stays on that host when the"
                + " application moves. Use a named volume (\"name:/path/in/container\") or \"/path/in/container\", whose dataset moves"
                + " with it; for a configuration file, a config (top-level 'configs: {name: {file: ...}}', mounted with a 'target').");
    }
}
