package dev.sidecar.proxy.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every exit code of {@code sidecar}, with what it means. {@link Failures} maps failures to these
 * and {@code --help} lists them from here; two entries may share a code (an unexpected failure and
 * {@code check}'s drift are both 1), and the list then joins their meanings.
 */
public enum ExitCode {
    OK(0, "Success."),
    SOFTWARE(1, "Unexpected failure"),
    DRIFT(1, "for 'check': the rules differ from the plan."),
    USAGE(2, "Invalid option or value; nothing was changed."),
    ENVIRONMENT(3, "Environment: iptables missing, not root / no CAP_NET_ADMIN, no nat table, or the --transport asked for is unavailable."),
    IPTABLES(4, "iptables rejected the change; that family's table is unchanged."),
    STARTUP(5, "run: a proxy or admin listener could not bind, or the privilege drop failed or could not be proven.");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The process exit status. */
    public int code() {
        return code;
    }

    /** The {@code --help} exit code list: code to meaning, in order. */
    static Map<String, String> helpList() {
        Map<String, String> list = new LinkedHashMap<>();
        for (ExitCode c : values()) {
            list.merge(Integer.toString(c.code), c.meaning, (a, b) -> a + "; " + b);
        }
        return list;
    }
}
