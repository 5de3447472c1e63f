package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InputText;
import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.PlanJson;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.iptables.RedirectPlan;
import dev.sidecar.iptables.RuleRenderer;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code sidecar iptables}: install, remove, show or check the redirect rules of this network namespace. */
@Command(name = "iptables", mixinStandardHelpOptions = true,
        description = "Manage the NAT redirect (chains PROXY_INIT_REDIRECT and PROXY_INIT_OUTPUT) of this network namespace.",
        subcommands = {IptablesCommand.Install.class, IptablesCommand.Remove.class, IptablesCommand.Show.class, IptablesCommand.Check.class})
public final class IptablesCommand {
    private static final Logger log = LoggerFactory.getLogger(IptablesCommand.class);

    @ParentCommand
    SidecarCommand sidecar;

    /** Installs the rules: one iptables-restore transaction per family; safe to repeat. */
    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Install the redirect rules (idempotent; one iptables-restore --noflush per family).")
    static final class Install implements Callable<Integer> {
        @ParentCommand IptablesCommand parent;
        @Mixin RedirectOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            RedirectConfig config = options.toConfig();
            // Timed inside the JVM too, so the cost of the install itself can be told apart from
            // the JVM's start (bench/run.sh compares both with one iptables process per rule).
            long t0 = System.nanoTime();
            RedirectInstaller installer = parent.sidecar.installer(config.backend());
            long t1 = System.nanoTime();
            installer.install(config);
            long t2 = System.nanoTime();
            log.info("install took {} ms in the JVM (backend detection {} ms, read and restore {} ms)",
                    millis(t2 - t0), millis(t1 - t0), millis(t2 - t1));
            spec.commandLine().getOut().println("installed redirect for " + families(config) + " with iptables-" + installer.variant());
            return ExitCode.OK.code();
        }
    }

    /** Removes our jumps and chains; succeeds when there is nothing to remove. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove the redirect rules (only ours; succeeds when none are installed).")
    static final class Remove implements Callable<Integer> {
        @ParentCommand IptablesCommand parent;
        @Mixin RedirectOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            RedirectConfig config = options.toConfig();
            RedirectInstaller installer = parent.sidecar.installer(config.backend());
            boolean removed = installer.remove(config);
            spec.commandLine().getOut().println((removed ? "removed redirect for " : "nothing to remove for ") + families(config));
            return ExitCode.OK.code();
        }
    }

    /** Dry run: prints what install applies, as restore input or as a JSON plan. Needs no privileges. */
    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Print the rules install would apply, as iptables-restore input (text) or as a plan (json). Changes nothing.")
    static final class Show implements Callable<Integer> {
        @Mixin RedirectOptions options;
        @Spec CommandSpec spec;

        @Option(names = "--output", paramLabel = "text|json", defaultValue = "text", converter = FormatConverter.class,
                description = "Output format: text (iptables-restore input per family) or json. Default: ${DEFAULT-VALUE}.")
        Format output;

        enum Format { text, json }

        /** {@code text} or {@code json}, any case, as every other word-valued option. */
        static final class FormatConverter implements ITypeConverter<Format> {
            @Override
            public Format convert(String value) {
                return switch (InputText.word(value)) {
                    case "text" -> Format.text;
                    case "json" -> Format.json;
                    default -> throw new TypeConversionException("'" + value + "' is not text or json");
                };
            }
        }

        @Override
        public Integer call() {
            RedirectPlan plan = RedirectPlan.of(options.toConfig());
            var out = spec.commandLine().getOut();
            if (output == Format.json) {
                out.print(PlanJson.render(plan));
            } else {
                for (IpFamily family : plan.families()) {
                    out.println("# " + family.label() + ": " + family.binaryPrefix() + "-restore --noflush");
                    out.print(RuleRenderer.install(plan, family));
                    plan.routing(family).forEach(step -> out.println("# and: " + step.addLine()));
                }
            }
            out.flush();
            return ExitCode.OK.code();
        }
    }

    /** Compares the installed rules with the plan: exit 0 when equal, 1 with a diff when not. */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Compare the installed rules with the plan; exit 0 when they match, 1 with a diff when they drift.")
    static final class Check implements Callable<Integer> {
        @ParentCommand IptablesCommand parent;
        @Mixin RedirectOptions options;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            RedirectConfig config = options.toConfig();
            RedirectInstaller.CheckResult result = parent.sidecar.installer(config.backend()).check(config);
            spec.commandLine().getOut().println(result.describe());
            return result.isClean() ? ExitCode.OK.code() : ExitCode.DRIFT.code();
        }
    }

    private static String families(RedirectConfig config) {
        return String.join(" and ", config.families().stream().map(IpFamily::label).toList());
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
