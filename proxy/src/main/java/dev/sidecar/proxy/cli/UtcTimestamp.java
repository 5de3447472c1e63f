package dev.sidecar.proxy.cli;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * A log event's time as {@code 2026-01-01T12:00:00.000Z}, for both log formats. Formatted field by
 * field: a {@code DateTimeFormatter} (and logback's {@code %d}, which also loads the time-zone
 * database) costs more classes at start-up than this whole package.
 */
final class UtcTimestamp {
    private UtcTimestamp() {}

    static void append(StringBuilder out, long epochMillis) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000L),
                (int) Math.floorMod(epochMillis, 1000L) * 1_000_000, ZoneOffset.UTC);
        pad(out, t.getYear(), 4).append('-');
        pad(out, t.getMonthValue(), 2).append('-');
        pad(out, t.getDayOfMonth(), 2).append('T');
        pad(out, t.getHour(), 2).append(':');
        pad(out, t.getMinute(), 2).append(':');
        pad(out, t.getSecond(), 2).append('.');
        pad(out, t.getNano() / 1_000_000, 3).append('Z');
    }

    private static StringBuilder pad(StringBuilder out, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            out.append('0');
        }
        return out.append(digits);
    }
}
