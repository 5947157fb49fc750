package dev.flocker.volume.zfs;

import dev.flocker.volume.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The output of {@code zfs get -H -p -o name,property,value ...}, read once here for everyone who asks ZFS for
 * properties: this host's driver and the shipper asking a peer.
 */
public final class ZfsGetOutput {
    private ZfsGetOutput() {
    }

    /** Dataset or snapshot name to its properties, in the order zfs printed them. */
    public static Map<String, Map<String, String>> parse(String out) {
        Map<String, Map<String, String>> props = new LinkedHashMap<>();
        for (var line : out.split("\n")) {
            var cols = line.split("\t", -1);
            if (cols.length >= 3) {
                props.computeIfAbsent(cols[0], k -> new HashMap<>()).put(cols[1], cols[2]);
            }
        }
        return props;
    }

    /** The snapshots (needing {@code guid} and {@code createtxg}) of each dataset whose name starts with {@code prefix}. */
    public static Map<String, List<Snapshot>> snapshots(Map<String, Map<String, String>> props, String prefix) {
        Map<String, List<Snapshot>> snapshots = new HashMap<>();
        props.forEach((name, p) -> {
            int at = name.indexOf('@');
            if (at > 0 && name.startsWith(prefix)) {
                snapshots.computeIfAbsent(name.substring(0, at), k -> new ArrayList<>())
                        .add(new Snapshot(name.substring(at + 1), p.get("guid"), number(p.get("createtxg"))));
            }
        });
        return snapshots;
    }

    /** A numeric property; "-" and "none" (unset) read as 0. */
    public static long number(String value) {
        if (value == null || value.equals("-") || value.equals("none")) {
            return 0;
        }
        return Long.parseLong(value);
    }
}
