package dev.sidecar.iptables;

/** An address family, and the iptables binaries that manage its tables. */
public enum IpFamily {
    IPV4("iptables", "v4", 32),
    IPV6("ip6tables", "v6", 128);

    private final String binaryPrefix;
    private final String shortName;
    private final int bits;

    IpFamily(String binaryPrefix, String shortName, int bits) {
        this.binaryPrefix = binaryPrefix;
        this.shortName = shortName;
        this.bits = bits;
    }

    /** {@code iptables} or {@code ip6tables}; variants append {@code -nft-save} and the like. */
    public String binaryPrefix() {
        return binaryPrefix;
    }

    /** {@code v4} or {@code v6}, as used in golden file names and JSON. */
    public String shortName() {
        return shortName;
    }

    /** Address length in bits: the largest prefix length. */
    public int bits() {
        return bits;
    }

    /** {@code IPv4} or {@code IPv6}, for messages. */
    public String label() {
        return this == IPV4 ? "IPv4" : "IPv6";
    }
}
