package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One table of one family (nat, or mangle in tproxy mode) as iptables-save printed it: every chain in save order with its rule
 * specs (the text after {@code -A <chain> }), counters dropped. Built by {@link SaveParser}.
 */
public final class NatState {
    private final Map<String, List<String>> chains;

    NatState(Map<String, List<String>> chains) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        chains.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        this.chains = Collections.unmodifiableMap(copy);
    }

    /** A table with no chains at all, as in a namespace where nothing was ever installed. */
    public static NatState empty() {
        return new NatState(Map.of());
    }

    /** The state a table would be in holding exactly these rules (built-in chains plus the rules' chains). */
    public static NatState of(List<Rule> rules) {
        Map<String, List<String>> chains = new LinkedHashMap<>();
        for (String builtin : List.of("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")) {
            chains.put(builtin, new ArrayList<>());
        }
        for (Rule r : rules) {
            chains.computeIfAbsent(r.chain(), k -> new ArrayList<>()).add(r.spec());
        }
        return new NatState(chains);
    }

    public boolean hasChain(String chain) {
        return chains.containsKey(chain);
    }

    /** Chain names in save order. */
    public List<String> chainNames() {
        return List.copyOf(chains.keySet());
    }

    /** Rule specs of a chain in order; empty when the chain does not exist. */
    public List<String> rules(String chain) {
        return chains.getOrDefault(chain, List.of());
    }

    /**
     * Every rule, in any chain except {@code target} itself, that jumps ({@code -j}) or goes
     * ({@code -g}) to {@code target}: the references that keep a chain from being deleted.
     */
    public List<SavedRule> jumpsTo(String target) {
        List<SavedRule> out = new ArrayList<>();
        chains.forEach((chain, specs) -> {
            if (!chain.equals(target)) {
                for (String spec : specs) {
                    if (references(spec, "-j " + target) || references(spec, "-g " + target)) {
                        out.add(new SavedRule(chain, spec));
                    }
                }
            }
        });
        return out;
    }

    private static boolean references(String spec, String jump) {
        return spec.equals(jump) || spec.endsWith(" " + jump) || spec.contains(" " + jump + " ") || spec.startsWith(jump + " ");
    }

    /** Whether any of our nat chains or any jump to them exists. */
    public boolean hasAnyOfOurs() {
        return hasAnyOf(Chains.OURS);
    }

    /** Whether any of {@code chains} or any jump to them exists. */
    public boolean hasAnyOf(List<String> chains) {
        return chains.stream().anyMatch(c -> hasChain(c) || !jumpsTo(c).isEmpty());
    }

    /** A rule as saved: its chain and spec. */
    public record SavedRule(String chain, String spec) {
        public String line() {
            return "-A " + chain + " " + spec;
        }
    }
}
