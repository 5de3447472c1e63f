package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Spells a plan as iptables-restore input for {@code --noflush}: pure functions, no I/O.
 *
 * <p>Install declares both chains (which creates them, or flushes them when they exist, so they are
 * rewritten whole), deletes stale or duplicate jumps to them, and appends the planned rules. A jump
 * that is already exactly right is left where it is, so re-running never moves it among other
 * people's rules. Everything else in the table is untouched.
 */
public final class RuleRenderer {
    private RuleRenderer() {}

    /**
     * What install would apply to tables without any of our rules: the plan as such, one section
     * per table of the plan (nat; then mangle in tproxy mode), in one restore input.
     */
    public static String install(RedirectPlan plan, IpFamily family) {
        StringBuilder sb = new StringBuilder();
        for (String table : plan.tables()) {
            sb.append(install(table, plan.tableRules(family, table), NatState.empty()));
        }
        return sb.toString();
    }

    /** What install applies to a nat table in {@code current} state so that it ends up holding exactly {@code rules}. */
    public static String install(List<Rule> rules, NatState current) {
        return install(Chains.TABLE, rules, current);
    }

    /**
     * What install applies to {@code table} in {@code current} state so that our part of it ends up
     * holding exactly {@code rules}: our chains that the rules jump to are declared and refilled,
     * and our chains of that table the rules do not use (left by the other inbound mode) are
     * deleted with the jumps to them.
     */
    public static String install(String table, List<Rule> rules, NatState current) {
        List<String> planned = Chains.ours(table).stream()
                .filter(c -> rules.stream().anyMatch(r -> r.target().equals(c))).toList();
        List<String> stale = Chains.ours(table).stream()
                .filter(c -> !planned.contains(c) && (current.hasChain(c) || !current.jumpsTo(c).isEmpty())).toList();
        List<String> lines = new ArrayList<>();
        lines.add("*" + table);
        for (String chain : planned) {
            lines.add(":" + chain + " - [0:0]");
        }
        for (String chain : stale) {
            current.jumpsTo(chain).stream().filter(j -> !Chains.isOurs(j.chain()))
                    .forEach(j -> lines.add("-D " + j.chain() + " " + j.spec()));
        }
        List<String> keptJumps = new ArrayList<>();
        for (String chain : planned) {
            Rule jump = jumpTo(rules, chain);
            boolean kept = false;
            for (NatState.SavedRule saved : current.jumpsTo(chain)) {
                boolean exact = saved.chain().equals(jump.chain()) && saved.spec().equals(jump.spec());
                if (exact && !kept) {
                    kept = true;
                    keptJumps.add(jump.appendLine());
                } else if (saved.chain().equals(jump.chain())) {
                    // A duplicate or an older spelling of our jump: ours to clean up.
                    lines.add("-D " + saved.chain() + " " + saved.spec());
                }
            }
        }
        for (Rule r : rules) {
            if (!(r.isJump() && keptJumps.contains(r.appendLine()))) {
                lines.add(r.appendLine());
            }
        }
        stale.stream().filter(current::hasChain).forEach(c -> lines.add("-F " + c));
        stale.stream().filter(current::hasChain).forEach(c -> lines.add("-X " + c));
        lines.add("COMMIT");
        return String.join("\n", lines) + "\n";
    }

    /**
     * What remove applies to a table in {@code current} state: delete every jump to our chains (in
     * any chain, or the chains could not be deleted), then flush and delete the chains. Empty when
     * there is nothing of ours, so remove is a no-op that succeeds.
     */
    public static Optional<String> remove(NatState current) {
        return remove(Chains.TABLE, current);
    }

    /** As {@link #remove(NatState)}, for our chains of {@code table}. */
    public static Optional<String> remove(String table, NatState current) {
        List<String> ours = Chains.ours(table);
        if (!current.hasAnyOf(ours)) {
            return Optional.empty();
        }
        List<String> lines = new ArrayList<>();
        lines.add("*" + table);
        for (String chain : ours) {
            for (NatState.SavedRule saved : current.jumpsTo(chain)) {
                lines.add("-D " + saved.chain() + " " + saved.spec());
            }
        }
        for (String chain : ours) {
            if (current.hasChain(chain)) {
                lines.add("-F " + chain);
            }
        }
        for (String chain : ours) {
            if (current.hasChain(chain)) {
                lines.add("-X " + chain);
            }
        }
        lines.add("COMMIT");
        return Optional.of(String.join("\n", lines) + "\n");
    }

    /**
     * What puts our part of a table in {@code current} state back to how it was in {@code before}:
     * iptables-restore input for {@code --noflush} that touches only our chains and the jumps to
     * them. Install uses it to undo a family it already changed when a later family is rejected.
     *
     * <p>When {@code before} held nothing of ours this is {@link #remove}. Otherwise it deletes every
     * jump to our chains that {@code current} holds in a chain that is not ours, rewrites each of our
     * chains that {@code before} had with its old rules (a declaration flushes or creates it),
     * re-inserts the old jumps at their old positions (clamped to what the chain now holds, in case
     * someone else deleted rules meanwhile), and flushes and deletes our chains that {@code before}
     * did not have. Rules that are not ours keep their place. Empty when neither state holds
     * anything of ours.
     */
    public static Optional<String> revert(NatState before, NatState current) {
        return revert(Chains.TABLE, before, current);
    }

    /** As {@link #revert(NatState, NatState)}, for our chains of {@code table}. */
    public static Optional<String> revert(String table, NatState before, NatState current) {
        if (!before.hasAnyOf(Chains.ours(table))) {
            return remove(table, current);
        }
        List<String> ours = Chains.ours(table);
        List<String> lines = new ArrayList<>();
        lines.add("*" + table);
        for (String chain : ours) {
            if (before.hasChain(chain)) {
                lines.add(":" + chain + " - [0:0]");
            }
        }
        // Jumps inside our own chains go with the flush; a -D on them would fail in this transaction.
        for (NatState.SavedRule jump : jumpsFromOtherChains(ours, current)) {
            lines.add("-D " + jump.chain() + " " + jump.spec());
        }
        for (String chain : ours) {
            for (String spec : before.rules(chain)) {
                lines.add("-A " + chain + " " + spec);
            }
        }
        lines.addAll(reinsertedJumps(ours, before, current));
        List<String> extra = ours.stream().filter(c -> current.hasChain(c) && !before.hasChain(c)).toList();
        extra.forEach(c -> lines.add("-F " + c));
        extra.forEach(c -> lines.add("-X " + c));
        lines.add("COMMIT");
        return Optional.of(String.join("\n", lines) + "\n");
    }

    /**
     * The {@code -I} lines that put back {@code before}'s jumps to our chains, chain by chain in
     * ascending position. Once every jump is deleted, inserting at the old 1-based index lands each
     * jump between the same neighbours as before, as long as the other rules are unchanged.
     */
    private static List<String> reinsertedJumps(List<String> ours, NatState before, NatState current) {
        List<String> lines = new ArrayList<>();
        List<NatState.SavedRule> jumps = jumpsFromOtherChains(ours, before);
        List<NatState.SavedRule> deleted = jumpsFromOtherChains(ours, current);
        for (String chain : before.chainNames()) {
            if (!current.hasChain(chain)) {
                continue; // someone deleted the chain; there is nowhere to put the jump back
            }
            // What the chain holds once this transaction has deleted the current jumps.
            long others = current.rules(chain).size() - deleted.stream().filter(j -> j.chain().equals(chain)).count();
            List<String> specs = before.rules(chain);
            int inserted = 0;
            for (int i = 0; i < specs.size(); i++) {
                if (jumps.contains(new NatState.SavedRule(chain, specs.get(i)))) {
                    inserted++;
                    long position = Math.min(i + 1, others + inserted);
                    lines.add("-I " + chain + " " + position + " " + specs.get(i));
                }
            }
        }
        return lines;
    }

    /** Every jump to one of our chains that sits in a chain that is not ours, in save order per target. */
    private static List<NatState.SavedRule> jumpsFromOtherChains(List<String> ours, NatState state) {
        List<NatState.SavedRule> out = new ArrayList<>();
        for (String chain : ours) {
            state.jumpsTo(chain).stream().filter(j -> !ours.contains(j.chain())).forEach(out::add);
        }
        return out;
    }

    private static Rule jumpTo(List<Rule> rules, String chain) {
        return rules.stream().filter(r -> r.target().equals(chain)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("plan has no jump to " + chain));
    }
}
