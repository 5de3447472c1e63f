package dev.sidecar.iptables;

import java.util.EnumMap;
import java.util.Map;

/**
 * A backend that answers the first {@link #save} of a family from the {@link #saveAll} dump it
 * made of that family moments before, and reads afresh after that. {@link RedirectInstaller#create}
 * detects the variant through these, so the installer's read of the nat table reuses what the
 * detection just read instead of starting one more iptables-save process per family (on every
 * start-up, where each process costs a few milliseconds from the JVM).
 *
 * <p>The two dumps tell the installer the same thing: {@link SaveParser} looks only at the nat
 * section, and a dump without one is an empty nat table, which is what {@code save -t nat} shows
 * for a table that does not exist yet. A {@link #restore} drops the snapshots, since it changes
 * the tables.
 */
final class SnapshotIptablesBackend implements IptablesBackend {
    private final IptablesBackend delegate;
    private final Map<IpFamily, String> snapshots = new EnumMap<>(IpFamily.class);

    SnapshotIptablesBackend(IptablesBackend delegate) {
        this.delegate = delegate;
    }

    @Override
    public Variant variant() {
        return delegate.variant();
    }

    @Override
    public synchronized String save(IpFamily family) {
        String snapshot = snapshots.remove(family);
        return snapshot != null ? snapshot : delegate.save(family);
    }

    @Override
    public synchronized String save(IpFamily family, String table) {
        return table.equals(Chains.TABLE) ? save(family) : delegate.save(family, table);
    }

    @Override
    public synchronized String saveAll(IpFamily family) {
        String dump = delegate.saveAll(family);
        snapshots.put(family, dump);
        return dump;
    }

    @Override
    public synchronized void restore(IpFamily family, String restoreText) {
        snapshots.clear();
        delegate.restore(family, restoreText);
    }
}
