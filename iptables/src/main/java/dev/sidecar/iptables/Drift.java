package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * How an installed nat table differs from the plan, for one family: planned rules that are
 * missing, rules in our chains or jumps to them that the plan does not have (duplicates included),
 * and problems that are neither (a missing chain, rules out of order). Rules that belong to others
 * are never drift. Lines are spelled as iptables-save prints them.
 */
public record Drift(IpFamily family, List<String> missing, List<String> extra, List<String> problems, String table) {

    public Drift {
        missing = List.copyOf(missing);
        extra = List.copyOf(extra);
        problems = List.copyOf(problems);
    }

    /** A drift of the nat table. */
    public Drift(IpFamily family, List<String> missing, List<String> extra, List<String> problems) {
        this(family, missing, extra, problems, Chains.TABLE);
    }

    /** Compares what {@code plan} wants for {@code family} with what {@code state} (its nat table) holds. */
    public static Drift between(RedirectPlan plan, IpFamily family, NatState state) {
        return between(plan, family, Chains.TABLE, state);
    }

    /**
     * Compares what {@code plan} wants in {@code table} for {@code family} with what {@code state}
     * holds. Our chains of that table that the plan does not use (left by the other inbound mode)
     * are extra, with the jumps to them.
     */
    public static Drift between(RedirectPlan plan, IpFamily family, String table, NatState state) {
        List<String> missing = new ArrayList<>();
        List<String> extra = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<Rule> planned = plan.tableRules(family, table);
        for (String chain : Chains.ours(table)) {
            if (planned.stream().noneMatch(r -> r.target().equals(chain))) {
                state.rules(chain).forEach(s -> extra.add("-A " + chain + " " + s));
                state.jumpsTo(chain).forEach(j -> extra.add(j.line()));
                if (state.hasChain(chain)) {
                    problems.add("chain " + chain + " is not part of the plan");
                }
                continue;
            }
            List<String> want = plan.rules(family, table, chain).stream().map(Rule::spec).toList();
            if (!state.hasChain(chain)) {
                problems.add("chain " + chain + " does not exist");
            }
            List<String> have = state.rules(chain);
            List<String> lost = minus(want, have);
            List<String> added = minus(have, want);
            lost.forEach(s -> missing.add("-A " + chain + " " + s));
            added.forEach(s -> extra.add("-A " + chain + " " + s));
            if (lost.isEmpty() && added.isEmpty() && !want.equals(have)) {
                problems.add("rules of " + chain + " are out of order");
            }

            Rule jump = plan.rules(family, table, Chains.parentOf(chain)).stream()
                    .filter(r -> r.target().equals(chain)).findFirst().orElseThrow();
            boolean seen = false;
            for (NatState.SavedRule saved : state.jumpsTo(chain)) {
                if (!seen && saved.chain().equals(jump.chain()) && saved.spec().equals(jump.spec())) {
                    seen = true;
                } else {
                    extra.add(saved.line());
                }
            }
            if (!seen) {
                missing.add(jump.appendLine());
            }
        }
        return new Drift(family, missing, extra, problems, table);
    }

    /** Whether the table holds exactly the plan. */
    public boolean isClean() {
        return missing.isEmpty() && extra.isEmpty() && problems.isEmpty();
    }

    /** A readable diff: {@code -} for planned but missing, {@code +} for present but not planned. */
    public String describe() {
        if (isClean()) {
            return family.label() + ": " + table + " table matches the plan";
        }
        StringBuilder sb = new StringBuilder(family.label()).append(": ").append(table).append(" table differs from the plan\n");
        problems.forEach(p -> sb.append("  ! ").append(p).append('\n'));
        missing.forEach(m -> sb.append("  - ").append(m).append('\n'));
        extra.forEach(e -> sb.append("  + ").append(e).append('\n'));
        return sb.toString().stripTrailing();
    }

    // Multiset difference, in the order of the first list.
    private static List<String> minus(List<String> a, List<String> b) {
        List<String> rest = new ArrayList<>(b);
        List<String> out = new ArrayList<>();
        for (String s : a) {
            if (!rest.remove(s)) {
                out.add(s);
            }
        }
        return out;
    }
}
