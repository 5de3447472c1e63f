package dev.sidecar.iptables;

/**
 * The machine cannot run the rules: a missing iptables binary, missing privileges (not root, no
 * CAP_NET_ADMIN), or a kernel without the nat table. The message is one line that says what to do.
 */
public final class IptablesEnvironmentException extends RuntimeException {
    public IptablesEnvironmentException(String message) {
        super(message);
    }

    public IptablesEnvironmentException(String message, Throwable cause) {
        super(message, cause);
    }
}
