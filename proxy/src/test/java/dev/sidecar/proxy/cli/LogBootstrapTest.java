package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class LogBootstrapTest {

    @Test
    void logbackFindsItAsAService() {
        assertThat(ServiceLoader.load(ch.qos.logback.classic.spi.Configurator.class).stream()
                .map(ServiceLoader.Provider::type)).contains(LogBootstrap.class);
    }

    @Test
    void aLogbackTestXmlOnTheClassPathWinsAsLogbackWouldHaveIt() {
        // This module's tests have one (src/test/resources), so logback's own configurators run.
        assertThat(new LogBootstrap().configure(new LoggerContext())).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(LogBootstrap.explicitConfiguration(LogBootstrapTest.class.getClassLoader())).isTrue();
    }

    @Test
    void aClassPathWithoutOneLeavesItToUs() {
        ClassLoader bootOnly = new ClassLoader(null) {};

        assertThat(LogBootstrap.explicitConfiguration(bootOnly)).isFalse();
    }

    @Test
    void aConfigurationFilePropertyWins() {
        String old = System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY);
        System.setProperty(ContextInitializer.CONFIG_FILE_PROPERTY, "/etc/sidecar/logback.xml");
        try {
            assertThat(LogBootstrap.explicitConfiguration(new ClassLoader(null) {})).isTrue();
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

        LogSetup.configure(context, LogBootstrap.level("debug"), LogFormat.PLAIN, null);

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.DEBUG);
        assertThat(root.getAppender("plain")).isInstanceOfSatisfying(ConsoleAppender.class,
                a -> assertThat(a.getTarget()).isEqualTo("System.err"));
    }

    @Test
    void theLevelComesFromTheEnvironmentAndABadOneIsLeftToTheFlagParser() {
        assertThat(LogBootstrap.level(null)).isEqualTo(LogLevel.INFO);
        assertThat(LogBootstrap.level(" ")).isEqualTo(LogLevel.INFO);
        assertThat(LogBootstrap.level("WARN")).isEqualTo(LogLevel.WARN);
        assertThat(LogBootstrap.level("bogus")).isEqualTo(LogLevel.INFO);
    }
}
