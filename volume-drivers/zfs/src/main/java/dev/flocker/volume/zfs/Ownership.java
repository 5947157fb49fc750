package dev.flocker.volume.zfs;

import dev.flocker.api.model.NodeId;

/**
 * A copy's owner and handoff generation as ZFS stores them: one user property, {@code flocker:owner=<node>@<generation>},
 * so recording or passing ownership is one {@code zfs set} (zfs-fuse sets one property per call, and every call on a
 * handoff's path is outage). Copies written before this form hold the owner alone in {@code flocker:owner} and the
 * generation in {@code flocker:generation}; both are read, and the next ownership written replaces the pair.
 *
 * @param owner      the owner, or null when none is recorded (a copy only ever received)
 * @param generation the handoff generation (0 when none is recorded)
 */
public record Ownership(NodeId owner, long generation) {
    /** What {@link ZfsVolumeDriver#OWNER} holds when no owner is recorded ({@code zfs get}'s "-"). */
    private static final String NONE = "-";

    public Ownership {
        if (generation < 0) {
            throw new IllegalArgumentException("generation " + generation + " must not be negative");
        }
    }

    /** The value of {@link ZfsVolumeDriver#OWNER} for this ownership. */
    public String value() {
        return owner + "@" + generation;
    }

    /** {@code zfs set}'s argument recording this ownership. */
    public String property() {
        return ZfsVolumeDriver.OWNER + "=" + value();
    }

    /**
     * Reads {@code ownerValue} (of {@link ZfsVolumeDriver#OWNER}) and, for copies written in the older form only,
     * {@code legacyGeneration} (of {@link ZfsVolumeDriver#GENERATION}); "-" or null is a property not set, and an empty
     * value is refused (an unreadable answer must never read as "no owner" or "generation 0").
     *
     * @throws IllegalArgumentException for a value neither form allows
     */
    public static Ownership parse(String ownerValue, String legacyGeneration) {
        var value = ownerValue == null ? NONE : ownerValue.strip();
        if (value.equals(NONE)) {
            return new Ownership(null, generation(legacyGeneration));
        }
        int at = value.indexOf('@');
        if (at < 0) {
            return new Ownership(NodeId.of(value), generation(legacyGeneration));
        }
        return new Ownership(NodeId.of(value.substring(0, at)), Long.parseLong(value.substring(at + 1)));
    }

    /** An unset property ("-") is 0; anything else not a number (an empty answer included) is refused. */
    private static long generation(String value) {
        return ZfsGetOutput.number(value == null ? null : value.strip());
    }
}
