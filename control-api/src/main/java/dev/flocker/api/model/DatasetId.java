package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * A dataset's identity: an RFC 4122 version-4 UUID, as Flocker's API requires, kept in lower case.
 * Because it becomes part of ZFS names and paths, nothing else can ever be one.
 */
public record DatasetId(String value) implements Comparable<DatasetId> {
    private static final Pattern UUID_V4 =
            Pattern.compile("^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-4[A-Fa-f0-9]{3}-[89abAB][A-Fa-f0-9]{3}-[A-Fa-f0-9]{12}$");

    public DatasetId {
        if (value == null || !UUID_V4.matcher(value).matches()) {
            throw new IllegalArgumentException("dataset_id '" + value
                    + "' is not a version-4 UUID (expected e.g. 2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f)");
        }
        value = value.toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static DatasetId of(String value) {
        return new DatasetId(value);
    }

    public static DatasetId random() {
        return new DatasetId(UUID.randomUUID().toString());
    }

    public static boolean isValid(String value) {
        return value != null && UUID_V4.matcher(value).matches();
    }

    @Override
    public int compareTo(DatasetId other) {
        return value.compareTo(other.value);
    }

    @JsonValue
    @Override
    public String toString() {
        return value;
    }
}
