package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs, removes and checks the redirect: for each family, read the nat table (save), compute
 * the change from the plan, apply it as one {@code iptables-restore --noflush} transaction.
 *
 * <p>Idempotent and crash-safe by construction: our chains are rewritten whole and jumps are
 * reconciled against what the save showed, so any earlier state (nothing, half a run, an older
 * config, duplicates) converges to exactly the plan. A failed transaction leaves that family's
 * table as it was. The IPv4 and IPv6 tables are separate kernel objects, so each family is its own
 * transaction; all families are read and rendered before the first is changed. Install is
 * all-or-nothing across families: when the IPv6 transaction is rejected after IPv4 was applied,
 * IPv4's part of the table is put back as it was before (see {@link RuleRenderer#revert}) and the
 * rejection is rethrown.
 */
public final class RedirectInstaller {
    private static final Logger log = LoggerFactory.getLogger(RedirectInstaller.class);

    /** What a rejected tproxy install most likely lacks. */
    static final String TPROXY_HINT = "nothing was left installed; tproxy mode needs the kernel's TPROXY target and socket,"
            + " conntrack, connmark, mark and addrtype matches (modprobe xt_TPROXY xt_socket xt_conntrack xt_connmark xt_mark"
            + " xt_addrtype), or use --inbound-mode redirect";

    private final IptablesBackend backend;
    private final PolicyRouting routing;

    /** An installer with no policy routing: enough for redirect mode; tproxy mode fails before changing anything. */
    public RedirectInstaller(IptablesBackend backend) {
        this(backend, IpRoutes.NONE);
    }

    /** An installer that adds tproxy mode's policy routing through {@code ip}. */
    public RedirectInstaller(IptablesBackend backend, IpRoutes ip) {
        this.backend = backend;
        this.routing = new PolicyRouting(ip);
    }

    /**
     * An installer on the real binaries. {@link Backend#AUTO} detects the variant now (reading
     * both; writing nothing) for IPv4 and IPv6 tables, and logs the choice and the reason.
     */
    public static RedirectInstaller create(Backend backend) {
        List<IpFamily> families = RedirectConfig.namespaceHasIpv6() ? List.of(IpFamily.IPV4, IpFamily.IPV6) : List.of(IpFamily.IPV4);
        // The detection's reads of the chosen variant stand in for the installer's first read.
        Map<Variant, IptablesBackend> read = new EnumMap<>(Variant.class);
        BackendDetector.Detection d = new BackendDetector(
                v -> read.computeIfAbsent(v, x -> new SnapshotIptablesBackend(new ProcessIptablesBackend(x))))
                .resolve(backend, families);
        return new RedirectInstaller(read.getOrDefault(d.variant(), new ProcessIptablesBackend(d.variant())), new ProcessIpRoutes());
    }

    /** The variant this installer drives. */
    public Variant variant() {
        return backend.variant();
    }

    /**
     * Makes each family's nat table hold exactly the plan for {@code config}. Every family is read
     * and rendered before any is changed, so a family that cannot even be read changes nothing.
     * When applying a family fails, the families applied before it are put back as they were read
     * (in reverse order) and the failure is rethrown; an undo that fails itself is attached to it
     * as suppressed.
     */
    public void install(RedirectConfig config) {
        RedirectPlan plan = RedirectPlan.of(config);
        Map<IpFamily, Map<String, NatState>> before = new LinkedHashMap<>();
        Map<IpFamily, String> texts = new LinkedHashMap<>();
        for (IpFamily family : plan.families()) {
            Map<String, NatState> tables = new LinkedHashMap<>();
            StringBuilder text = new StringBuilder();
            for (String table : plan.tables()) {
                tables.put(table, read(family, table));
                text.append(RuleRenderer.install(table, plan.tableRules(family, table), tables.get(table)));
            }
            before.put(family, tables);
            texts.put(family, text.toString());
        }
        boolean tproxy = plan.tables().size() > 1;
        // The routes first: a TPROXY rule whose marked packets have no route would drop them.
        List<RouteStep> added = tproxy
                ? routing.add(plan.families().stream().flatMap(f -> plan.routing(f).stream()).toList())
                : List.of();
        List<IpFamily> applied = new ArrayList<>();
        for (Map.Entry<IpFamily, String> e : texts.entrySet()) {
            IpFamily family = e.getKey();
            log.info("{}: installing redirect ({} rules) with iptables-{}", family.label(), plan.rules(family).size(), backend.variant());
            try {
                backend.restore(family, e.getValue());
            } catch (RuntimeException failure) {
                if (tproxy) {
                    // One restore input with two tables may have committed the first before rejecting the second.
                    applied.add(family);
                }
                undo(applied, before, family, failure);
                routing.undo(added, failure);
                if (tproxy && failure instanceof IptablesCommandException rejected) {
                    throw rejected.withHint(TPROXY_HINT);
                }
                throw failure;
            }
            applied.add(family);
        }
    }

    /** Puts each family in {@code applied} back to its {@code before} state, last applied first. */
    private void undo(List<IpFamily> applied, Map<IpFamily, Map<String, NatState>> before, IpFamily failed,
            RuntimeException failure) {
        for (int i = applied.size() - 1; i >= 0; i--) {
            IpFamily family = applied.get(i);
            try {
                // Read again: the undo is computed against what the table holds now, not what we think it holds.
                StringBuilder text = new StringBuilder();
                for (Map.Entry<String, NatState> t : before.get(family).entrySet()) {
                    RuleRenderer.revert(t.getKey(), t.getValue(), read(family, t.getKey())).ifPresent(text::append);
                }
                if (!text.isEmpty()) {
                    backend.restore(family, text.toString());
                }
                log.warn("{}: undid the redirect because {} was rejected", family.label(), failed.label());
            } catch (RuntimeException undoFailure) {
                failure.addSuppressed(undoFailure);
                log.error("{}: could not undo the redirect after {} was rejected ({}); {} may hold a partial redirect:"
                        + " run 'sidecar iptables remove', or fix the cause and run install again",
                        family.label(), failed.label(), undoFailure.getMessage(), family.label());
            }
        }
    }

    /**
     * Deletes our jumps and chains from each family of {@code config}; other rules stay. Succeeds
     * when there is nothing to remove. Returns whether anything was removed.
     */
    public boolean remove(RedirectConfig config) {
        RedirectPlan plan = RedirectPlan.of(config);
        Map<IpFamily, Optional<String>> texts = new LinkedHashMap<>();
        for (IpFamily family : config.families()) {
            StringBuilder text = new StringBuilder();
            for (String table : plan.tables()) {
                RuleRenderer.remove(table, read(family, table)).ifPresent(text::append);
            }
            texts.put(family, text.isEmpty() ? Optional.empty() : Optional.of(text.toString()));
        }
        boolean removed = false;
        for (Map.Entry<IpFamily, Optional<String>> e : texts.entrySet()) {
            if (e.getValue().isEmpty()) {
                log.info("{}: nothing to remove", e.getKey().label());
                continue;
            }
            log.info("{}: removing redirect with iptables-{}", e.getKey().label(), backend.variant());
            backend.restore(e.getKey(), e.getValue().get());
            removed = true;
        }
        // The rules went first, so no marked packet is left without its route in between.
        if (plan.tables().size() > 1) {
            removed |= routing.remove(config.families().stream().flatMap(f -> plan.routing(f).stream()).toList());
        }
        return removed;
    }

    /** Compares each family's nat table with the plan; changes nothing. */
    public CheckResult check(RedirectConfig config) {
        RedirectPlan plan = RedirectPlan.of(config);
        Map<IpFamily, Drift> drifts = new LinkedHashMap<>();
        List<Drift> others = new ArrayList<>();
        List<String> routes = new ArrayList<>();
        for (IpFamily family : plan.families()) {
            drifts.put(family, Drift.between(plan, family, read(family)));
            for (String table : plan.tables().subList(1, plan.tables().size())) {
                others.add(Drift.between(plan, family, table, read(family, table)));
            }
            routes.addAll(routing.problems(plan.routing(family)));
        }
        return new CheckResult(drifts, others, routes);
    }

    private NatState read(IpFamily family, String table) {
        if (table.equals(Chains.TABLE)) {
            return read(family);
        }
        String saved = backend.save(family, table);
        log.debug("{}: {} table before:\n{}", family.label(), table, saved.stripTrailing());
        return SaveParser.parse(saved, table);
    }

    private NatState read(IpFamily family) {
        String saved = backend.save(family);
        log.debug("{}: nat table before:\n{}", family.label(), saved.stripTrailing());
        return SaveParser.parse(saved);
    }

    /**
     * The outcome of {@link #check}: one {@link Drift} of the nat table per family and, in tproxy
     * mode, one of the mangle table per family and a line per missing or duplicated route step.
     */
    public record CheckResult(Map<IpFamily, Drift> drifts, List<Drift> otherTables, List<String> routing) {
        public CheckResult {
            drifts = Map.copyOf(drifts);
            otherTables = List.copyOf(otherTables);
            routing = List.copyOf(routing);
        }

        /** A result of the nat table alone (redirect mode). */
        public CheckResult(Map<IpFamily, Drift> drifts) {
            this(drifts, List.of(), List.of());
        }

        public boolean isClean() {
            return drifts.values().stream().allMatch(Drift::isClean) && otherTables.stream().allMatch(Drift::isClean)
                    && routing.isEmpty();
        }

        /** One block per family, IPv4 first. */
        public String describe() {
            List<String> parts = new ArrayList<>();
            for (IpFamily f : IpFamily.values()) {
                if (drifts.containsKey(f)) {
                    parts.add(drifts.get(f).describe());
                }
                otherTables.stream().filter(d -> d.family() == f).forEach(d -> parts.add(d.describe()));
            }
            routing.forEach(r -> parts.add("routing differs from the plan: " + r));
            return String.join("\n", parts);
        }
    }
}
