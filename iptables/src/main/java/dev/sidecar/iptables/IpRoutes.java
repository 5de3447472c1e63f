package dev.sidecar.iptables;

import java.util.List;

/**
 * The operating system side of tproxy mode's policy routing: run {@code ip} with some arguments.
 * The only way this module changes routing; tests substitute a recording fake.
 */
public interface IpRoutes {

    /**
     * Runs {@code ip args...} and returns what it printed.
     *
     * @throws IptablesCommandException when it exits non-zero
     */
    String ip(List<String> args);

    /** No routing at all: fails when asked, so an installer built without one can never touch the machine's routes. */
    IpRoutes NONE = args -> {
        throw new IptablesEnvironmentException("no ip command configured for policy routing (tproxy mode)");
    };
}
