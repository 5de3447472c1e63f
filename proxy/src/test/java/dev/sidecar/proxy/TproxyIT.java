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
    private String clientNs, podNs;

    @BeforeAll
    void startPod() throws Exception {
        assertThat(NetnsLab.available()).as("namespace tests need root (or -Dnetns.skip=true)").isTrue();
        lab = new NetnsLab("tpx");
        clientNs = lab.namespace("client");
        podNs = lab.namespace("pod");
        String[] veth = lab.link(clientNs, CLIENT + "/24", podNs, POD + "/24");
        lab.address(clientNs, veth[0], CLIENT6 + "/64");
        lab.address(podNs, veth[1], POD6 + "/64");
        traffic = new Traffic();
        app = traffic.serve(podNs, APP_UID, 8080);
        outside = traffic.serve(clientNs, 0, 9090);
        sidecar = SidecarProcess.start(podNs, "--ipv6", "--inbound-mode", "tproxy", "--connect-timeout", "2s",
                "--shutdown-grace", "1s", "--transport", transport());
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
