package dev.sidecar.iptables;

/**
 * The operating system side of the redirect: read a family's tables and apply restore text. The
 * only way anything in this module touches the kernel; tests substitute a recording fake.
 */
public interface IptablesBackend {

    /** The implementation this backend drives. */
    Variant variant();

    /** The nat table of {@code family}, as {@code iptables-save -t nat} prints it. */
    String save(IpFamily family);

    /** One table of {@code family}, as {@code iptables-save -t <table>} prints it (tproxy mode reads mangle). */
    default String save(IpFamily family, String table) {
        if (table.equals(Chains.TABLE)) {
            return save(family);
        }
        throw new UnsupportedOperationException("this backend reads only the nat table");
    }

    /**
     * Every table that already exists for {@code family}, as {@code iptables-save} without
     * {@code -t} prints it. Unlike {@link #save}, this never instantiates a table, so detection
     * can look without changing anything.
     */
    String saveAll(IpFamily family);

    /** Applies {@code restoreText} as one {@code iptables-restore --noflush} transaction. */
    void restore(IpFamily family, String restoreText);
}
