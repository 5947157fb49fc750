package dev.flocker.plugin;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code size} option of {@code docker volume create -o size=...}: bytes, or a number with a unit. Binary units
 * ({@code K M G T}, {@code KiB MiB GiB TiB}, and Docker's lower-case {@code k m g t}) count 1024s; {@code KB MB GB TB}
 * count 1000s, as their SI names say. The result is rounded up to whole KiB (the control service's rule) and must be
 * at least 64 MiB, the smallest dataset the API accepts.
 */
public final class VolumeSize {
    public static final long MINIMUM = 64L << 20;
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([a-zA-Z]*)");
    private static final Map<String, Long> UNITS = Map.ofEntries(
            Map.entry("", 1L), Map.entry("b", 1L),
            Map.entry("k", 1L << 10), Map.entry("kib", 1L << 10), Map.entry("kb", 1000L),
            Map.entry("m", 1L << 20), Map.entry("mib", 1L << 20), Map.entry("mb", 1000_000L),
            Map.entry("g", 1L << 30), Map.entry("gib", 1L << 30), Map.entry("gb", 1000_000_000L),
            Map.entry("t", 1L << 40), Map.entry("tib", 1L << 40), Map.entry("tb", 1000_000_000_000L));

    private VolumeSize() {}

    /** Bytes for {@code text}; an {@link IllegalArgumentException} that says what would be valid otherwise. */
    public static long parse(String text) {
        var matcher = SIZE.matcher(text.strip());
        var unit = matcher.matches() ? UNITS.get(matcher.group(2).toLowerCase(Locale.ROOT)) : null;
        if (unit == null) {
            throw new IllegalArgumentException("size '" + text + "' is not a size; use bytes or a number with a unit, e.g. 10GiB, 512M, 2.5G, 1TB");
        }
        BigDecimal bytes = new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.CEILING);
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE / 2)) > 0) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        long rounded = (bytes.longValueExact() + 1023) / 1024 * 1024;
        if (rounded < MINIMUM) {
            throw new IllegalArgumentException("size '" + text + "' is below the minimum of 64MiB");
        }
        return rounded;
    }
}
