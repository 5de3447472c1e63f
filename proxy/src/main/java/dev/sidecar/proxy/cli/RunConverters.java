package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InputText;
import dev.sidecar.proxy.relay.DeadPeerDetection;
import dev.sidecar.proxy.transport.TransportChoice;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The picocli converters of {@code sidecar run}'s own values: counts, durations, the keepalive and
 * user timeout, the transport, the PROXY protocol version. Same grammar as {@link Converters}: ASCII digits, spaces and tabs
 * around a value trimmed, words in any ASCII case.
 */
final class RunConverters {
    private RunConverters() {}

    /** A positive whole number in ASCII digits, at most 9 of them. */
    static final class CountConverter implements ITypeConverter<Integer> {
        private static final Pattern FORMAT = Pattern.compile("[0-9]{1,9}");

        @Override
        public Integer convert(String value) {
            String v = InputText.trim(value);
            if (!FORMAT.matcher(v).matches() || Integer.parseInt(v) == 0) {
                throw new TypeConversionException("'" + value + "' is not a positive whole number (1-999999999)");
            }
            return Integer.parseInt(v);
        }
    }

    /** A {@link DurationConverter} duration in whole seconds, within the kernel's keepalive limit. */
    static final class KeepaliveConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration d = new DurationConverter().convert(value);
            if (d.toMillis() % 1000 != 0 || d.getSeconds() > DeadPeerDetection.MAX_KEEPALIVE_SECONDS) {
                throw new TypeConversionException("'" + value + "' must be whole seconds, 1s to "
                        + DeadPeerDetection.MAX_KEEPALIVE_SECONDS + "s");
            }
            return d;
        }
    }

    /** A {@link DurationConverter} duration, or {@code off}/{@code 0} for the kernel's default (zero). */
    static final class UserTimeoutConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = InputText.word(value);
            if (v.equals("off") || v.equals("0")) {
                return Duration.ZERO;
            }
            Duration d = new DurationConverter().convert(value);
            if (d.toMillis() > Integer.MAX_VALUE) {
                throw new TypeConversionException("'" + value + "' is too long; at most " + Integer.MAX_VALUE + "ms");
            }
            return d;
        }
    }

    /** A {@link DurationConverter} duration, or {@code off}/{@code 0} for never (zero). */
    static final class IntervalConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = InputText.word(value);
            return v.equals("off") || v.equals("0") ? Duration.ZERO : new DurationConverter().convert(value);
        }
    }

    /** {@code auto}, {@code io_uring} or {@code epoll}. */
    static final class TransportConverter implements ITypeConverter<TransportChoice.Request> {
        @Override
        public TransportChoice.Request convert(String value) {
            try {
                return TransportChoice.Request.parse(InputText.word(value));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a transport; use auto, io_uring or epoll");
            }
        }
    }

    /** {@code 1} or {@code 2}: the PROXY protocol's text or binary header. */
    static final class ProxyProtocolVersionConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return switch (InputText.trim(value)) {
                case "1" -> 1;
                case "2" -> 2;
                default -> throw new TypeConversionException("'" + value + "' is not a PROXY protocol version; use 1 or 2");
            };
        }
    }

    /** {@code 250ms}, {@code 2s}, {@code 1m} (ASCII digits, any case); a bare number means seconds. Must be positive. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern FORMAT = Pattern.compile("([0-9]{1,9})(ms|s|m)?");

        @Override
        public Duration convert(String value) {
            Matcher m = FORMAT.matcher(InputText.word(value));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a duration; use e.g. 500ms, 2s or 1m");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            Duration d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
            };
            if (d.isZero()) {
                throw new TypeConversionException("'" + value + "' must be more than zero");
            }
            return d;
        }
    }
}
