package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/**
 * Where a move of a dataset's writable copy stands, as the source host reports it. The JSON form is the lower-case
 * name with dashes ({@code "pre-copy"}), as the API has always shown it.
 */
public enum MovePhase {
    /** Increments go to the target while the applications keep running. */
    PRE_COPY("pre-copy"),
    /** Connections are held, the applications stopped, the last increment sent and ownership passed. */
    HANDOFF("handoff"),
    /** Ownership passed: the target makes its copy writable and starts the applications. */
    DONE("done"),
    /** The move stopped with an error; the next loop plans it again from the last common snapshot. */
    FAILED("failed"),
    /** The configuration changed its mind during the pre-copy. */
    ABANDONED("abandoned"),
    /** Something blocks it (a lease, an application staying here, a host that is not reporting): see the detail. */
    WAITING("waiting"),
    /** A change of this dataset failed outside a move; see the detail. */
    ERROR("error"),
    /** Not a move: an increment shipped to a standby copy (continuous replication). */
    REPLICATE("replicate");

    private final String json;

    MovePhase(String json) {
        this.json = json;
    }

    @JsonValue
    public String json() {
        return json;
    }

    /** A move in this phase has ended: nothing more will happen to it unless it is planned again. */
    public boolean ended() {
        return this == DONE || this == ABANDONED;
    }

    @JsonCreator
    public static MovePhase of(String json) {
        return Arrays.stream(values()).filter(p -> p.json.equals(json)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("move phase '" + json + "' is not one of "
                        + Arrays.stream(values()).map(MovePhase::json).toList()));
    }

    @Override
    public String toString() {
        return json;
    }
}
