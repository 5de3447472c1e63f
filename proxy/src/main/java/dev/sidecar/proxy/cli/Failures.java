package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.IptablesCommandException;
import dev.sidecar.iptables.IptablesEnvironmentException;
import dev.sidecar.proxy.StartupException;
import dev.sidecar.proxy.admin.AdminServer;
import dev.sidecar.proxy.transport.TransportUnavailableException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The one place that decides exit codes and how failures read. Every failure is one line on
 * stderr, {@code sidecar: <what went wrong and what to do>}; stack traces only at debug level.
 */
public final class Failures implements IExecutionExceptionHandler, IParameterExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(Failures.class);

    public static final int OK = 0;
    /** An unexpected failure, or {@code check} found drift. */
    public static final int SOFTWARE = 1;
    public static final int DRIFT = 1;
    public static final int USAGE = 2;
    public static final int ENVIRONMENT = 3;
    public static final int IPTABLES = 4;
    public static final int STARTUP = 5;

    private static final Map<String, String> EXIT_CODES = new LinkedHashMap<>();

    static {
        EXIT_CODES.put("0", "Success.");
        EXIT_CODES.put("1", "Unexpected failure; for 'check': the rules differ from the plan.");
        EXIT_CODES.put("2", "Invalid option or value; nothing was changed.");
        EXIT_CODES.put("3", "Environment: iptables missing, not root / no CAP_NET_ADMIN, no nat table, or the --transport asked for is unavailable.");
        EXIT_CODES.put("4", "iptables rejected the change; that family's table is unchanged.");
        EXIT_CODES.put("5", "run: a proxy or admin listener could not bind, or the privilege drop failed or could not be proven.");
    }

    private Failures() {}

    /** Installs the handlers and the exit code list on {@code cl} and all its subcommands. */
    public static CommandLine install(CommandLine cl) {
        Failures f = new Failures();
        cl.setExecutionExceptionHandler(f);
        cl.setParameterExceptionHandler(f);
        apply(cl);
        return cl;
    }

    private static void apply(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(EXIT_CODES);
        cl.getSubcommands().values().forEach(Failures::apply);
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("sidecar: " + ex.getMessage() + fromEnvironment(ex, args));
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return USAGE;
    }

    /**
     * When a bad value came from an option's environment variable rather than the command line,
     * says so; otherwise the user hunts for a flag they never typed. Our options are named
     * {@code --x-y} with variable {@code SIDECAR_X_Y}, as their descriptions state.
     */
    private static String fromEnvironment(ParameterException ex, String[] args) {
        if (!(ex.getArgSpec() instanceof CommandLine.Model.OptionSpec option)) {
            return "";
        }
        String name = option.longestName();
        String env = "SIDECAR_" + name.replaceFirst("^-+", "").toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        boolean typed = java.util.Arrays.stream(args).anyMatch(a -> a.equals(name) || a.startsWith(name + "="));
        boolean hasEnv = String.join(" ", option.description()).contains(env);
        return !typed && hasEnv ? " (from environment variable " + env + ")" : "";
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
        log.debug("command failed", ex);
        PrintWriter err = cmd.getErr();
        int code;
        String message;
        if (ex instanceof InvalidConfigException e) {
            code = USAGE;
            message = "Invalid value for option '--" + e.setting() + "': '" + e.value() + "': " + e.reason();
        } else if (ex instanceof IptablesEnvironmentException || ex instanceof TransportUnavailableException) {
            code = ENVIRONMENT;
            message = ex.getMessage();
        } else if (ex instanceof StartupException || ex instanceof AdminServer.AdminBindException) {
            code = STARTUP;
            message = ex.getMessage();
        } else if (ex instanceof IptablesCommandException) {
            code = IPTABLES;
            message = ex.getMessage();
        } else {
            code = SOFTWARE;
            message = "unexpected failure: " + ex + " (set SIDECAR_LOG_LEVEL=DEBUG for the stack trace)";
        }
        err.println("sidecar: " + message.replace('\n', ' '));
        err.flush();
        return code;
    }
}
