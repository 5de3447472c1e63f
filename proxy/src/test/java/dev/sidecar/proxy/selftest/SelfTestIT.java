package dev.sidecar.proxy.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.SidecarProcess;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The redirect self-test must catch a pod whose redirect does not work ({@code sidecar run
 * --no-iptables} as root trusts that an init container installed the rules), for IPv4 and IPv6,
 * and must pass wherever the pod has a way out, including lone /32 and /128 addresses.
 */
@Tag("netns")
@Timeout(60)
class SelfTestIT {
    private static final Path LAUNCHER = Path.of("../bin/sidecar").toAbsolutePath().normalize();
    private static final String NEIGHBOUR6 = "2001:db8:3:0:0:0:0:3"; // of 2001:db8:3::1/64, as Java prints it

    @Test
    void readyStays503WithTheReasonWhenNothingRedirectsThePod() throws Exception {
        try (NetnsLab lab = new NetnsLab("slf")) {
            String pod = lab.namespace("pod");
            String peer = lab.namespace("peer");
            // The probe dials the pod's neighbour 198.18.3.3, which nobody holds: with no rules its
            // SYN goes unanswered on this veth and never leaves the namespaces.
            lab.link(pod, "198.18.3.1/24", peer, "198.18.3.2/24");
            try (SidecarProcess sidecar = SidecarProcess.start(pod, "--no-iptables", "--no-ipv6")) {
                String failure = sidecar.await(l -> l.contains("redirect self-test:"), 20);

                assertThat(failure).contains("198.18.3.3", "did not reach the outbound listener");
                String ready = SidecarProcess.http(pod, 4191, "GET", "/ready");
                assertThat(ready).startsWith("HTTP/1.1 503").contains("did not reach the outbound listener");
                assertThat(lab.exec(pod, "iptables-save", "-t", "nat")).doesNotContain("PROXY_INIT");
            }
        }
    }

    @Test
    void readyStays503WhenOnlyTheIpv6RedirectIsMissing() throws Exception {
        try (NetnsLab lab = new NetnsLab("slf")) {
            String pod = dualStackPod(lab);
            // An init container that forgot ip6tables: IPv4 rules only. The IPv6 probe dials the
            // neighbour 2001:db8:3::3, which nobody holds, so nothing leaves the namespaces.
            lab.exec(pod, LAUNCHER.toString(), "iptables", "install", "--no-ipv6");

            try (SidecarProcess sidecar = SidecarProcess.start(pod, "--no-iptables", "--ipv6")) {
                String failure = sidecar.await(l -> l.contains("redirect self-test:") && l.contains(NEIGHBOUR6), 20);

                assertThat(sidecar.log()).contains("redirect self-test passed: a connection to /198.18.3.3:9");
                assertThat(failure).contains("did not reach the outbound listener");
                String ready = SidecarProcess.http(pod, 4191, "GET", "/ready");
                assertThat(ready).startsWith("HTTP/1.1 503").contains(NEIGHBOUR6);
            }
        }
    }

    @Test
    void aPodWithLoneAddressesProbesThroughItsDefaultGateways() throws Exception {
        try (NetnsLab lab = new NetnsLab("slf")) {
            String pod = lab.namespace("pod");
            String peer = lab.namespace("peer");
            // As many CNI plugins set pods up: a /32 and a /128, and default routes through gateways
            // on the link (the IPv6 one link-local). The IPv4 probe dials the gateway; the IPv6 one
            // dials 2001:db8:ffff::1 through the default route. Nobody holds either, so if the
            // redirect failed the SYNs would find no one; with it working they never leave the pod.
            String[] veth = lab.link(pod, "198.18.4.1/32", peer, "198.18.4.254/32");
            lab.address(pod, veth[0], "2001:db8:4::1/128");
            lab.exec(pod, "ip", "route", "add", "198.18.4.2", "dev", veth[0]);
            lab.exec(pod, "ip", "route", "add", "default", "via", "198.18.4.2", "dev", veth[0]);
            lab.exec(pod, "ip", "-6", "route", "add", "default", "via", "fe80::2", "dev", veth[0]);

            try (SidecarProcess sidecar = SidecarProcess.start(pod, "--ipv6")) {
                sidecar.await(l -> l.contains("redirect self-test passed") && l.contains("2001:db8:ffff:0:0:0:0:1"), 20);

                assertThat(sidecar.log()).contains("redirect self-test passed: a connection to /198.18.4.2:9");
                assertThat(SidecarProcess.http(pod, 4191, "GET", "/ready")).startsWith("HTTP/1.1 200");
            }
        }
    }

    @Test
    void bothFamiliesPassWhenBothRedirectsWork() throws Exception {
        try (NetnsLab lab = new NetnsLab("slf")) {
            String pod = dualStackPod(lab);

            try (SidecarProcess sidecar = SidecarProcess.start(pod, "--ipv6")) {
                sidecar.await(l -> l.contains("redirect self-test passed") && l.contains(NEIGHBOUR6), 20);

                assertThat(sidecar.log()).contains("redirect self-test passed: a connection to /198.18.3.3:9");
                assertThat(SidecarProcess.http(pod, 4191, "GET", "/ready")).startsWith("HTTP/1.1 200");
            }
        }
    }

    /** A pod namespace with 198.18.3.1/24 and 2001:db8:3::1/64 on a veth to a peer holding ::2 and .2. */
    private static String dualStackPod(NetnsLab lab) {
        String pod = lab.namespace("pod");
        String peer = lab.namespace("peer");
        String[] veth = lab.link(pod, "198.18.3.1/24", peer, "198.18.3.2/24");
        lab.address(pod, veth[0], "2001:db8:3::1/64");
        lab.address(peer, veth[1], "2001:db8:3::2/64");
        return pod;
    }
}
