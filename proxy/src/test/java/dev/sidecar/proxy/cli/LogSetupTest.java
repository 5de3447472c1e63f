package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.util.internal.logging.InternalLoggerFactory;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LogSetupTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Logger log = LoggerFactory.getLogger("dev.sidecar.proxy.test");

    @AfterEach
    void restoreTestLogging() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        new ContextInitializer(context).autoConfig();
    }

    private List<String> lines() {
        List<String> lines = new ArrayList<>(out.toString(StandardCharsets.UTF_8).lines().toList());
        lines.removeIf(String::isEmpty);
        return lines;
    }

    @Test
    void jsonFormatWritesOneValidObjectPerLine() throws Exception {
        LogSetup.apply(LogLevel.INFO, LogFormat.JSON, out);

        log.info("relay to {} said \"hi\"\nand\tleft \u0001", "198.18.0.2:80");

        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        JsonNode event = JSON.readTree(lines.get(0));
        assertThat(event.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(event.get("level").asText()).isEqualTo("INFO");
        assertThat(event.get("logger").asText()).isEqualTo("dev.sidecar.proxy.test");
        assertThat(event.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(event.get("msg").asText()).isEqualTo("relay to 198.18.0.2:80 said \"hi\"\nand\tleft \u0001");
        assertThat(event.has("exception")).isFalse();
    }

    @Test
    void jsonFormatCarriesTheStackTraceInOneField() throws Exception {
        LogSetup.apply(LogLevel.INFO, LogFormat.JSON, out);

        log.warn("connect failed", new java.net.ConnectException("Connection refused"));

        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        JsonNode event = JSON.readTree(lines.get(0));
        assertThat(event.get("level").asText()).isEqualTo("WARN");
        assertThat(event.get("exception").asText())
                .startsWith("java.net.ConnectException: Connection refused")
                .contains("at dev.sidecar.proxy.cli.LogSetupTest.");
    }

    @Test
    void levelFiltersEventsBelowIt() {
        LogSetup.apply(LogLevel.WARN, LogFormat.PLAIN, out);

        log.info("hidden");
        log.warn("shown");

        assertThat(lines()).hasSize(1);
        assertThat(lines().get(0)).endsWith(": shown");
    }

    @Test
    void plainFormatHasUtcTimestampLevelAndLoggerName() {
        LogSetup.apply(LogLevel.DEBUG, LogFormat.PLAIN, out);

        log.debug("listening on 127.0.0.1:4140");

        assertThat(lines()).singleElement().asString().matches(
                "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z DEBUG test: listening on 127\\.0\\.0\\.1:4140");
    }

    @Test
    void plainFormatPadsTheLevelAndPutsTheStackTraceOnTheLinesAfter() {
        LogSetup.apply(LogLevel.INFO, LogFormat.PLAIN, out);

        log.warn("connect failed", new java.net.ConnectException("Connection refused"));
        LoggerFactory.getLogger("Bare").info("no package");

        assertThat(out.toString(StandardCharsets.UTF_8)).as("no blank line after the stack trace").doesNotContain("\n\n");
        List<String> lines = lines();
        assertThat(lines.get(0)).endsWith("Z WARN  test: connect failed");
        assertThat(lines.get(1)).isEqualTo("java.net.ConnectException: Connection refused");
        assertThat(lines.get(2)).startsWith("\tat dev.sidecar.proxy.cli.LogSetupTest.");
        assertThat(lines.get(lines.size() - 1)).endsWith("Z INFO  Bare: no package");
    }

    @Test
    void nettyLogsGoThroughTheSameBackend() throws Exception {
        LogSetup.apply(LogLevel.INFO, LogFormat.JSON, out);

        InternalLoggerFactory.getInstance("io.netty.channel.Test").warn("from netty");

        JsonNode event = JSON.readTree(lines().get(0));
        assertThat(event.get("logger").asText()).isEqualTo("io.netty.channel.Test");
        assertThat(event.get("msg").asText()).isEqualTo("from netty");
    }

    @Test
    void nettyDebugChatterStaysHiddenAtDebugButNotAtTrace() {
        LogSetup.apply(LogLevel.DEBUG, LogFormat.PLAIN, out);
        InternalLoggerFactory.getInstance("io.netty.buffer.Test").debug("allocator chatter");
        assertThat(lines()).isEmpty();

        LogSetup.apply(LogLevel.TRACE, LogFormat.PLAIN, out);
        InternalLoggerFactory.getInstance("io.netty.buffer.Test").debug("allocator chatter");
        assertThat(lines()).singleElement().asString().endsWith("allocator chatter");
    }
}
