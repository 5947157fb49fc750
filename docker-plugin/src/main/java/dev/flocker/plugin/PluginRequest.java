package dev.flocker.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** The fields of a plugin request, checked: each bad one is a {@link PluginError} that names it and what is valid. */
final class PluginRequest {
    /** Docker's own rule for volume names; anonymous volumes are 64 hex digits, which it also allows. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}");
    static final int MAX_TEXT = 256;

    private PluginRequest() {
    }

    static String name(JsonNode request) {
        var name = request.get("Name");
        if (name == null || !name.isTextual() || name.asText().isEmpty()) {
            throw new PluginError("the request needs \"Name\", the volume's name");
        }
        if (!NAME.matcher(name.asText()).matches()) {
            throw new PluginError("volume name '" + abbreviate(name.asText()) + "' is invalid: use 1-255 of [a-zA-Z0-9_.-], starting with a letter or digit");
        }
        return name.asText();
    }

    static String id(JsonNode request) {
        var id = request.get("ID");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            throw new PluginError("the request needs \"ID\", the caller's mount ID (Docker 1.12 or newer sends it)");
        }
        if (id.asText().length() > MAX_TEXT) {
            throw new PluginError("ID is longer than " + MAX_TEXT + " characters");
        }
        return id.asText();
    }

    static Map<String, String> options(JsonNode request) {
        var opts = request.get("Opts");
        var result = new TreeMap<String, String>();
        if (opts == null || opts.isNull()) {
            return result;
        }
        if (!opts.isObject()) {
            throw new PluginError("\"Opts\" must be an object of option names to text values");
        }
        for (var field : (Iterable<Map.Entry<String, JsonNode>>) opts::fields) {
            if (!field.getValue().isTextual()) {
                throw new PluginError("option '" + abbreviate(field.getKey()) + "' must have a text value");
            }
            result.put(field.getKey(), field.getValue().asText());
        }
        return result;
    }

    static String abbreviate(String text) {
        return text.length() > 64 ? text.substring(0, 64) + "..." : text;
    }
}
