package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.SLF4JServiceProvider;
import org.junit.jupiter.api.Test;

class LogProviderTest {

    @Test
    void slf4jFindsItAsAServiceAndBindsToLogback() {
        assertThat(ServiceLoader.load(SLF4JServiceProvider.class).stream().map(ServiceLoader.Provider::type))
                .contains(LogProvider.class);
        assertThat(LoggerFactory.getILoggerFactory()).isInstanceOf(LoggerContext.class);
    }

    @Test
    void aLogbackTestXmlOnTheClassPathWinsAsLogbackWouldHaveIt() {
        // This module's tests have one (src/test/resources): logback's initializer reads it.
        assertThat(LogProvider.explicitConfiguration(LogProviderTest.class.getClassLoader())).isTrue();
        LogProvider provider = new LogProvider();
        provider.initialize();
        LoggerContext context = (LoggerContext) provider.getLoggerFactory();
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("plain")).as("our start-up appender").isNull();
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders()).as("logback-test.xml's").hasNext();
    }

    @Test
    void aClassPathWithoutOneLeavesItToUs() {
        ClassLoader bootOnly = new ClassLoader(null) {};

        assertThat(LogProvider.explicitConfiguration(bootOnly)).isFalse();
    }

    @Test
    void aConfigurationFilePropertyWins() {
        String old = System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY);
        System.setProperty(ContextInitializer.CONFIG_FILE_PROPERTY, "/etc/sidecar/logback.xml");
        try {
            assertThat(LogProvider.explicitConfiguration(new ClassLoader(null) {})).isTrue();
        } finally {
            if (old == null) {
                System.clearProperty(ContextInitializer.CONFIG_FILE_PROPERTY);
            } else {
                System.setProperty(ContextInitializer.CONFIG_FILE_PROPERTY, old);
            }
        }
    }

    @Test
    void theStartUpSetUpIsPlainLinesOnStderr() {
        LoggerContext context = new LoggerContext();

        LogSetup.configure(context, LogProvider.level("debug"), LogFormat.PLAIN, null);

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.DEBUG);
        assertThat(root.getAppender("plain")).isInstanceOfSatisfying(ConsoleAppender.class,
                a -> assertThat(a.getTarget()).isEqualTo("System.err"));
    }

    @Test
    void theLevelComesFromTheEnvironmentAndABadOneIsLeftToTheFlagParser() {
        assertThat(LogProvider.level(null)).isEqualTo(LogLevel.INFO);
        assertThat(LogProvider.level(" ")).isEqualTo(LogLevel.INFO);
        assertThat(LogProvider.level("WARN")).isEqualTo(LogLevel.WARN);
        assertThat(LogProvider.level("bogus")).isEqualTo(LogLevel.INFO);
    }
}
