package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.WhoAnswered;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real packets through the installed rules, no proxy yet: a pod namespace with listeners on 4140
 * and 4143 (and on 22 and 8080), a peer namespace over a veth (198.18.0.0/24, 2001:db8::/64) with
 * listeners on 80 and 25. Each test dials one path and asserts who answered and, where the kernel
 * exposes conntrack, the original destination that SO_ORIGINAL_DST would return.
 */
@Tag("netns")
@Timeout(120)
class RedirectTrafficIT {
    private static final String POD = "198.18.0.1", PEER = "198.18.0.2";
    private static final String APP_UID = "4321", PROXY_UID = "2102";
    private static final RedirectConfig CONFIG = RedirectConfig.builder().ipv6(true)
            .skipOutboundPorts(PortRange.parseList("25")).skipInboundPorts(PortRange.parseList("22")).build();
    private static final boolean CONNTRACK = Files.exists(Path.of("/proc/net/nf_conntrack"));

    private NetnsLab lab;
    private String pod, peer;
    private final List<Process> servers = new ArrayList<>();

    @BeforeEach
    void podAndPeerWithListeners() throws Exception {
        lab = new NetnsLab("ipt");
        pod = lab.namespace("pod");
        peer = lab.namespace("peer");
        String[] ifs = lab.link(pod, POD + "/24", peer, PEER + "/24");
        lab.address(pod, ifs[0], "2001:db8::1/64");
        lab.address(peer, ifs[1], "2001:db8::2/64");
        servers.add(server(pod, "pod", "4140", "4143", "22", "8080"));
        servers.add(server(peer, "peer", "80", "25"));
    }

    @AfterEach
    void stopEverything() {
        servers.forEach(Process::destroyForcibly);
        lab.close();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void outboundFromAppLandsOn4140WithTheDialledAddressAsOriginalDestination(Variant variant) {
        install(variant);
        assertAnswer(dial(pod, APP_UID, PEER, 80), "pod:4140", PEER + ":80");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void outboundFromProxyUidIsNotRedirected(Variant variant) {
        install(variant);
        assertThat(dial(pod, PROXY_UID, PEER, 80)).startsWith("peer:80 ");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void outboundToSkippedPortIsNotRedirected(Variant variant) {
        install(variant);
        assertThat(dial(pod, APP_UID, PEER, 25)).startsWith("peer:25 ");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void outboundToLoopbackIsNotRedirected(Variant variant) {
        install(variant);
        assertThat(dial(pod, APP_UID, "127.0.0.1", 8080)).startsWith("pod:8080 ");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void inboundFromPeerLandsOn4143WithTheDialledAddressAsOriginalDestination(Variant variant) {
        install(variant);
        assertAnswer(dial(peer, "0", POD, 8080), "pod:4143", POD + ":8080");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void inboundToSkippedPortBypassesTheProxy(Variant variant) {
        install(variant);
        assertThat(dial(peer, "0", POD, 22)).startsWith("pod:22 ");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void ipv6OutboundFromAppLandsOn4140(Variant variant) {
        install(variant);
        assertAnswer(dial(pod, APP_UID, "2001:db8::2", 80), "pod:4140", "[2001:db8:0:0:0:0:0:2]:80"); // Java spells IPv6 uncompressed
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void afterRemoveNothingIsRedirected(Variant variant) {
        install(variant);
        new RedirectInstaller(backend(variant)).remove(CONFIG);
        assertThat(dial(pod, APP_UID, PEER, 80)).startsWith("peer:80 ");
        assertThat(dial(peer, "0", POD, 8080)).startsWith("pod:8080 ");
    }

    private void install(Variant variant) {
        new RedirectInstaller(backend(variant)).install(CONFIG);
    }

    private IptablesBackend backend(Variant variant) {
        return new ProcessIptablesBackend(variant, List.of(NetnsLab.inNs(pod)));
    }

    private static void assertAnswer(String answer, String who, String orig) {
        assertThat(answer).startsWith(who + " ");
        if (CONNTRACK) {
            assertThat(answer).isEqualTo(who + " orig=" + orig);
        }
    }

    /** Connects as {@code uid} from inside {@code ns} (bash /dev/tcp) and returns the first line answered. */
    private String dial(String ns, String uid, String host, int port) {
        NetnsLab.Result r = lab.tryExec(ns, "timeout", "10", "setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
                "bash", "-c", "exec 3<>/dev/tcp/$0/$1 && head -n1 <&3", host, Integer.toString(port));
        assertThat(r.ok()).as("dial %s:%d as uid %s from %s: %s", host, port, uid, ns, r.output()).isTrue();
        return r.output().strip();
    }

    private Process server(String ns, String name, String... ports) throws Exception {
        String classes = Path.of(WhoAnswered.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", classes, WhoAnswered.class.getName(), name));
        cmd.addAll(List.of(ports));
        Process p = lab.start(ns, cmd.toArray(String[]::new));
        servers.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).as("%s listeners started", name).isEqualTo("ready");
        return p;
    }
}
