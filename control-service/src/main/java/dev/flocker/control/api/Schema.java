package dev.flocker.control.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks request bodies against Flocker's v1 schemas (types, required and additional properties,
 * limits) and collects every problem, each naming the property and what would be valid.
 */
final class Schema {
    static final Pattern UUID4 =
            Pattern.compile("^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-4[A-Fa-f0-9]{3}-[89abAB][A-Fa-f0-9]{3}-[A-Fa-f0-9]{12}$");

    private final List<String> errors = new ArrayList<>();
    private final JsonNode body;

    private Schema(JsonNode body) {
        this.body = body;
    }

    /** Starts checking {@code body}, which must be a JSON object. */
    static Schema object(JsonNode body) {
        var schema = new Schema(body);
        if (body == null || !body.isObject()) {
            schema.errors.add((body == null ? "null" : body.getNodeType().toString().toLowerCase()) + " is not of type 'object'");
        }
        return schema;
    }

    boolean ok() {
        return errors.isEmpty() && body != null && body.isObject();
    }

    Schema only(Set<String> allowed) {
        if (body != null && body.isObject()) {
            body.fieldNames().forEachRemaining(name -> {
                if (!allowed.contains(name)) {
                    errors.add("Additional properties are not allowed ('" + name + "' was unexpected); allowed: " + String.join(", ", allowed));
                }
            });
        }
        return this;
    }

    Schema required(String... names) {
        if (body != null && body.isObject()) {
            for (var name : names) {
                if (!body.has(name)) {
                    errors.add("'" + name + "' is a required property");
                }
            }
        }
        return this;
    }

    Schema uuid(String name) {
        var value = field(name);
        if (value != null && (!value.isTextual() || !UUID4.matcher(value.asText()).matches())) {
            errors.add(name + ": " + value + " is not a version-4 UUID (e.g. 2b1d7d2c-5f3e-4c1a-9d2e-0a1b2c3d4e5f)");
        }
        return this;
    }

    Schema string(String name, int minLength, int maxLength, Pattern pattern) {
        var value = field(name);
        if (value == null) {
            return this;
        }
        if (!value.isTextual()) {
            errors.add(name + ": " + value + " is not of type 'string'");
        } else if (value.asText().length() < minLength || value.asText().length() > maxLength) {
            errors.add(name + ": '" + value.asText() + "' must be " + minLength + " to " + maxLength + " characters long");
        } else if (pattern != null && !pattern.matcher(value.asText()).matches()) {
            errors.add(name + ": '" + value.asText() + "' does not match '" + pattern + "'");
        }
        return this;
    }

    Schema integer(String name, long min, long max, boolean nullable) {
        var value = field(name);
        if (value == null || (nullable && value.isNull())) {
            return this;
        }
        if (!value.isIntegralNumber()) {
            errors.add(name + ": " + value + " is not of type 'integer'" + (nullable ? " or 'null'" : ""));
        } else if (value.asLong() < min || value.asLong() > max || !value.canConvertToLong()) {
            errors.add(name + ": " + value + " must be from " + min + " to " + max);
        }
        return this;
    }

    Schema multipleOf(String name, long divisor) {
        var value = field(name);
        if (value != null && value.isIntegralNumber() && value.asLong() % divisor != 0) {
            errors.add(name + ": " + value + " is not a multiple of " + divisor);
        }
        return this;
    }

    Schema number(String name, double min, boolean nullable) {
        var value = field(name);
        if (value == null || (nullable && value.isNull())) {
            return this;
        }
        if (!value.isNumber()) {
            errors.add(name + ": " + value + " is not of type 'number'" + (nullable ? " or 'null'" : ""));
        } else if (value.asDouble() < min || !Double.isFinite(value.asDouble())) {
            errors.add(name + ": " + value + " is less than the minimum of " + min);
        }
        return this;
    }

    Schema stringMap(String name, int maxEntries, int maxKey, int maxValue) {
        var value = field(name);
        if (value == null) {
            return this;
        }
        if (!value.isObject()) {
            errors.add(name + ": " + value + " is not of type 'object'");
            return this;
        }
        if (value.size() > maxEntries) {
            errors.add(name + ": has " + value.size() + " properties; at most " + maxEntries + " are allowed");
        }
        value.properties().forEach(e -> {
            if (e.getKey().isEmpty() || e.getKey().length() > maxKey) {
                errors.add(name + ": key '" + e.getKey() + "' must be 1 to " + maxKey + " characters long");
            }
            if (!e.getValue().isTextual()) {
                errors.add(name + "." + e.getKey() + ": " + e.getValue() + " is not of type 'string'");
            } else if (e.getValue().asText().length() > maxValue) {
                errors.add(name + "." + e.getKey() + ": value is longer than " + maxValue + " characters");
            }
        });
        return this;
    }

    /** Checks each element of array {@code name} with {@code element}, prefixing its errors with the index. */
    Schema array(String name, int maxItems, java.util.function.Function<JsonNode, Schema> element) {
        var value = field(name);
        if (value == null) {
            return this;
        }
        if (!value.isArray()) {
            errors.add(name + ": " + value + " is not of type 'array'");
            return this;
        }
        if (value.size() > maxItems) {
            errors.add(name + ": has " + value.size() + " items; at most " + maxItems + " are allowed");
        }
        for (int i = 0; i < value.size(); i++) {
            for (var error : element.apply(value.get(i)).errors) {
                errors.add(name + "[" + i + "]: " + error);
            }
        }
        return this;
    }

    Schema bool(String name) {
        var value = field(name);
        if (value != null && !value.isBoolean()) {
            errors.add(name + ": " + value + " is not of type 'boolean'");
        }
        return this;
    }

    Schema stringArray(String name) {
        return array(name, Integer.MAX_VALUE, item -> {
            var s = new Schema(item);
            if (!item.isTextual()) {
                s.errors.add(item + " is not of type 'string'");
            }
            return s;
        });
    }

    Schema nested(String name, java.util.function.Function<JsonNode, Schema> check) {
        var value = field(name);
        if (value != null) {
            for (var error : check.apply(value).errors) {
                errors.add(name + ": " + error);
            }
        }
        return this;
    }

    Schema enumeration(String name, Set<String> values) {
        var value = field(name);
        if (value != null && (!value.isTextual() || !values.contains(value.asText()))) {
            errors.add(name + ": " + value + " is not one of " + values);
        }
        return this;
    }

    Schema check(boolean condition, String error) {
        if (!condition) {
            errors.add(error);
        }
        return this;
    }

    /** Throws the schema error (400) when anything failed. */
    void validate() {
        if (!errors.isEmpty()) {
            throw ApiError.schema(errors);
        }
    }

    List<String> errors() {
        return errors;
    }

    private JsonNode field(String name) {
        return body != null && body.isObject() ? body.get(name) : null;
    }
}
