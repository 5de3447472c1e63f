package dev.sidecar.proxy.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import java.io.OutputStream;
import org.slf4j.LoggerFactory;

/**
 * Configures logging from {@code --log-level} and {@code --log-format}, replacing the start-up
 * set-up of {@link LogProvider}. Call it first thing at start-up, before any Netty class logs.
 *
 * <p>Logs go to stderr, so stdout stays clean for command output (e.g. a printed rule plan).
 * Netty's own loggers stay at {@code info} unless the level is {@code trace}: at {@code debug} they
 * would bury the sidecar's connection lines under allocator and platform chatter.
 */
public final class LogSetup {

    private LogSetup() {}

    /** Applies the level and format to stderr and routes Netty's internal logging through SLF4J. */
    public static void apply(LogLevel level, LogFormat format) {
        apply(level, format, null);
    }

    /** As {@link #apply(LogLevel, LogFormat)}, writing to {@code target} instead of stderr (tests). */
    static void apply(LogLevel level, LogFormat format, OutputStream target) {
        InternalLoggerFactory.setDefaultFactory(Slf4JLoggerFactory.INSTANCE);
        configure((LoggerContext) LoggerFactory.getILoggerFactory(), level, format, target);
    }

    /** Replaces {@code context}'s set-up with ours; {@link LogProvider} calls it while SLF4J starts. */
    static void configure(LoggerContext context, LogLevel level, LogFormat format, OutputStream target) {
        context.reset();

        OutputStreamAppender<ILoggingEvent> appender;
        if (target == null) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setTarget("System.err");
            appender = console;
        } else {
            appender = new OutputStreamAppender<>();
            appender.setOutputStream(target);
        }
        appender.setContext(context);
        appender.setName(format.toString());
        appender.setEncoder(encoder(context, format));
        appender.start();

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(level.logback());
        root.addAppender(appender);
        context.getLogger("io.netty").setLevel(level == LogLevel.TRACE ? Level.TRACE : quieter(level.logback(), Level.INFO));
        // Netty warns when no interface has a hardware address yet (a fresh pod namespace) and uses
        // random bytes for channel ids instead, which is all the proxy needs.
        context.getLogger("io.netty.util.internal.MacAddressUtil").setLevel(Level.ERROR);
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, LogFormat format) {
        LayoutBase<ILoggingEvent> layout = format == LogFormat.JSON ? new JsonLineLayout() : new PlainLineLayout();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        return encoder;
    }

    private static Level quieter(Level a, Level b) {
        return a.isGreaterOrEqual(b) ? a : b;
    }
}
