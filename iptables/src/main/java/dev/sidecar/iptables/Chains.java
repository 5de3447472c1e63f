package dev.sidecar.iptables;

import java.util.List;

/**
 * Every chain name and comment slug of the redirect, in one place. The names come from Linkerd's
 * proxy-init rules (<a href="https://linkerd.io/2/reference/iptables/">Linkerd's iptables
 * reference</a>; their code is
 * <a href="https://github.com/linkerd/linkerd2-proxy-init">linkerd2-proxy-init</a>), so operators
 * who know those rules recognise ours; every rule carries the comment {@code proxy-init/<slug>}.
 *
 * <p>Linkerd's proxy-init rules use ten slugs; the ones for options they lack follow the same
 * pattern:
 * {@link #IGNORE_PROXY_GID}, {@link #IGNORE_SUBNET} (proxy-init's own is {@code ignore-subnet-<cidr>};
 * ours stays fixed so a comment never depends on input) and {@link #REDIRECT_PORT}.
 */
public final class Chains {
    private Chains() {}

    /** The table everything lives in. */
    public static final String TABLE = "nat";

    public static final String PREROUTING = "PREROUTING";
    public static final String OUTPUT = "OUTPUT";
    /** Inbound: jumped to from PREROUTING. */
    public static final String REDIRECT = "PROXY_INIT_REDIRECT";
    /** Outbound: jumped to from OUTPUT. */
    public static final String PROXY_OUTPUT = "PROXY_INIT_OUTPUT";

    /** Our chains, in the order of Linkerd's proxy-init rules. */
    public static final List<String> OURS = List.of(REDIRECT, PROXY_OUTPUT);

    public static final String COMMENT_PREFIX = "proxy-init/";

    public static final String INSTALL_PREROUTING = "install-proxy-init-prerouting";
    public static final String INSTALL_OUTPUT = "install-proxy-init-output";
    public static final String IGNORE_PORT = "ignore-port";
    public static final String IGNORE_SUBNET = "ignore-subnet";
    public static final String REDIRECT_PORT = "redirect-port";
    public static final String REDIRECT_ALL = "proxy-init-redirect-all";
    public static final String IGNORE_PROXY_UID = "ignore-proxy-uid";
    public static final String IGNORE_PROXY_GID = "ignore-proxy-gid";
    public static final String IGNORE_LOOPBACK = "ignore-loopback";
    public static final String REDIRECT_ALL_OUTGOING = "redirect-all-outgoing";

    /** The built-in chain that jumps to one of ours. */
    public static String parentOf(String chain) {
        return switch (chain) {
            case REDIRECT -> PREROUTING;
            case PROXY_OUTPUT -> OUTPUT;
            default -> throw new IllegalArgumentException("not our chain: " + chain);
        };
    }

    public static boolean isOurs(String chain) {
        return OURS.contains(chain);
    }
}
