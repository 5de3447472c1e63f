package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class UtcTimestampTest {
    private static final DateTimeFormatter REFERENCE =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private static String format(long epochMillis) {
        StringBuilder out = new StringBuilder();
        UtcTimestamp.append(out, epochMillis);
        return out.toString();
    }

    @Test
    void padsEveryField() {
        assertThat(format(0)).isEqualTo("1970-01-01T00:00:00.000Z");
        assertThat(format(1_767_225_600_007L)).isEqualTo("2026-01-01T00:00:00.007Z");
    }

    /** Year 1 to 9999: the four-digit years a log can show. */
    @Property
    void agreesWithTheJdksFormatter(@ForAll @LongRange(min = -62_135_596_800_000L, max = 253_402_300_799_999L) long millis) {
        assertThat(format(millis)).isEqualTo(REFERENCE.format(Instant.ofEpochMilli(millis)));
    }
}
