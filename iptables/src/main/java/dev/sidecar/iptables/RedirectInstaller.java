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

    private final IptablesBackend backend;

    public RedirectInstaller(IptablesBackend backend) {
        this.backend = backend;
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
        return new RedirectInstaller(read.getOrDefault(d.variant(), new ProcessIptablesBackend(d.variant())));
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
        Map<IpFamily, NatState> before = new LinkedHashMap<>();
        Map<IpFamily, String> texts = new LinkedHashMap<>();
        for (IpFamily family : plan.families()) {
            before.put(family, read(family));
            texts.put(family, RuleRenderer.install(plan.rules(family), before.get(family)));
        }
        List<IpFamily> applied = new ArrayList<>();
        for (Map.Entry<IpFamily, String> e : texts.entrySet()) {
            IpFamily family = e.getKey();
            log.info("{}: installing redirect ({} rules) with iptables-{}", family.label(), plan.rules(family).size(), backend.variant());
            try {
                backend.restore(family, e.getValue());
            } catch (RuntimeException failure) {
                undo(applied, before, family, failure);
                throw failure;
            }
            applied.add(family);
        }
    }

    /** Puts each family in {@code applied} back to its {@code before} state, last applied first. */
    private void undo(List<IpFamily> applied, Map<IpFamily, NatState> before, IpFamily failed, RuntimeException failure) {
        for (int i = applied.size() - 1; i >= 0; i--) {
            IpFamily family = applied.get(i);
            try {
                // Read again: the undo is computed against what the table holds now, not what we think it holds.
                RuleRenderer.revert(before.get(family), read(family)).ifPresent(text -> backend.restore(family, text));
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
        Map<IpFamily, Optional<String>> texts = new LinkedHashMap<>();
        for (IpFamily family : config.families()) {
            texts.put(family, RuleRenderer.remove(read(family)));
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
        return removed;
    }

    /** Compares each family's nat table with the plan; changes nothing. */
    public CheckResult check(RedirectConfig config) {
        RedirectPlan plan = RedirectPlan.of(config);
        Map<IpFamily, Drift> drifts = new LinkedHashMap<>();
        for (IpFamily family : plan.families()) {
            drifts.put(family, Drift.between(plan, family, read(family)));
        }
        return new CheckResult(drifts);
    }

    private NatState read(IpFamily family) {
        String saved = backend.save(family);
        log.debug("{}: nat table before:\n{}", family.label(), saved.stripTrailing());
        return SaveParser.parse(saved);
    }

    /** The outcome of {@link #check}: one {@link Drift} per family. */
    public record CheckResult(Map<IpFamily, Drift> drifts) {
        public CheckResult {
            drifts = Map.copyOf(drifts);
        }

        public boolean isClean() {
            return drifts.values().stream().allMatch(Drift::isClean);
        }

        /** One block per family, IPv4 first. */
        public String describe() {
            List<String> parts = new ArrayList<>();
            for (IpFamily f : IpFamily.values()) {
                if (drifts.containsKey(f)) {
                    parts.add(drifts.get(f).describe());
                }
            }
            return String.join("\n", parts);
        }
    }
}
