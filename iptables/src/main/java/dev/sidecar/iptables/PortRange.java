package dev.sidecar.iptables;

import java.util.List;

/**
 * A TCP port or an inclusive range of ports, 1 to 65535. Written {@code 443} or {@code 6000-6010}
 * on input; iptables spells a range {@code 6000:6010}.
 */
public record PortRange(int low, int high) {
    public static final int MIN = 1;
    public static final int MAX = 65535;

    public PortRange {
        if (low < MIN || high > MAX || low > high) {
            throw InvalidConfigException.ofValue(low == high ? Integer.toString(low) : low + "-" + high,
                    "ports must be within " + MIN + "-" + MAX + " and a range must not run backwards");
        }
    }

    /** A single port. */
    public static PortRange of(int port) {
        return new PortRange(checkPort(Integer.toString(port)), port);
    }

    /** Parses {@code 443} or {@code 6000-6010}. */
    public static PortRange parse(String text) {
        String s = InputText.trim(text);
        int dash = s.indexOf('-', 1);
        if (dash < 0) {
            int port = checkPort(s);
            return new PortRange(port, port);
        }
        int low;
        int high;
        try {
            low = checkPort(s.substring(0, dash));
            high = checkPort(s.substring(dash + 1));
        } catch (InvalidConfigException e) {
            // Quote the whole entry, not the half that failed.
            throw InvalidConfigException.ofValue(text, e.reason());
        }
        if (low > high) {
            throw InvalidConfigException.ofValue(s, "range runs backwards (" + low + " > " + high + ")");
        }
        return new PortRange(low, high);
    }

    /** Parses a comma-separated list such as {@code 25,443,6000-6010}; blank means no ports. */
    public static List<PortRange> parseList(String text) {
        return CommaList.parse(text, PortRange::parse);
    }

    /**
     * Parses one port number, 1 to 65535: ASCII digits only ({@link Integer#parseInt} would also
     * take other scripts' digits), surrounding spaces and tabs dropped. Every port option uses it.
     */
    public static int checkPort(String text) {
        String s = InputText.trim(text);
        if (!s.matches("[0-9]{1,5}")) {
            throw InvalidConfigException.ofValue(text, "not a port number (expected 1-65535)");
        }
        int port = Integer.parseInt(s);
        if (port < MIN || port > MAX) {
            throw InvalidConfigException.ofValue(text, "port out of range (expected 1-65535)");
        }
        return port;
    }

    /** Whether {@code port} lies in this range (bounds included). */
    public boolean contains(int port) {
        return low <= port && port <= high;
    }

    public boolean isSinglePort() {
        return low == high;
    }

    /**
     * Slots this entry takes in a multiport match: iptables allows 15 per rule and a range counts
     * as two.
     */
    public int multiportSlots() {
        return isSinglePort() ? 1 : 2;
    }

    /** As iptables writes it: {@code 443} or {@code 6000:6010}. */
    public String iptablesSpelling() {
        return isSinglePort() ? Integer.toString(low) : low + ":" + high;
    }

    /** As users write it: {@code 443} or {@code 6000-6010}. */
    @Override
    public String toString() {
        return isSinglePort() ? Integer.toString(low) : low + "-" + high;
    }
}
