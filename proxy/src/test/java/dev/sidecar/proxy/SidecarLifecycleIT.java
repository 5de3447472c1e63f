package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.transport.Transport;
import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.Payload;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Start, SIGTERM and crash of {@code bin/sidecar run} in a pod namespace with a server namespace
 * next to it, on each transport.
 */
@Tag("netns")
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@Timeout(120)
class SidecarLifecycleIT {
    private static final long MIB = 1024 * 1024;
    private static final String POD = "198.18.4.1", SERVER = "198.18.4.2";

    @Parameter
    Transport transport;

    private NetnsLab lab;
    private Traffic traffic;
    private String podNs, serverNs;
    private Traffic.Server server;

    @BeforeEach
    void topology() throws Exception {
        lab = new NetnsLab("rly");
        podNs = lab.namespace("pod");
        serverNs = lab.namespace("server");
        lab.link(podNs, POD + "/24", serverNs, SERVER + "/24");
        traffic = new Traffic();
        server = traffic.serve(serverNs, 0, 8080);
    }

    @AfterEach
    void cleanUp() throws Exception {
        Closer.closeAll(traffic, lab);
    }

    @Test
    void sigtermDuringTransferLetsItFinishExitsZeroAndKeepsTheRules() throws Exception {
        SidecarProcess sidecar = SidecarProcess.start(podNs, "--transport", transport.label(), "--ipv6=false", "--shutdown-grace", "10s");
        try {
            // 24 MiB at 12 MiB/s: still running when SIGTERM comes, done well within the grace.
            Process client = traffic.start(podNs, 1000, SERVER, 8080, 24 * MIB, 11, 1 * MIB, 12, 12);
            Thread.sleep(700);
            long signalled = System.nanoTime();

            int exit = sidecar.terminate(15);

            Traffic.Result r = traffic.finish(client);
            assertThat(r.ok()).as(r.line()).isTrue();
            assertThat(server.connection(12)).contains("received=" + 24 * MIB, "sha=" + Payload.expected(11, 24 * MIB));
            assertThat(exit).as(sidecar.log()).isZero();
            assertThat((System.nanoTime() - signalled) / 1_000_000_000).isLessThan(10);
            assertThat(sidecar.log()).contains("stopping: no new connections; 1 open");
            assertThat(sidecar.connectionLines()).anyMatch(l -> l.contains("-> /" + SERVER + ":8080") && l.contains("end=closed"));
            assertThat(ruleCount("proxy-init/redirect-all-outgoing")).as("rules stay after exit").isEqualTo(1);
        } finally {
            sidecar.close();
        }
    }

    @Test
    void secondRunAfterKillNineStartsCleanlyWithoutDuplicateRules() throws Exception {
        SidecarProcess first = SidecarProcess.start(podNs, "--transport", transport.label(), "--ipv6=false");
        first.kill();

        SidecarProcess second = SidecarProcess.start(podNs, "--transport", transport.label(), "--ipv6=false");
        try {
            assertThat(ruleCount("proxy-init/redirect-all-outgoing")).isEqualTo(1);
            assertThat(ruleCount("proxy-init/install-proxy-init-output")).isEqualTo(1);
            assertThat(ruleCount("proxy-init/install-proxy-init-prerouting")).isEqualTo(1);
            Traffic.Result r = traffic.connect(podNs, 1000, SERVER, 8080, 1000, 21, 1000, 22, 0);
            assertThat(r.ok()).as(r.line()).isTrue();
            second.await(l -> l.contains("outbound " + r.get("local") + " -> /" + SERVER + ":8080"), 10);
            assertThat(second.terminate(15)).isZero();
        } finally {
            second.close();
        }
    }

    private int ruleCount(String slug) {
        String save = lab.exec(podNs, "iptables-save", "-t", "nat");
        Matcher m = Pattern.compile("^-A .*" + Pattern.quote(slug) + "\\b", Pattern.MULTILINE).matcher(save);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
