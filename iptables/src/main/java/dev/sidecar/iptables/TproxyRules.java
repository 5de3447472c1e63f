package dev.sidecar.iptables;

import java.util.List;

/**
 * The mangle rules of tproxy mode ({@link InboundMode#TPROXY}), appended to a plan after the nat
 * outbound chain. Three jobs:
 * <ol>
 *   <li>{@link Chains#TPROXY} (from PREROUTING) hands each new inbound TCP connection to the
 *       transparent listener with {@code TPROXY}, untouched: the accepted socket's local address
 *       is the original destination. The packet is marked {@link RouteStep#MARK}, and the policy
 *       routing ({@link RouteStep}) delivers marked packets locally.
 *   <li>{@link Chains#TPROXY_OUTPUT} (from OUTPUT) marks the proxy's connections to the app: they
 *       are the proxy's (uid) packets from an address that is not the pod's (the proxy binds them
 *       to the client's address) to one that is. The destination test keeps out the handshake
 *       answers of accepted connections addressed to a foreign host (their source is that host):
 *       marked, they would be routed back into the pod and the guard could never refuse them.
 *       The mark is kept on the connection (CONNMARK).
 *   <li>The app's replies belong to such a connection and are addressed to the client: the same
 *       chain copies the connection's mark onto them, so they take the marked route back to the
 *       proxy over loopback instead of leaving the pod.
 * </ol>
 */
final class TproxyRules {
    private TproxyRules() {}

    static void add(List<Rule> out, RedirectConfig c, IpFamily family) {
        String m = Chains.MANGLE;
        String mark = RouteStep.MARK;
        out.add(new Rule(m, Chains.PREROUTING, "", Chains.INSTALL_TPROXY_PREROUTING, Chains.TPROXY));
        // The proxy's SYN to the app and the app's rerouted replies enter PREROUTING on lo: they
        // must reach their sockets, not the listener again.
        out.add(new Rule(m, Chains.TPROXY, "-i lo", Chains.IGNORE_LOOPBACK, "RETURN"));
        // Exclusions before the TPROXY rule, as in the redirect chain: the first RETURN wins.
        RedirectPlan.ignorePorts(out, m, Chains.TPROXY, c.skipInboundPorts());
        for (Cidr subnet : RedirectPlan.onlyFamily(c.skipInboundSubnets(), family)) {
            out.add(new Rule(m, Chains.TPROXY, "-s " + subnet, Chains.IGNORE_SUBNET, "RETURN"));
        }
        // Packets for a transparent socket (the proxy's accepted connections, their handshake
        // included) keep the mark, so they are delivered locally even when addressed to a foreign
        // host: the proxy then sees that host and its guard refuses the connection.
        out.add(new Rule(m, Chains.TPROXY, "-p tcp -m socket --transparent", Chains.MARK_TRANSPARENT_SOCKET,
                "MARK --set-xmark " + mark + "/0xffffffff"));
        // Packets of connections that already have a socket (replies to outbound connections,
        // the rest of an accepted connection) go to it by ordinary routing; TPROXY would drop a
        // packet whose socket is not transparent.
        out.add(new Rule(m, Chains.TPROXY, "-p tcp -m conntrack --ctstate RELATED,ESTABLISHED", Chains.IGNORE_ESTABLISHED, "RETURN"));
        String onIp = family == IpFamily.IPV4 ? "0.0.0.0" : "::";
        String toListener = "TPROXY --on-port " + c.inboundPort() + " --on-ip " + onIp + " --tproxy-mark " + mark + "/0xffffffff";
        if (c.redirectInboundPorts().isEmpty()) {
            out.add(new Rule(m, Chains.TPROXY, "-p tcp", Chains.TPROXY_ALL, toListener));
        } else {
            for (PortRange port : c.redirectInboundPorts()) {
                out.add(new Rule(m, Chains.TPROXY, "-p tcp -m tcp --dport " + port.iptablesSpelling(), Chains.TPROXY_PORT, toListener));
            }
        }

        out.add(new Rule(m, Chains.OUTPUT, "", Chains.INSTALL_TPROXY_OUTPUT, Chains.TPROXY_OUTPUT));
        out.add(new Rule(m, Chains.TPROXY_OUTPUT, "-p tcp -m owner --uid-owner " + c.proxyUid() + " -m addrtype ! --src-type LOCAL --dst-type LOCAL",
                Chains.MARK_PROXY_UPSTREAM, "CONNMARK --set-xmark " + mark + "/0xffffffff"));
        out.add(new Rule(m, Chains.TPROXY_OUTPUT, "-p tcp -m connmark --mark " + mark, Chains.RESTORE_MARK,
                "MARK --set-xmark " + mark + "/0xffffffff"));
    }
}
