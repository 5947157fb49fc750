package dev.flocker.control.api;

import java.util.Map;

/** An HTTP answer: status, a body to serialise as JSON (null serialises as {@code null}) and extra headers. */
record Reply(int status, Object body, Map<String, String> headers) {
    static Reply ok(Object body) {
        return new Reply(200, body, Map.of());
    }

    static Reply created(Object body) {
        return new Reply(201, body, Map.of());
    }

    Reply withTag(String tag) {
        return new Reply(status, body, Map.of("X-Configuration-Tag", tag));
    }
}
