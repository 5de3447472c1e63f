package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.os.ProcStatus;
import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code sidecar run} watching its own rules in a pod namespace, with a check every second: the
 * test plays the CNI plugin that flushes them behind the proxy's back, on both iptables variants.
 * Each test gets a pod of its own, joined to a server namespace:
 *
 * <pre>
 *  pod 198.18.2.1 ── 198.18.2.2 server (:8080)
 *  sidecar run --rules-check-interval 1s; app as uid 1000
 * </pre>
 */
@Tag("netns")
@Timeout(120)
class RulesWatchIT {
    private static final Path LAUNCHER = Path.of("../bin/sidecar").toAbsolutePath().normalize();
    private static final int APP_UID = 1000;
    private static final String POD = "198.18.2.1", SERVER = "198.18.2.2";
    private static final String DRIFT_WARNING = "rules watch: rules differ from the plan: IPv4: ";

    private NetnsLab lab;
    private Traffic traffic;
    private SidecarProcess sidecar;
    private String podNs;

    @AfterEach
    void stopPod() throws Exception {
        Closer.closeAll(sidecar, traffic, lab);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nft", "legacy"})
    void aFlushedChainTurnsReadyAndTheGaugeWithOneWarnLineUntilTheRulesAreBack(String backend) throws Exception {
        startPod(backend);
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("1");

        iptables(backend, "-t", "nat", "-F", "PROXY_INIT_OUTPUT");

        String ready = awaitReady(r -> r.startsWith("HTTP/1.1 503"));
        assertThat(ready).containsPattern("\r\n\r\niptables rules differ from the plan \\(IPv4: [1-9] missing, 0 extra\\)\n$");
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("0");
        Thread.sleep(3000); // three more checks, the drift unchanged
        assertThat(sidecar.log().lines().filter(l -> l.contains(DRIFT_WARNING))).singleElement().asString()
                .contains("WARN", "- -A PROXY_INIT_OUTPUT -o lo -m comment --comment \"proxy-init/ignore-loopback\" -j RETURN",
                        "/ready is 503 until they match again");
        assertThat(metric("sidecar_rules_repairs_total")).isEqualTo("0");
        assertThat(iptablesSave(backend)).doesNotContain("-A PROXY_INIT_OUTPUT");

        // The operator puts them back by hand: the watch notices, once.
        assertThat(lab.tryExec(podNs, LAUNCHER.toString(), "iptables", "install", "--backend", backend, "--no-ipv6",
                "--skip-inbound-ports", "4191").ok()).isTrue();
        sidecar.await(l -> l.contains("rules watch: rules match the plan again"), 10);
        assertThat(awaitReady(r -> r.startsWith("HTTP/1.1 200"))).endsWith("ready\n");
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("1");
        assertThat(sidecar.log().lines().filter(l -> l.contains(DRIFT_WARNING))).hasSize(1);
        assertRelayHoldsNoCapabilityWhileTheHelperIsRoot();
    }

    @ParameterizedTest
    @ValueSource(strings = {"nft", "legacy"})
    void withRepairFlushedRulesAreInstalledAgainAndTrafficIsRedirectedAgain(String backend) throws Exception {
        startPod(backend, "--rules-repair");
        assertRelayHoldsNoCapabilityWhileTheHelperIsRoot();
        String planned = iptablesSave(backend);

        iptables(backend, "-t", "nat", "-F", "PROXY_INIT_OUTPUT");
        iptables(backend, "-t", "nat", "-F", "OUTPUT"); // the jump goes too

        sidecar.await(l -> l.contains("rules watch: rules repaired: the plan is installed again"), 10);
        assertThat(iptablesSave(backend)).isEqualTo(planned);
        NetnsLab.Result check = lab.tryExec(podNs, LAUNCHER.toString(), "iptables", "check", "--backend", backend, "--no-ipv6",
                "--skip-inbound-ports", "4191");
        assertThat(check.ok()).as(check.output()).isTrue();
        assertThat(metric("sidecar_rules_repairs_total")).isEqualTo("1");
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("1");
        assertThat(awaitReady(r -> r.startsWith("HTTP/1.1 200"))).endsWith("ready\n");
        assertThat(sidecar.log().lines().filter(l -> l.contains(DRIFT_WARNING))).singleElement().asString()
                .contains("installing the plan again (--rules-repair)");

        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 8080, 1000, 501, 2000, 502, 0);
        assertThat(r.ok()).as(r.line()).isTrue();
        sidecar.await(l -> l.contains("outbound " + r.get("local") + " -> /" + SERVER + ":8080"), 10);
        assertRelayHoldsNoCapabilityWhileTheHelperIsRoot();
    }

    @Test
    void inTproxyModeAFlushedMangleChainTurnsReadyAndTheGaugeWithOneWarnLine() throws Exception {
        startPod("nft", "--inbound-mode", "tproxy");
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("1");
        Thread.sleep(1500); // a check or two of intact rules: mangle and routing read without a complaint
        assertThat(sidecar.log().lines().filter(l -> l.contains("WARN"))).as(sidecar.log()).isEmpty();
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("1");
        assertTheEventLoopsHoldAtMostNetRawWhileTheHelperIsRoot();

        iptables("nft", "-t", "mangle", "-F", "PROXY_INIT_TPROXY");

        String ready = awaitReady(r -> r.startsWith("HTTP/1.1 503"));
        assertThat(ready).containsPattern("\r\n\r\niptables rules differ from the plan \\(IPv4 mangle: [1-9]\\d* missing, 0 extra\\)\n$");
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("0");
        Thread.sleep(3000); // three more checks, the drift unchanged
        assertThat(sidecar.log().lines().filter(l -> l.contains("WARN"))).singleElement().asString()
                .contains("rules watch: rules differ from the plan: IPv4 mangle: - -A PROXY_INIT_TPROXY ",
                        "/ready is 503 until they match again");
        assertThat(metric("sidecar_rules_repairs_total")).isEqualTo("0");
        assertTheEventLoopsHoldAtMostNetRawWhileTheHelperIsRoot();
    }

    @Test
    void inTproxyModeRepairPutsBackTheMangleRulesAndADeletedIpRuleThroughTheHelper() throws Exception {
        startPod("nft", "--inbound-mode", "tproxy", "--rules-repair");
        String mangle = save("nft", "mangle");
        String rules = lab.exec(podNs, "ip", "-4", "rule", "show");
        assertThat(mangle).contains("-A PROXY_INIT_TPROXY ");
        assertThat(rules).contains("fwmark 0x539 lookup 133");

        lab.exec(podNs, "ip", "-4", "rule", "del", "fwmark", "0x539", "lookup", "133");
        iptables("nft", "-t", "mangle", "-F", "PROXY_INIT_TPROXY");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline && !(save("nft", "mangle").equals(mangle)
                && lab.exec(podNs, "ip", "-4", "rule", "show").equals(rules) && metric("sidecar_rules_in_place").equals("1"))) {
            Thread.sleep(200);
        }
        assertThat(save("nft", "mangle")).isEqualTo(mangle);
        assertThat(lab.exec(podNs, "ip", "-4", "rule", "show")).isEqualTo(rules);
        assertThat(lab.exec(podNs, "ip", "-4", "route", "show", "table", "133")).contains("local default dev lo");
        sidecar.await(l -> l.contains("rules watch: rules repaired: the plan is installed again"), 10);
        NetnsLab.Result check = lab.tryExec(podNs, LAUNCHER.toString(), "iptables", "check", "--backend", "nft", "--no-ipv6",
                "--inbound-mode", "tproxy", "--skip-inbound-ports", "4191");
        assertThat(check.ok()).as(check.output()).isTrue();
        assertThat(Integer.parseInt(metric("sidecar_rules_repairs_total"))).isGreaterThanOrEqualTo(1);
        assertThat(metric("sidecar_rules_in_place")).isEqualTo("1");
        assertThat(awaitReady(r -> r.startsWith("HTTP/1.1 200"))).endsWith("ready\n");
        assertThat(sidecar.log().lines().filter(l -> l.contains("rules helper: running ip -4 rule add fwmark 0x539 lookup 133")))
                .hasSize(1);
        assertThat(sidecar.log().lines().filter(l -> l.contains("WARN") && l.contains("repair failed"))).isEmpty();
        assertTheEventLoopsHoldAtMostNetRawWhileTheHelperIsRoot();
    }

    private void startPod(String backend, String... more) throws Exception {
        lab = new NetnsLab("rwt");
        podNs = lab.namespace("pod");
        String serverNs = lab.namespace("server");
        lab.link(podNs, POD + "/24", serverNs, SERVER + "/24");
        traffic = new Traffic();
        traffic.serve(serverNs, 0, 8080);
        List<String> args = new ArrayList<>(List.of("--backend", backend, "--no-ipv6", "--rules-check-interval", "1s"));
        args.addAll(List.of(more));
        sidecar = SidecarProcess.start(podNs, args.toArray(String[]::new));
        sidecar.await(l -> l.contains("redirect self-test passed"), 15);
        assertThat(awaitReady(r -> r.startsWith("HTTP/1.1 200"))).endsWith("ready\n");
        // /ready waits for the self-test, not for the watch: its first check may still be running.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (metric("sidecar_rules_in_place").equals("-1") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    /**
     * The JVM (every thread) runs as 2102 with no capability, effective or permitted, while its
     * one child, the rules helper, is a separate process that kept root.
     */
    private void assertRelayHoldsNoCapabilityWhileTheHelperIsRoot() throws IOException {
        assertThreadsAndHelper(0);
    }

    /** As in redirect mode, but in tproxy mode the event loops (and only they) keep CAP_NET_RAW. */
    private void assertTheEventLoopsHoldAtMostNetRawWhileTheHelperIsRoot() throws IOException {
        assertThat(assertThreadsAndHelper(1L << ProcStatus.CAP_NET_RAW)).as("threads holding CAP_NET_RAW").isPositive();
    }

    /** Returns how many threads hold {@code allowed}; every other thread holds nothing. */
    private int assertThreadsAndHelper(long allowed) throws IOException {
        long jvm = sidecar.pid();
        assertThat(Files.readString(Path.of("/proc/" + jvm + "/comm")).strip()).isEqualTo("java");
        List<Path> tasks;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + jvm + "/task"))) {
            tasks = s.toList();
        }
        assertThat(tasks).hasSizeGreaterThan(5);
        List<Long> children = new ArrayList<>();
        int holders = 0;
        for (Path task : tasks) {
            String status;
            try {
                status = Files.readString(task.resolve("status"));
                for (String c : Files.readString(task.resolve("children")).trim().split("\\s+")) {
                    if (!c.isEmpty()) {
                        children.add(Long.parseLong(c));
                    }
                }
            } catch (NoSuchFileException threadEnded) {
                continue;
            }
            String name = field(status, "Name");
            assertThat(ProcStatus.parse(status).mismatch(2102, 2102, allowed, false)).as("%s %s", task, name).isNull();
            assertThat(field(status, "Uid")).as(task + " Uid").isEqualTo("2102\t2102\t2102\t2102");
            if (allowed != 0 && ProcStatus.parse(status).capEff() == allowed) {
                holders++;
                assertThat(name).as("only event loops keep CAP_NET_RAW").containsAnyOf("IoEv", "iou-wrk", "epoll");
            }
        }
        List<Long> helpers = children.stream().filter(pid -> cmdline(pid).contains("sidecar-rules-helper")).toList();
        assertThat(helpers).as("children of the JVM: %s", children).hasSize(1);
        long helper = helpers.get(0);
        assertThat(helper).isNotEqualTo(jvm);
        String status = Files.readString(Path.of("/proc/" + helper + "/status"));
        assertThat(field(status, "Uid")).isEqualTo("0\t0\t0\t0");
        assertThat(field(status, "PPid")).isEqualTo(Long.toString(jvm));
        return holders;
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        } catch (IOException gone) {
            return "";
        }
    }

    private static String field(String status, String name) {
        return status.lines().filter(l -> l.startsWith(name + ":")).findFirst().orElseThrow()
                .substring(name.length() + 1).strip();
    }

    private String awaitReady(Predicate<String> test) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = SidecarProcess.http(podNs, 4191, "GET", "/ready");
            if (test.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("/ready never matched; last answer:\n" + last + "\nlog:\n" + sidecar.log());
    }

    private String metric(String name) throws Exception {
        String metrics = SidecarProcess.http(podNs, 4191, "GET", "/metrics");
        return metrics.lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .map(l -> l.substring(name.length() + 1).replaceAll("\\.0$", "")).orElse("absent");
    }

    private void iptables(String backend, String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "iptables-" + backend;
        System.arraycopy(args, 0, cmd, 1, args.length);
        lab.exec(podNs, cmd);
    }

    private String iptablesSave(String backend) {
        return save(backend, "nat");
    }

    private String save(String backend, String table) {
        return lab.exec(podNs, "iptables-" + backend + "-save", "-t", table).replaceAll("(?m)^#.*\n", "")
                .replaceAll("\\[\\d+:\\d+\\]", "[0:0]");
    }
}
