package dev.sidecar.testkit;

import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.IptablesBackend;
import dev.sidecar.iptables.Variant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * An {@link IptablesBackend} that starts nothing: {@code save} returns a scripted dump per family
 * and every call is recorded in order ({@code "save v4"}, {@code "restore v4"}, with restore texts
 * kept separately). A family can be made to fail, to test error paths, and a restore can change
 * what the next save returns, to test code that reads the table again after changing it.
 */
public final class RecordingIptablesBackend implements IptablesBackend {
    private final Variant variant;
    private final Map<IpFamily, String> dumps = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, Supplier<RuntimeException>> failures = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, Supplier<RuntimeException>> restoreFailures = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, Integer> restoresBeforeFailing = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, String> dumpsAfterRestore = new EnumMap<>(IpFamily.class);
    private final List<String> calls = new ArrayList<>();
    private final List<String> restores = new ArrayList<>();

    public RecordingIptablesBackend() {
        this(Variant.NFT);
    }

    public RecordingIptablesBackend(Variant variant) {
        this.variant = variant;
    }

    /** What {@code save} and {@code saveAll} return for {@code family} from now on. */
    public RecordingIptablesBackend withDump(IpFamily family, String dump) {
        dumps.put(family, dump);
        return this;
    }

    /** Makes every call for {@code family} throw. */
    public RecordingIptablesBackend failing(IpFamily family, Supplier<RuntimeException> failure) {
        failures.put(family, failure);
        return this;
    }

    /** Makes only {@code restore} for {@code family} throw, as when iptables rejects the transaction. */
    public RecordingIptablesBackend rejectingRestore(IpFamily family, Supplier<RuntimeException> failure) {
        restoreFailures.put(family, failure);
        return this;
    }

    /**
     * Lets the first {@code successes} restores of {@code family} succeed and makes every later one
     * throw, e.g. an install that is applied and then an undo that is rejected.
     */
    public RecordingIptablesBackend rejectingRestoreAfter(IpFamily family, int successes, Supplier<RuntimeException> failure) {
        restoresBeforeFailing.put(family, successes);
        return rejectingRestore(family, failure);
    }

    /** What {@code save} returns for {@code family} once a restore of that family has succeeded. */
    public RecordingIptablesBackend withDumpAfterRestore(IpFamily family, String dump) {
        dumpsAfterRestore.put(family, dump);
        return this;
    }

    /** Every call in order, e.g. {@code ["save v4", "restore v4"]}. */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    /** The restore texts, in order. */
    public List<String> restores() {
        return List.copyOf(restores);
    }

    @Override
    public Variant variant() {
        return variant;
    }

    @Override
    public String save(IpFamily family) {
        calls.add("save " + family.shortName());
        failIfAsked(family);
        return dumps.getOrDefault(family, "");
    }

    /** Other tables come from the same dump: one dump may hold a nat and a mangle section. */
    @Override
    public String save(IpFamily family, String table) {
        if (table.equals("nat")) {
            return save(family);
        }
        calls.add("save " + family.shortName() + " " + table);
        failIfAsked(family);
        return dumps.getOrDefault(family, "");
    }

    @Override
    public String saveAll(IpFamily family) {
        calls.add("saveAll " + family.shortName());
        failIfAsked(family);
        return dumps.getOrDefault(family, "");
    }

    @Override
    public void restore(IpFamily family, String restoreText) {
        calls.add("restore " + family.shortName());
        failIfAsked(family);
        Supplier<RuntimeException> rejected = restoreFailures.get(family);
        int successesLeft = restoresBeforeFailing.getOrDefault(family, 0);
        if (rejected != null && successesLeft == 0) {
            throw rejected.get();
        }
        restoresBeforeFailing.computeIfPresent(family, (f, n) -> n - 1);
        restores.add(restoreText);
        String after = dumpsAfterRestore.get(family);
        if (after != null) {
            dumps.put(family, after);
        }
    }

    private void failIfAsked(IpFamily family) {
        Supplier<RuntimeException> f = failures.get(family);
        if (f != null) {
            throw f.get();
        }
    }
}
