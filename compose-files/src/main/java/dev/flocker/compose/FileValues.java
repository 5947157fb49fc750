package dev.flocker.compose;

import dev.flocker.api.model.Application;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** The values of application files, checked: each bad one a {@link ConfigurationError} that says what would be valid. */
final class FileValues {
    static final Pattern SIZE = Pattern.compile("^([0-9]+(?:\\.[0-9]+)?)([KMGT]?)$");

    private FileValues() {
    }

    static void checkName(String name) {
        if (!Application.NAME.matcher(name).matches()) {
            throw new ConfigurationError("Invalid application name: use letters, digits, _ . - (at least 2), starting with a letter or digit.");
        }
    }

    /**
     * A top-level map of declarations ({@code volumes}, {@code networks}, {@code configs}, {@code secrets}), each entry read
     * by {@code read}; each entry's problem is added to {@code problems} ("Volume 'x' has a config error. ..."), so one
     * bad entry does not hide the others.
     */
    static <T> Map<String, T> declarations(Object top, String kind, List<String> problems, java.util.function.BiFunction<String, Object, T> read) {
        var result = new java.util.LinkedHashMap<String, T>();
        if (top == null) {
            return result;
        }
        var singular = kind.substring(0, kind.length() - 1);
        if (!(top instanceof Map<?, ?> map)) {
            problems.add("Compose file has an error. Top-level '" + kind + "' must be a map of " + singular + " names, not " + typeName(top) + ".");
            return result;
        }
        var label = Character.toUpperCase(singular.charAt(0)) + singular.substring(1);
        map.forEach((key, value) -> {
            var name = String.valueOf(key);
            try {
                result.put(name, read.apply(name, value));
            } catch (ConfigurationError e) {
                problems.add(label + " '" + name + "' has a config error. " + e.getMessage());
            }
        });
        return result;
    }

    static void unrecognised(Map<?, ?> map, Set<String> allowed) {
        var unknown = new TreeSet<String>();
        map.keySet().forEach(k -> {
            if (!allowed.contains(String.valueOf(k))) {
                unknown.add(String.valueOf(k));
            }
        });
        if (!unknown.isEmpty()) {
            throw new ConfigurationError("Unrecognised keys: " + String.join(", ", unknown) + ".");
        }
    }

    static Map<String, String> environment(Object value) {
        if (value == null) {
            return Map.of();
        }
        var result = new LinkedHashMap<String, String>();
        asMap(value).forEach((k, v) -> {
            if (v instanceof Map || v instanceof List) {
                throw new ConfigurationError("environment variable '" + k + "' must have a string value.");
            }
            result.put(String.valueOf(k), String.valueOf(v));
        });
        return result;
    }

    static Map<String, String> figEnvironment(Object value) {
        if (value instanceof List<?> list) {
            var result = new LinkedHashMap<String, String>();
            for (var item : list) {
                var text = String.valueOf(item);
                int eq = text.indexOf('=');
                if (eq <= 0) {
                    throw new ConfigurationError("environment entry '" + text + "' must be KEY=VALUE.");
                }
                result.put(text.substring(0, eq), text.substring(eq + 1));
            }
            return result;
        }
        return environment(value);
    }

    static String mountpoint(Object value) {
        var text = value == null ? null : String.valueOf(value);
        if (text == null || !text.startsWith("/") || !text.matches("\\p{ASCII}+")) {
            throw new ConfigurationError("Mountpoint '" + text + "' must be an absolute ASCII path.");
        }
        return text;
    }

    /** Flocker's sizes: bytes, or a number with K, M, G or T (binary), rounded up to whole bytes. */
    static Long size(Object value) {
        if (value == null) {
            return null;
        }
        var matcher = SIZE.matcher(String.valueOf(value).trim().toUpperCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new ConfigurationError("Invalid maximum_size '" + value + "': use bytes or a number with K, M, G or T, e.g. 500M or 2.5G.");
        }
        int shift = switch (matcher.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        var bytes = new java.math.BigDecimal(matcher.group(1)).multiply(java.math.BigDecimal.valueOf(1L << shift))
                .setScale(0, java.math.RoundingMode.CEILING);
        if (bytes.compareTo(java.math.BigDecimal.valueOf(1L << 60)) > 0) {
            throw new ConfigurationError("Size '" + value + "' is larger than any disk or memory (at most 1 EiB).");
        }
        return bytes.longValueExact();
    }

    /** Docker's relative CPU weight, as the API takes it: 1 to 1024. */
    static int cpuShares(Object value) {
        int shares = integer(value, "cpu_shares");
        if (shares < 1 || shares > 1024) {
            throw new ConfigurationError("cpu_shares " + shares + " is out of range: use 1 to 1024 (1024 is a full share).");
        }
        return shares;
    }

    static int parsePort(String text, Object spec) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationError("Invalid ports specification: '" + spec + "'. Ports must be numbers.");
        }
    }

    static Map<?, ?> asMap(Object value) {
        if (value instanceof Map<?, ?> map) {
            return map;
        }
        throw new ConfigurationError("Expected a map, found " + typeName(value) + ".");
    }

    static List<?> asList(Object value, String what) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list;
        }
        throw new ConfigurationError("'" + what + "' must be a list, found " + typeName(value) + ".");
    }

    /** Standby copies (beyond Flocker): 0 to {@link dev.flocker.api.model.Dataset#MAX_REPLICAS}. */
    static int replicas(Object value, String what) {
        int count;
        try {
            count = integer(value, what);
        } catch (ConfigurationError e) {
            count = -1;
        }
        if (count < 0 || count > dev.flocker.api.model.Dataset.MAX_REPLICAS) {
            throw new ConfigurationError("'" + what + "' must be 0 to " + dev.flocker.api.model.Dataset.MAX_REPLICAS
                    + " (standby copies on other nodes), found " + value + ".");
        }
        return count;
    }

    static int integer(Object value, String what) {
        if (value instanceof Integer i) {
            return i;
        }
        if (value instanceof Long l && l <= Integer.MAX_VALUE && l >= Integer.MIN_VALUE) {
            return (int) (long) l;
        }
        throw new ConfigurationError("'" + what + "' must be an integer, found " + typeName(value) + ".");
    }

    static String string(Object value, String what) {
        if (value == null || value instanceof Map || value instanceof List) {
            throw new ConfigurationError("'" + what + "' must be a string, found " + typeName(value) + ".");
        }
        return String.valueOf(value);
    }

    static String typeName(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Map) {
            return "map";
        }
        if (value instanceof List) {
            return "list";
        }
        if (value instanceof String) {
            return "str";
        }
        return value instanceof Number ? "number" : value.getClass().getSimpleName();
    }
}
