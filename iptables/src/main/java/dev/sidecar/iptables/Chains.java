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

    /** The table the redirect lives in (all of it in redirect mode; the outbound side in tproxy mode). */
    public static final String TABLE = "nat";
    /** The table of the inbound side in tproxy mode ({@link InboundMode#TPROXY}). */
    public static final String MANGLE = "mangle";

    public static final String PREROUTING = "PREROUTING";
    public static final String OUTPUT = "OUTPUT";
    /** Inbound: jumped to from PREROUTING. */
    public static final String REDIRECT = "PROXY_INIT_REDIRECT";
    /** Outbound: jumped to from OUTPUT. */
    public static final String PROXY_OUTPUT = "PROXY_INIT_OUTPUT";

    /** Inbound in tproxy mode (mangle): jumped to from PREROUTING, hands new connections to the transparent listener. */
    public static final String TPROXY = "PROXY_INIT_TPROXY";
    /** tproxy mode (mangle): jumped to from OUTPUT, marks the proxy's connections to the app and routes the app's replies back. */
    public static final String TPROXY_OUTPUT = "PROXY_INIT_TPROXY_OUTPUT";

    /** Our nat chains, in the order of Linkerd's proxy-init rules. */
    public static final List<String> OURS = List.of(REDIRECT, PROXY_OUTPUT);
    /** Our mangle chains (tproxy mode only). */
    public static final List<String> MANGLE_OURS = List.of(TPROXY, TPROXY_OUTPUT);
    /** The tables we may have chains in, in the order they are rendered. */
    public static final List<String> TABLES = List.of(TABLE, MANGLE);

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
    public static final String INSTALL_TPROXY_PREROUTING = "install-proxy-init-tproxy-prerouting";
    public static final String INSTALL_TPROXY_OUTPUT = "install-proxy-init-tproxy-output";
    public static final String IGNORE_ESTABLISHED = "ignore-established";
    public static final String MARK_TRANSPARENT_SOCKET = "mark-transparent-socket";
    public static final String TPROXY_ALL = "proxy-init-tproxy-all";
    public static final String TPROXY_PORT = "tproxy-port";
    public static final String MARK_PROXY_UPSTREAM = "mark-proxy-upstream";
    public static final String RESTORE_MARK = "restore-mark";

    /** The built-in chain that jumps to one of ours. */
    public static String parentOf(String chain) {
        return switch (chain) {
            case REDIRECT, TPROXY -> PREROUTING;
            case PROXY_OUTPUT, TPROXY_OUTPUT -> OUTPUT;
            default -> throw new IllegalArgumentException("not our chain: " + chain);
        };
    }

    public static boolean isOurs(String chain) {
        return OURS.contains(chain) || MANGLE_OURS.contains(chain);
    }

    /** Our chains in {@code table}, in order. */
    public static List<String> ours(String table) {
        return switch (table) {
            case TABLE -> OURS;
            case MANGLE -> MANGLE_OURS;
            default -> throw new IllegalArgumentException("not our table: " + table);
        };
    }
}
