package dev.sidecar.iptables;

/**
 * A redirect setting has a value that cannot be used. A usage error: nothing was installed.
 *
 * <p>{@link #setting()} is the setting's kebab-case name, which by design equals the CLI's long
 * option name without its dashes (e.g. {@code skip-outbound-subnets}), so the CLI can name the
 * flag without this module knowing about flags.
 */
public final class InvalidConfigException extends IllegalArgumentException {
    private final String setting;
    private final String value;
    private final String reason;

    public InvalidConfigException(String setting, String value, String reason) {
        super(setting + " '" + value + "': " + reason);
        this.setting = setting;
        this.value = value;
        this.reason = reason;
    }

    /** Creates an exception for a value whose setting is not yet known (filled in by the caller). */
    public static InvalidConfigException ofValue(String value, String reason) {
        return new InvalidConfigException("value", value, reason);
    }

    public String setting() {
        return setting;
    }

    public String value() {
        return value;
    }

    public String reason() {
        return reason;
    }
}
