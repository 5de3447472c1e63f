package dev.sidecar.iptables;

/** Which iptables implementation to drive: detected ({@link #AUTO}) or named. */
public enum Backend {
    /** Use the variant that already holds rules in this namespace, else nft. See {@link BackendDetector}. */
    AUTO,
    NFT,
    LEGACY;

    /** Parses {@code auto}, {@code nft} or {@code legacy} (any case). */
    public static Backend parse(String text) {
        for (Backend b : values()) {
            if (b.toString().equals(InputText.word(text))) {
                return b;
            }
        }
        throw InvalidConfigException.ofValue(text, "unknown backend (expected auto, nft or legacy)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
