package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The restore lines the {@link RulesHelper} will apply for one family: whatever {@link
 * RedirectInstaller#install} can send to put the plan back, and nothing else. That is every line of
 * the plan's own install text (the table header, our chain declarations, the planned rules,
 * {@code COMMIT}), exactly, plus the deletion of a jump to one of our chains from the built-in
 * chain that jumps there (install removes duplicate or stale jumps that way). Pure: the helper gets
 * it as text once, at start, while the JVM is still root; after the drop nothing can widen it.
 *
 * In tproxy mode it also names the {@code ip} commands install (and its undo) may run: adding and
 * deleting each of the plan's {@link RouteStep}s, spelled exactly, and nothing else.
 *
 * <p>So a relay that was taken over can, through the helper, at worst put our rules and routes back
 * or take our own jumps and routes away, which stops the capture it could stop anyway by not relaying.
 *
 * @param family the family the lines are for
 * @param exact lines allowed as they are
 * @param patterns shell patterns ({@code *} only) a line may match instead
 * @param routes argument lines of {@code ip} (e.g. {@code -4 rule add fwmark 0x539 lookup 133}) allowed as they are
 */
public record RestorePolicy(IpFamily family, List<String> exact, List<String> patterns, List<String> routes) {

    public RestorePolicy {
        exact = List.copyOf(exact);
        patterns = List.copyOf(patterns);
        routes = List.copyOf(routes);
    }

    /** A policy of restore lines only, no route step. */
    public RestorePolicy(IpFamily family, List<String> exact, List<String> patterns) {
        this(family, exact, patterns, List.of());
    }

    /** The lines install may apply to {@code family} to reach {@code plan}, and the route steps it may add or delete. */
    public static RestorePolicy of(RedirectPlan plan, IpFamily family) {
        List<String> exact = RuleRenderer.install(plan, family).lines().toList();
        List<String> patterns = new ArrayList<>();
        for (Rule r : plan.rules(family)) {
            if (r.isJump()) {
                patterns.add("-D " + r.chain() + " *-j " + r.target());
                patterns.add("-D " + r.chain() + " *-g " + r.target());
            }
        }
        List<String> routes = new ArrayList<>();
        for (RouteStep step : plan.routing(family)) {
            routes.add(String.join(" ", step.add()));
            routes.add(String.join(" ", step.delete()));
        }
        return new RestorePolicy(family, exact, patterns, routes);
    }

    /** A policy that allows no line at all: the helper may only read (rules owned by someone else). */
    public static RestorePolicy readOnly(IpFamily family) {
        return new RestorePolicy(family, List.of(), List.of());
    }

    /** Whether the helper applies {@code line}; the same test as its shell {@code case}. */
    public boolean allows(String line) {
        return exact.contains(line) || patterns.stream().anyMatch(p -> glob(p).matcher(line).matches());
    }

    /** Whether the helper runs {@code ip args...}; the same test as its shell {@code case}. */
    public boolean allowsRoute(List<String> args) {
        return routes.contains(String.join(" ", args));
    }

    /**
     * The policy as the helper reads it: one {@code FAMILY = LINE}, {@code FAMILY ~ GLOB} or
     * {@code FAMILY ip ARGS} per line.
     */
    public List<String> entries() {
        String f = word(family);
        List<String> out = new ArrayList<>();
        exact.forEach(l -> out.add(f + " = " + l));
        patterns.forEach(p -> out.add(f + " ~ " + p));
        routes.forEach(r -> out.add(f + " ip " + r));
        return out;
    }

    /** {@code ipv4} or {@code ipv6}: how the helper's requests name a family. */
    static String word(IpFamily family) {
        return family.name().toLowerCase(Locale.ROOT);
    }

    private static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        for (String part : pattern.split("\\*", -1)) {
            if (!regex.isEmpty()) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(part));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }
}
