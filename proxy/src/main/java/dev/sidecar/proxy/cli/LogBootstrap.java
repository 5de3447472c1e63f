package dev.sidecar.proxy.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logging from the JVM's start until {@link LogSetup} applies the flags: plain lines on stderr at
 * {@code SIDECAR_LOG_LEVEL} (else info), so stdout stays the command's output. Logback finds it as
 * a service before it looks for {@code logback.xml}.
 *
 * <p>Set up in code rather than in a {@code logback.xml}: parsing XML loads logback's Joran and
 * the JDK's XML parser, some 380 classes of every start that the flags then throw away. An
 * explicit configuration still wins: {@code -Dlogback.configurationFile} or a
 * {@code logback-test.xml} on the class path.
 */
public final class LogBootstrap extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (explicitConfiguration(LogBootstrap.class.getClassLoader())) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // logback's own configurators read it
        }
        LogSetup.configure(context, level(System.getenv(Env.LOG_LEVEL)), LogFormat.PLAIN, null);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
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
