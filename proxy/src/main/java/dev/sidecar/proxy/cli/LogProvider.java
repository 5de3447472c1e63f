package dev.sidecar.proxy.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LogbackServiceProvider;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.util.StatusPrinter;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * SLF4J's binding to logback, set up in code from the JVM's start until {@link LogSetup} applies
 * the flags: plain lines on stderr at {@code SIDECAR_LOG_LEVEL} (else info), so stdout stays the
 * command's output.
 *
 * <p>It stands in for logback's own provider, whose service entry the jar leaves out: that one
 * runs logback's {@code ContextInitializer} (a search for configuration files and for configurators,
 * a version check, its status messages), some 40 ms of a cold start, before anything is set up. An
 * XML configuration is not read either: that would load logback's Joran and the JDK's XML parser,
 * some 380 classes that the flags then throw away. An explicit configuration still wins, read by
 * logback's own initializer: {@code -Dlogback.configurationFile} or a {@code logback-test.xml} on
 * the class path.
 */
public final class LogProvider implements SLF4JServiceProvider {
    private final LoggerContext context = new LoggerContext();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final LogbackMDCAdapter mdc = new LogbackMDCAdapter();

    @Override
    public void initialize() {
        context.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
        if (explicitConfiguration(LogProvider.class.getClassLoader())) {
            try {
                new ContextInitializer(context).autoConfig();
            } catch (JoranException e) {
                // Recorded as an error status of the context, printed next, as logback would.
            }
            StatusPrinter.printInCaseOfErrorsOrWarnings(context);
        } else {
            LogSetup.configure(context, level(System.getenv(Env.LOG_LEVEL)), LogFormat.PLAIN, null);
        }
        context.start();
        context.setMDCAdapter(mdc);
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return context;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return LogbackServiceProvider.REQUESTED_API_VERSION;
    }

    static boolean explicitConfiguration(ClassLoader loader) {
        return System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY) != null
                || loader.getResource(ContextInitializer.TEST_AUTOCONFIG_FILE) != null;
    }

    /** The level of {@code SIDECAR_LOG_LEVEL}; a bad value is the flag parser's to report, so info. */
    static LogLevel level(String env) {
        if (env == null || env.isBlank()) {
            return LogLevel.INFO;
        }
        try {
            return LogLevel.parse(env);
        } catch (IllegalArgumentException e) {
            return LogLevel.INFO;
        }
    }
}
