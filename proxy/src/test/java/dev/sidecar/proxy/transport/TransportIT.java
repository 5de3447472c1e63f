package dev.sidecar.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.SidecarProcess;
import io.netty.channel.uring.IoUring;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --transport} as a pod meets it: the default {@code auto} on a kernel that allows io_uring,
 * and under a seccomp filter that blocks the io_uring system calls as container runtimes' default
 * profiles do ({@code src/test/native/no-io-uring.c}, compiled here).
 */
@Tag("netns")
@Timeout(120)
class TransportIT {
    private static final Path NO_IO_URING = Path.of("target/no-io-uring").toAbsolutePath();
    private static final Path JAR = Path.of("target/sidecar.jar").toAbsolutePath();
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    private NetnsLab lab;
    private String podNs;

    @BeforeAll
    static void compileTheSeccompWrapper() throws Exception {
        Process gcc = new ProcessBuilder("gcc", "-O2", "-Wall", "-o", NO_IO_URING.toString(), "src/test/native/no-io-uring.c")
                .redirectErrorStream(true).start();
        String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor()).as(out).isZero();
    }

    @BeforeEach
    void pod() {
        lab = new NetnsLab("trn");
        podNs = lab.namespace("pod");
        String server = lab.namespace("server");
        lab.link(podNs, "198.18.2.1/24", server, "198.18.2.2/24"); // somewhere for the self-test to dial
    }

    @AfterEach
    void deletePod() {
        lab.close();
    }

    @Test
    void autoTakesIoUringWhereTheKernelAllowsIt() throws Exception {
        assumeTrue(IoUring.isAvailable(), "io_uring is blocked on this machine: " + IoUring.unavailabilityCause());

        try (SidecarProcess sidecar = SidecarProcess.start(podNs, "--no-ipv6")) {
            assertThat(sidecar.log()).contains("transport: io_uring (auto: io_uring works here)");
            sidecar.await(l -> l.contains("redirect self-test passed"), 20);
        }
    }

    @Test
    void autoFallsBackToEpollWhereSeccompBlocksIoUringAndStillServes() throws Exception {
        try (SidecarProcess sidecar = SidecarProcess.start(podNs, List.of(NO_IO_URING.toString()), "--no-ipv6")) {
            assertThat(sidecar.log()).containsPattern("transport: epoll \\(auto: io_uring unusable \\(.+\\)\\)");
            sidecar.await(l -> l.contains("redirect self-test passed"), 20);
            assertThat(SidecarProcess.http(podNs, 4191, "GET", "/metrics")).contains("sidecar_info{transport=\"epoll\"");
        }
    }

    @Test
    void anExplicitIoUringWhereSeccompBlocksItIsOneLineExitThreeAndInstallsNothing() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(NO_IO_URING.toString(), JAVA, "-jar", JAR.toString(), "run",
                "--transport", "io_uring"));
        Process p = new ProcessBuilder(NetnsLab.inNs(podNs, cmd.toArray(String[]::new))).start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(p.exitValue()).as(err).isEqualTo(3);
        assertThat(err.lines().filter(l -> l.startsWith("sidecar: ")).toList()).singleElement().asString()
                .startsWith("sidecar: the io_uring transport is unavailable here (--transport io_uring): ")
                .endsWith("; use --transport epoll or auto");
        assertThat(lab.exec(podNs, "iptables-save", "-t", "nat")).doesNotContain("PROXY_INIT");
    }
}
