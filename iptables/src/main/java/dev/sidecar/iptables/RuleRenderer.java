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

    /** What install would apply to a table without any of our rules: the plan as such. */
    public static String install(RedirectPlan plan, IpFamily family) {
        return install(plan.rules(family), NatState.empty());
    }

    /** What install applies to a table in {@code current} state so that it ends up holding exactly {@code rules}. */
    public static String install(List<Rule> rules, NatState current) {
        List<String> lines = new ArrayList<>();
        lines.add("*" + Chains.TABLE);
        for (String chain : Chains.OURS) {
            lines.add(":" + chain + " - [0:0]");
        }
        List<String> keptJumps = new ArrayList<>();
        for (String chain : Chains.OURS) {
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
        lines.add("COMMIT");
        return String.join("\n", lines) + "\n";
    }

    /**
     * What remove applies to a table in {@code current} state: delete every jump to our chains (in
     * any chain, or the chains could not be deleted), then flush and delete the chains. Empty when
     * there is nothing of ours, so remove is a no-op that succeeds.
     */
    public static Optional<String> remove(NatState current) {
        if (!current.hasAnyOfOurs()) {
            return Optional.empty();
        }
        List<String> lines = new ArrayList<>();
        lines.add("*" + Chains.TABLE);
        for (String chain : Chains.OURS) {
            for (NatState.SavedRule saved : current.jumpsTo(chain)) {
                lines.add("-D " + saved.chain() + " " + saved.spec());
            }
        }
        for (String chain : Chains.OURS) {
            if (current.hasChain(chain)) {
                lines.add("-F " + chain);
            }
        }
        for (String chain : Chains.OURS) {
            if (current.hasChain(chain)) {
                lines.add("-X " + chain);
            }
        }
        lines.add("COMMIT");
        return Optional.of(String.join("\n", lines) + "\n");
    }

    private static Rule jumpTo(List<Rule> rules, String chain) {
        return rules.stream().filter(r -> r.target().equals(chain)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("plan has no jump to " + chain));
    }
}
