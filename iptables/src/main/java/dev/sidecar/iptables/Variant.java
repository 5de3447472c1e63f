package dev.sidecar.iptables;

import java.util.Locale;

/** A concrete iptables implementation: the nf_tables-based one or the legacy x_tables one. */
public enum Variant {
    NFT,
    LEGACY;

    /** The binary for a family and tool, e.g. {@code ip6tables-legacy-restore}. */
    public String binary(IpFamily family, String tool) {
        return family.binaryPrefix() + "-" + this.toString() + "-" + tool;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
