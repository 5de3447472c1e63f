package dev.sidecar.proxy.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;

/**
 * One plain line per log event: {@code 2026-01-01T12:00:00.000Z INFO  AdminServer: message}, that is
 * UTC time, level (padded to 5), the logger's simple name and the message; a stack trace follows on
 * its own lines when the event carries one. What logback's pattern
 * {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level %logger{0}: %msg%n} prints, written by hand so
 * a start-up does not load logback's pattern parser and the time-zone database for one format.
 */
public final class PlainLineLayout extends LayoutBase<ILoggingEvent> {

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(128);
        UtcTimestamp.append(line, event.getTimeStamp());
        String level = event.getLevel().toString();
        line.append(' ').append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        String logger = event.getLoggerName();
        line.append(' ').append(logger, logger.lastIndexOf('.') + 1, logger.length())
                .append(": ").append(event.getFormattedMessage()).append('\n');
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown)); // ends with a line separator already
        }
        return line.toString();
    }
}
