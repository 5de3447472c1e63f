package dev.sidecar.proxy.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --log-level} and {@code --log-format}: a {@code @Mixin} of the top command whose options
 * every subcommand inherits, so {@code sidecar iptables install --log-level debug} works as
 * {@code run} does. {@link SidecarCommand} applies them before any subcommand runs.
 */
public final class LoggingOptions {

    @Option(names = "--log-level", paramLabel = "LEVEL", converter = LogLevelConverter.class, scope = ScopeType.INHERIT,
            defaultValue = "${env:" + Env.LOG_LEVEL + ":-info}",
            description = "error, warn, info, debug or trace; env " + Env.LOG_LEVEL + ". Default: ${DEFAULT-VALUE}.")
    LogLevel logLevel = LogLevel.INFO;

    @Option(names = "--log-format", paramLabel = "FORMAT", converter = LogFormatConverter.class, scope = ScopeType.INHERIT,
            defaultValue = "${env:" + Env.LOG_FORMAT + ":-plain}",
            description = "plain or json (one object per line); env " + Env.LOG_FORMAT + ". Default: ${DEFAULT-VALUE}.")
    LogFormat logFormat = LogFormat.PLAIN;

    /** Applies both options; call before anything logs. */
    public void apply() {
        LogSetup.apply(logLevel, logFormat);
    }

    public LogLevel logLevel() {
        return logLevel;
    }

    public LogFormat logFormat() {
        return logFormat;
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
