package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/** A node's identity (Flocker's node uuid), in lower case. It is stored in ZFS properties, so it is validated strictly. */
public record NodeId(String value) implements Comparable<NodeId> {
    private static final Pattern UUID = Pattern.compile("^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$");

    public NodeId {
        if (value == null || !UUID.matcher(value).matches()) {
            throw new IllegalArgumentException("node uuid '" + value + "' is not a UUID (expected e.g. 0f6c1b6e-8a1d-4c5b-9f5e-3b2a1c0d9e8f)");
        }
        value = value.toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static NodeId of(String value) {
        return new NodeId(value);
    }

    public static NodeId random() {
        return new NodeId(java.util.UUID.randomUUID().toString());
    }

    @Override
    public int compareTo(NodeId other) {
        return value.compareTo(other.value);
    }

    @JsonValue
    @Override
    public String toString() {
        return value;
    }
}
