package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InputText;
import java.util.Locale;

/** How log lines are written: {@code plain} for people, {@code json} (one object per line) for collectors. */
public enum LogFormat {
    PLAIN,
    JSON;

    /** Case-insensitive; the message names the accepted values (picocli prefixes the flag). */
    public static LogFormat parse(String text) {
        for (LogFormat f : values()) {
            if (f.toString().equals(InputText.word(text))) {
                return f;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a log format; use plain or json");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
