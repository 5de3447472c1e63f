package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.os.ProcStatus;
import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.Payload;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * tproxy inbound mode end to end: the app behind the sidecar sees the client's own address.
 *
 * <pre>
 *  client 198.18.7.2 / 2001:db8:7::2 ── 198.18.7.1 / 2001:db8:7::1 pod
 *  serves :9090 (outbound target)          app :8080 as uid 1000, sidecar --inbound-mode tproxy
 * </pre>
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class TproxyIT {
    /** The same claims on the epoll transport. */
    static class TproxyEpollIT extends TproxyIT {
        @Override
        String transport() {
            return "epoll";
        }
    }

    private static final int APP_UID = 1000;
    private static final String POD = "198.18.7.1", CLIENT = "198.18.7.2", POD6 = "2001:db8:7::1", CLIENT6 = "2001:db8:7::2";
    private static final long MIB3 = 3L * 1024 * 1024;

    private NetnsLab lab;
    private Traffic traffic;
    private SidecarProcess sidecar;
    private Traffic.Server app;
    private Traffic.Server outside;
    private Traffic.Server skipped;
    private String clientNs, podNs;

    @BeforeAll
    void startPod() throws Exception {
        lab = new NetnsLab("tpx");
        clientNs = lab.namespace("client");
        podNs = lab.namespace("pod");
        String[] veth = lab.link(clientNs, CLIENT + "/24", podNs, POD + "/24");
        lab.address(clientNs, veth[0], CLIENT6 + "/64");
        lab.address(podNs, veth[1], POD6 + "/64");
        traffic = new Traffic();
        app = traffic.serve(podNs, APP_UID, 8080);
        skipped = traffic.serve(podNs, APP_UID, 9002);
        // The attacker's side: another subnet is reached through the pod.
        lab.exec(clientNs, "ip", "route", "add", "198.18.8.0/24", "via", POD);
        outside = traffic.serve(clientNs, 0, 9090);
        sidecar = SidecarProcess.start(podNs, "--ipv6", "--inbound-mode", "tproxy", "--connect-timeout", "2s",
                "--shutdown-grace", "1s", "--transport", transport(), "--skip-inbound-ports", "9002");
    }

    /** The transport under test; {@link TproxyEpollIT} runs the same claims on epoll. */
    String transport() {
        return "io_uring";
    }

    @AfterAll
    void stopPod() throws Exception {
        Closer.closeAll(sidecar, traffic, lab);
    }

    @Test
    void theAppSeesTheClientsOwnAddressAndEveryByteBothWaysForIpv4AndIpv6() throws Exception {
        Traffic.Result v4 = traffic.connect(clientNs, 0, POD, 8080, MIB3, 3101, MIB3, 3102, 0);
        Traffic.Result v6 = traffic.connect(clientNs, 0, POD6, 8080, MIB3, 3103, MIB3, 3104, 0);

        assertThat(v4.ok()).as(v4.line()).isTrue();
        assertThat(v6.ok()).as(v6.line()).isTrue();
        assertThat(v4.get("sha")).isEqualTo(Payload.expected(3102, MIB3));
        assertThat(v6.get("sha")).isEqualTo(Payload.expected(3104, MIB3));
        String seen4 = app.connection(3102);
        String seen6 = app.connection(3104);
        assertThat(seen4).contains("sha=" + Payload.expected(3101, MIB3)).contains("from=/" + CLIENT + ":");
        assertThat(seen6).contains("sha=" + Payload.expected(3103, MIB3)).contains("from=/[2001:db8:7:0:0:0:0:2]:");
        sidecar.await(l -> l.contains("/" + CLIENT + ":") && l.contains("/" + POD + ":8080"), 10, "inbound v4 line");
    }

    @Test
    void theSidecarBecomesReadyTheRedirectSelfTestPassingOverTheOutboundRules() throws Exception {
        String ready = "";
        for (long deadline = System.nanoTime() + 30_000_000_000L; System.nanoTime() < deadline && !ready.startsWith("HTTP/1.1 200"); ) {
            ready = SidecarProcess.http(podNs, 4191, "GET", "/ready");
            Thread.sleep(ready.startsWith("HTTP/1.1 200") ? 0 : 200);
        }
        assertThat(ready).startsWith("HTTP/1.1 200");
        sidecar.await(l -> l.contains("redirect self-test passed"), 5, "self-test");
    }

    @Test
    void halfCloseFromEitherSideKeepsTheOtherDirectionFlowing() throws Exception {
        Traffic.Result clientFinFirst = traffic.connect(clientNs, 0, POD, 8080, 0, 3301, MIB3, 3302, 0);
        assertThat(clientFinFirst.get("sha")).as(clientFinFirst.line()).isEqualTo(Payload.expected(3302, MIB3));
        Traffic.Result serverFinFirst = traffic.connect(clientNs, 0, POD6, 8080, MIB3, 3303, 0, 3304, 0);
        assertThat(serverFinFirst.get("received")).as(serverFinFirst.line()).isEqualTo("0");
        assertThat(app.connection(3304)).contains("sha=" + Payload.expected(3303, MIB3));
    }

    @Test
    void aResetFromTheClientResetsTheAppAndOneFromTheAppResetsTheClient() throws Exception {
        String local = traffic.reset(clientNs, 0, POD, 8080, 3401);
        assertThat(app.connection(3401)).containsIgnoringCase("reset");
        sidecar.await(l -> l.contains("inbound " + local + " -> ") && l.contains("end=client reset"), 10, "client reset");

        Traffic.Result r = traffic.connect(clientNs, 0, POD, 8080, MIB3, 3501, 0, 3502, 0, -1000);
        // The client's writer meets the RST as ECONNRESET or, on its next write, EPIPE.
        assertThat(r.line()).containsAnyOf("reset", "Broken pipe");
        assertThat(app.connection(3502)).isEqualTo("seed=3502 reset");
    }

    @Test
    void skippedInboundPortBypassesTheProxy() throws Exception {
        int seen = sidecar.connectionLines().size();
        Traffic.Result r = traffic.connect(clientNs, 0, POD, 9002, 1000, 3601, 1000, 3602, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(skipped.connection(3602)).contains("from=" + r.get("local"));
        Thread.sleep(300);
        List<String> lines = sidecar.connectionLines();
        assertThat(lines.subList(seen, lines.size())).noneMatch(l -> l.contains(r.get("local") + " "));
    }

    @Test
    void aConnectionToAForeignAddressRoutedThroughThePodIsRefused() throws Exception {
        Traffic.Result r = traffic.connect(clientNs, 0, "198.18.8.9", 8080, 100, 3701, 100, 3702, 0);

        assertThat(r.ok()).as("the pod relayed to a foreign address: %s", r.line()).isFalse();
        sidecar.await(l -> l.contains(":" + r.port() + " -> ") && l.contains("refused (not_local)"), 10, "not_local");
    }

    @Test
    void aDirectConnectionToTheInboundPortIsRefused() throws Exception {
        Traffic.Result r = traffic.connect(clientNs, 0, POD, 4143, 0, 3801, 10, 3802, 0);

        assertThat(r.ok()).as(r.line()).isFalse();
        assertThat(r.get("error")).containsIgnoringCase("reset");
    }

    @Test
    void outboundFromTheAppIsStillRedirectedTo4140() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, CLIENT, 9090, 1000, 3201, 1000, 3202, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(outside.connection(3202)).contains("sha=" + Payload.expected(3201, 1000)).contains("from=/" + POD + ":");
        sidecar.await(l -> l.contains("outbound") && l.contains("/" + CLIENT + ":9090"), 10, "outbound line");
    }

    @Test
    void everyThreadRunsAs2102AndHoldsAtMostCapNetRawWhichTheEventLoopsHave() throws Exception {
        long netRaw = 1L << ProcStatus.CAP_NET_RAW;
        int holders = 0;
        List<String> threads = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(javaPid()), "task"))) {
            for (Path task : tasks) {
                String text;
                try {
                    text = Files.readString(task.resolve("status"));
                } catch (NoSuchFileException ended) {
                    continue;
                }
                ProcStatus s = ProcStatus.parse(text);
                String name = text.lines().filter(l -> l.startsWith("Name:")).findFirst().orElse("?");
                threads.add(name);
                assertThat(s.mismatch(2102, 2102, netRaw, false)).as("%s %s", task, name).isNull();
                if (s.capEff() == netRaw) {
                    holders++;
                    // Event loops, and io_uring's kernel workers, which act for a loop's ring with its credentials.
                    assertThat(name).as("only event loops keep CAP_NET_RAW").containsAnyOf("IoEv", "iou-wrk");
                }
            }
        }
        assertThat(holders).as("threads holding CAP_NET_RAW among %s", threads).isPositive();
    }

    @Test
    void iptablesRemoveInTproxyModeLeavesNoChainJumpRuleOrRoute() throws Exception {
        try (NetnsLab fresh = new NetnsLab("tpr")) {
            String ns = fresh.namespace("pod");
            String launcher = Path.of(System.getProperty("sidecar.launcher", "../bin/sidecar")).toAbsolutePath().normalize().toString();
            fresh.exec(ns, launcher, "iptables", "install", "--inbound-mode", "tproxy", "--ipv6");
            assertThat(fresh.tryExec(ns, launcher, "iptables", "check", "--inbound-mode", "tproxy", "--ipv6").exitCode()).isZero();
            assertThat(fresh.exec(ns, "ip", "-6", "rule", "show")).contains("fwmark 0x539 lookup 133");

            fresh.exec(ns, launcher, "iptables", "remove", "--inbound-mode", "tproxy", "--ipv6");

            for (String save : List.of("iptables-save", "ip6tables-save")) {
                assertThat(fresh.exec(ns, save)).doesNotContain("PROXY_INIT");
            }
            for (String family : List.of("-4", "-6")) {
                assertThat(fresh.exec(ns, "ip", family, "rule", "show")).doesNotContain("0x539");
                assertThat(fresh.tryExec(ns, "ip", family, "route", "show", "table", "133").output()).doesNotContain("local");
            }
            assertThat(fresh.tryExec(ns, launcher, "iptables", "check", "--inbound-mode", "tproxy", "--ipv6").exitCode()).isEqualTo(1);
        }
    }

    @Test
    void rootWithoutCapNetRawIsRefusedInOneLineBeforeAnythingIsInstalled() throws Exception {
        try (NetnsLab fresh = new NetnsLab("tpc")) {
            String ns = fresh.namespace("pod");
            String launcher = Path.of(System.getProperty("sidecar.launcher", "../bin/sidecar")).toAbsolutePath().normalize().toString();
            NetnsLab.Result r = fresh.tryExec(ns, "capsh", "--drop=cap_net_raw", "--", "-c",
                    "exec " + launcher + " run --inbound-mode tproxy --ipv6 2>&1 >/dev/null");

            assertThat(r.exitCode()).as(r.output()).isEqualTo(5);
            assertThat(r.output().strip().lines().filter(l -> l.contains("CAP_NET_RAW")).toList()).as(r.output()).hasSize(1);
            for (String save : List.of("iptables-save", "ip6tables-save")) {
                assertThat(fresh.exec(ns, save)).doesNotContain("PROXY_INIT");
            }
            assertThat(fresh.exec(ns, "ip", "rule", "show")).doesNotContain("0x539");
        }
    }

    /** The JVM: the launcher script may sit between {@code ip netns exec} and java. */
    private long javaPid() throws Exception {
        long pid = sidecar.pid();
        for (int depth = 0; depth < 4; depth++) {
            String cmd = Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
            if (cmd.equals("java")) {
                return pid;
            }
            String children = Files.readString(Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children")).strip();
            if (children.isEmpty()) {
                break;
            }
            pid = Long.parseLong(children.split("\\s+")[0]);
        }
        return pid;
    }
}
