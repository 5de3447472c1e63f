package dev.sidecar.iptables;

/**
 * How inbound connections reach the proxy. {@link #REDIRECT} rewrites their destination (nat
 * REDIRECT; the proxy reads the original one back with SO_ORIGINAL_DST and connects to the app
 * from the pod's own address). {@link #TPROXY} leaves the packets alone and hands them to a
 * transparent listener (mangle TPROXY plus policy routing); the proxy connects to the app from the
 * client's own address, so the app sees who called it.
 */
public enum InboundMode {
    REDIRECT("redirect"),
    TPROXY("tproxy");

    private final String label;

    InboundMode(String label) {
        this.label = label;
    }

    /** The word on the command line: {@code redirect} or {@code tproxy}. */
    public String label() {
        return label;
    }

    /**
     * Parses {@code redirect} or {@code tproxy} (any case, surrounding blanks ignored).
     *
     * @throws InvalidConfigException naming the option and the offending text
     */
    public static InboundMode parse(String text) {
        String word = InputText.word(text);
        for (InboundMode m : values()) {
            if (m.label.equals(word)) {
                return m;
            }
        }
        throw new InvalidConfigException("inbound-mode", text, "must be redirect or tproxy");
    }

    @Override
    public String toString() {
        return label;
    }
}
