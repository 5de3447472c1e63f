package dev.sidecar.iptables;

/**
 * One rule of the plan, a plain value: the chain it is appended to, its matches, its comment slug
 * and its target. {@link #spec()} is spelled exactly as iptables-save prints the rule back (matches,
 * then the comment, then the target), so planned and saved rules compare as strings.
 *
 * @param table   the table, {@code nat} or {@code mangle}
 * @param chain   the chain, e.g. {@code PROXY_INIT_OUTPUT}
 * @param matches match options, e.g. {@code -o lo}; empty for none
 * @param slug    comment slug from {@link Chains}; rendered as {@code proxy-init/<slug>}
 * @param target  target and its options, e.g. {@code REDIRECT --to-ports 4140}
 */
public record Rule(String table, String chain, String matches, String slug, String target) {

    /** A rule of the nat table. */
    public Rule(String chain, String matches, String slug, String target) {
        this(Chains.TABLE, chain, matches, slug, target);
    }

    /** Everything after {@code -A <chain> }. */
    public String spec() {
        String comment = "-m comment --comment \"" + Chains.COMMENT_PREFIX + slug + "\" -j " + target;
        return matches.isEmpty() ? comment : matches + " " + comment;
    }

    /** The iptables-restore line that appends this rule. */
    public String appendLine() {
        return "-A " + chain + " " + spec();
    }

    /** Whether this rule is a jump from a built-in chain into one of ours. */
    public boolean isJump() {
        return Chains.isOurs(target);
    }
}
