package dev.sidecar.proxy.cli;

import dev.sidecar.proxy.admin.AdminSettings;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Options of the admin endpoint and of logging, shared by every command that runs the proxy
 * ({@code @Mixin AdminOptions admin;}). Each has an environment default, shown in {@code --help};
 * the command line wins.
 */
public final class AdminOptions {

    @Option(names = "--admin-port", paramLabel = "PORT", converter = PortConverter.class,
            defaultValue = "${env:SIDECAR_ADMIN_PORT:-4191}",
            description = "Port of the admin endpoint (/live, /ready, /metrics) on all interfaces;"
                    + " env SIDECAR_ADMIN_PORT. Default: ${DEFAULT-VALUE}.")
    int adminPort = AdminSettings.DEFAULT_PORT;

    @Option(names = "--shutdown-endpoint", arity = "0..1", paramLabel = "BOOL",
            defaultValue = "${env:SIDECAR_SHUTDOWN_ENDPOINT:-false}", fallbackValue = "true",
            converter = BooleanConverter.class,
            description = "Enable POST /shutdown on the admin port (loopback peers only);"
                    + " env SIDECAR_SHUTDOWN_ENDPOINT. Default: ${DEFAULT-VALUE}.")
    boolean shutdownEndpoint;

    @Option(names = "--log-level", paramLabel = "LEVEL", converter = LogLevelConverter.class,
            defaultValue = "${env:SIDECAR_LOG_LEVEL:-info}",
            description = "error, warn, info, debug or trace; env SIDECAR_LOG_LEVEL. Default: ${DEFAULT-VALUE}.")
    LogLevel logLevel = LogLevel.INFO;

    @Option(names = "--log-format", paramLabel = "FORMAT", converter = LogFormatConverter.class,
            defaultValue = "${env:SIDECAR_LOG_FORMAT:-plain}",
            description = "plain or json (one object per line); env SIDECAR_LOG_FORMAT. Default: ${DEFAULT-VALUE}.")
    LogFormat logFormat = LogFormat.PLAIN;

    /** The admin endpoint on all interfaces, IPv6 too when {@code ipv6}. */
    public AdminSettings settings(boolean ipv6) {
        return AdminSettings.allInterfaces(adminPort, ipv6, shutdownEndpoint);
    }

    /** Applies {@code --log-level} and {@code --log-format}; call before anything logs. */
    public void applyLogging() {
        LogSetup.apply(logLevel, logFormat);
    }

    public int adminPort() {
        return adminPort;
    }

    public boolean shutdownEndpoint() {
        return shutdownEndpoint;
    }

    public LogLevel logLevel() {
        return logLevel;
    }

    public LogFormat logFormat() {
        return logFormat;
    }

    /** 1–65535; 0 would pick a random port no probe could find. */
    static final class PortConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int port;
            try {
                port = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a TCP port (1-65535)");
            }
            if (port < 1 || port > 65535) {
                throw new TypeConversionException("'" + value + "' is not a TCP port (1-65535)");
            }
            return port;
        }
    }

    /** Strict: a typo such as {@code ture} must not silently mean false. */
    static final class BooleanConverter implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new TypeConversionException("'" + value + "' is not true or false");
            };
        }
    }

    static final class LogLevelConverter implements ITypeConverter<LogLevel> {
        @Override
        public LogLevel convert(String value) {
            try {
                return LogLevel.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class LogFormatConverter implements ITypeConverter<LogFormat> {
        @Override
        public LogFormat convert(String value) {
            try {
                return LogFormat.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
