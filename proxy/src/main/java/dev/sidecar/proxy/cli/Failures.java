package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.IptablesCommandException;
import dev.sidecar.iptables.IptablesEnvironmentException;
import dev.sidecar.proxy.StartupException;
import dev.sidecar.proxy.admin.AdminServer;
import dev.sidecar.proxy.transport.TransportUnavailableException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The one place that maps failures to exit codes ({@link ExitCode}) and decides how they read.
 * Every failure is one line on stderr, {@code sidecar: <what went wrong and what to do>}; stack
 * traces only at debug level.
 */
public final class Failures implements IExecutionExceptionHandler, IParameterExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(Failures.class);

    private Failures() {}

    /** Installs the handlers and the exit code list on {@code cl} and all its subcommands. */
    public static CommandLine install(CommandLine cl) {
        Failures f = new Failures();
        cl.setExecutionExceptionHandler(f);
        cl.setParameterExceptionHandler(f);
        apply(cl, ExitCode.helpList());
        return cl;
    }

    private static void apply(CommandLine cl, Map<String, String> exitCodes) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodes);
        cl.getSubcommands().values().forEach(sub -> apply(sub, exitCodes));
    }

    /**
     * A bad value is one line naming the option (and the variable, if it came from there) and the
     * value. Only a mistake that is not about a value (an unknown option) gets suggestions and the
     * pointer to {@code --help} on further lines.
     */
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        ArgSpec spec = ex.getArgSpec();
        if (spec == null && ex instanceof CommandLine.MissingParameterException missing && missing.getMissing().size() == 1) {
            spec = missing.getMissing().get(0); // e.g. a value of "--", which picocli takes for no value
        }
        err.println("sidecar: " + printable(ex.getMessage()) + origin(spec, ex.getValue(), args));
        if (ex instanceof CommandLine.UnmatchedArgumentException) {
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        }
        err.flush();
        return ExitCode.USAGE.code();
    }

    /**
     * When a bad value came from an option's environment variable rather than the command line,
     * says so; otherwise the user hunts for a flag they never typed. The variable is the one the
     * option's declaration names ({@link Env#of}).
     */
    private static String origin(ArgSpec spec, String value, String[] args) {
        if (!(spec instanceof OptionSpec option)) {
            return "";
        }
        return Env.of(option).filter(env -> !typed(option, value, args))
                .map(env -> " (from environment variable " + env + ")").orElse("");
    }

    /** Whether the command line gave {@code option} the value {@code value} (any value when unknown). */
    private static boolean typed(OptionSpec option, String value, String[] args) {
        List<String> names = new ArrayList<>(List.of(option.names()));
        if (option.negatable()) {
            names.addAll(names.stream().map(n -> "--no-" + n.replaceFirst("^-+", "")).toList());
        }
        for (int i = 0; i < args.length; i++) {
            for (String name : names) {
                boolean attached = args[i].startsWith(name + "=");
                if (value == null ? attached || args[i].equals(name)
                        : args[i].equals(name + "=" + value) || args[i].equals(name) && i + 1 < args.length && args[i + 1].equals(value)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code text} on one line that a terminal shows as it is: a control character in a bad value
     * (a newline, an escape) is written as {@code \\n} or {@code \\u001b}, so it can neither
     * split the line nor move the cursor.
     */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == '\n') {
                out.append("\\n");
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
        log.debug("command failed", ex);
        PrintWriter err = cmd.getErr();
        ExitCode code;
        String message;
        if (ex instanceof InvalidConfigException e) {
            code = ExitCode.USAGE;
            String name = "--" + e.setting();
            message = "Invalid value for option '" + name + "': '" + e.value() + "': " + e.reason()
                    // The value may be one entry of a typed list: any occurrence of the flag counts as typed.
                    + origin(cmd.getCommandSpec().findOption(name), null, parsed.originalArgs().toArray(String[]::new));
        } else if (ex instanceof IptablesEnvironmentException || ex instanceof TransportUnavailableException) {
            code = ExitCode.ENVIRONMENT;
            message = ex.getMessage();
        } else if (ex instanceof StartupException || ex instanceof AdminServer.AdminBindException) {
            code = ExitCode.STARTUP;
            message = ex.getMessage();
        } else if (ex instanceof IptablesCommandException) {
            code = ExitCode.IPTABLES;
            message = ex.getMessage();
        } else {
            code = ExitCode.SOFTWARE;
            message = "unexpected failure: " + ex + " (set " + Env.LOG_LEVEL + "=DEBUG for the stack trace)";
        }
        err.println("sidecar: " + printable(message));
        err.flush();
        return code.code();
    }
}
