package dev.sidecar.proxy.cli;

import ch.qos.logback.classic.Level;
import dev.sidecar.iptables.InputText;
import java.util.Locale;

/** The verbosity of {@code --log-level}, from least to most verbose. */
public enum LogLevel {
    ERROR(Level.ERROR),
    WARN(Level.WARN),
    INFO(Level.INFO),
    DEBUG(Level.DEBUG),
    TRACE(Level.TRACE);

    private final Level logback;

    LogLevel(Level logback) {
        this.logback = logback;
    }

    /** Case-insensitive; the message names the accepted values (picocli prefixes the flag). */
    public static LogLevel parse(String text) {
        for (LogLevel l : values()) {
            if (l.toString().equals(InputText.word(text))) {
                return l;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a log level; use error, warn, info, debug or trace");
    }

    Level logback() {
        return logback;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
