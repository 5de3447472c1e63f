package dev.sidecar.proxy.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;

/**
 * One JSON object per log event, on one line:
 * {@code {"ts":"2026-01-01T12:00:00.000Z","level":"INFO","logger":"…","thread":"…","msg":"…"}}, plus
 * {@code "exception"} (the full stack trace as one string) when the event carries one. Written by
 * hand because logback's own {@code JsonEncoder} uses other field names and nests the context.
 */
public final class JsonLineLayout extends LayoutBase<ILoggingEvent> {

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder json = new StringBuilder(256);
        json.append("{\"ts\":\"");
        UtcTimestamp.append(json, event.getTimeStamp());
        json.append('"');
        field(json, "level", event.getLevel().toString());
        field(json, "logger", event.getLoggerName());
        field(json, "thread", event.getThreadName());
        field(json, "msg", event.getFormattedMessage());
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            field(json, "exception", ThrowableProxyUtil.asString(thrown));
        }
        return json.append("}\n").toString();
    }

    @Override
    public String getContentType() {
        return "application/json";
    }

    private static void field(StringBuilder json, String name, String value) {
        json.append(",\"").append(name).append("\":");
        if (value == null) {
            json.append("null");
            return;
        }
        json.append('"');
        escape(json, value);
        json.append('"');
    }

    /** RFC 8259 string escaping; control characters become \\uXXXX so a line never breaks. */
    static void escape(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }
}
