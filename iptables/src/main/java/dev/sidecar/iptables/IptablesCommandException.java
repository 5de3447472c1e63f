package dev.sidecar.iptables;

/**
 * An iptables binary ran and failed for a reason that is not the environment's fault, for example
 * a rule the kernel rejected. Because every change is one {@code iptables-restore} transaction, the
 * table of that family is unchanged when this is thrown.
 */
public final class IptablesCommandException extends RuntimeException {
    private final String command;
    private final int exitCode;
    private final String output;

    public IptablesCommandException(String command, int exitCode, String output) {
        super(command + " exited " + exitCode + ": " + firstLine(output) + errorLine(output));
        this.command = command;
        this.exitCode = exitCode;
        this.output = output;
    }

    private IptablesCommandException(String message, String command, int exitCode, String output) {
        super(message);
        this.command = command;
        this.exitCode = exitCode;
        this.output = output;
    }

    /** The same failure, its one-line message followed by {@code hint} (what to do about it). */
    public IptablesCommandException withHint(String hint) {
        IptablesCommandException e = new IptablesCommandException(getMessage() + "; " + hint, command, exitCode, output);
        e.setStackTrace(getStackTrace());
        for (Throwable s : getSuppressed()) {
            e.addSuppressed(s);
        }
        return e;
    }

    public String command() {
        return command;
    }

    public int exitCode() {
        return exitCode;
    }

    /** Everything the command printed, for the debug log. */
    public String output() {
        return output;
    }

    // iptables-restore names the failing line of its input, which is logged right before the run.
    private static String errorLine(String text) {
        var m = java.util.regex.Pattern.compile("Error occurred at line: (\\d+)").matcher(text);
        return m.find() ? " (restore input line " + m.group(1) + ", logged above)" : "";
    }

    // iptables-nft prints a header ending in ':' ("ip6tables-nft-restore v1.8.9 (nf_tables): ") and
    // the reason on the next line; the one-line message needs both.
    static String firstLine(String text) {
        java.util.List<String> lines = text.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (lines.isEmpty()) {
            return "";
        }
        return lines.get(0).endsWith(":") && lines.size() > 1 ? lines.get(0) + " " + lines.get(1) : lines.get(0);
    }
}
