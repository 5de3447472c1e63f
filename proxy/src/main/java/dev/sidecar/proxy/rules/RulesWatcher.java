package dev.sidecar.proxy.rules;

import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.IpRoutes;
import dev.sidecar.iptables.ProcessIpRoutes;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.iptables.RedirectPlan;
import dev.sidecar.iptables.RestorePolicy;
import dev.sidecar.iptables.RulesHelper;
import dev.sidecar.proxy.admin.Readiness;
import dev.sidecar.proxy.admin.RulesMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@link RulesWatch} every interval on one daemon thread of its own ({@code rules-watch}),
 * never on an event loop. How it reads the rules is decided before the privilege drop
 * ({@link #prepare}): as root, through a {@link RulesHelper} started now, which stays root while
 * the JVM does not (it may restore only the plan, and only with {@code --rules-repair} on rules
 * this process installed; in tproxy mode it reads the mangle table too and may add or delete only
 * the plan's own ip rule and route, which this process lists itself, needing no privilege); not root, with this process's own installer, if it has one.
 *
 * <pre>{@code
 * Optional<RulesWatcher> watcher = RulesWatcher.prepare(settings, config, privileges.isRoot(), installer, detect, readiness, metrics);
 * privileges.drop(2102, 2102);
 * watcher.ifPresent(RulesWatcher::start);
 * }</pre>
 */
public final class RulesWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RulesWatcher.class);
    /** How long one iptables command of a check or repair may take. */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    /**
     * @param interval time between checks; zero turns the watch off
     * @param repair install the plan again when the rules differ from it
     */
    public record Settings(Duration interval, boolean repair) {
        public static final Settings OFF = new Settings(Duration.ZERO, false);

        public boolean enabled() {
            return !interval.isZero();
        }
    }

    private final RulesWatch watch;
    private final Duration interval;
    private final AutoCloseable helper;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rules-watch");
        t.setDaemon(true);
        return t;
    });

    private RulesWatcher(RulesWatch watch, Duration interval, AutoCloseable helper) {
        this.watch = watch;
        this.interval = interval;
        this.helper = helper;
    }

    /**
     * Decides how the watch reads the rules, and starts the helper as root. Empty when the watch is
     * off or cannot read the rules; the log says why, once, and the gauge stays -1.
     *
     * @param installer the installer that installed the rules; null with {@code --no-iptables}
     * @param detect finds the variant the rules are in, for a watch of someone else's rules (as root)
     */
    public static Optional<RulesWatcher> prepare(Settings settings, RedirectConfig config, boolean root,
            RedirectInstaller installer, Supplier<RedirectInstaller> detect, Readiness readiness, RulesMetrics metrics) {
        if (!settings.enabled()) {
            log.info("rules watch off (--rules-check-interval off): the rules are not checked after start-up");
            return Optional.empty();
        }
        // Someone else's rules (--no-iptables) are only reported; RunCommand refuses --rules-repair with them.
        boolean repair = settings.repair() && installer != null;
        if (!root) {
            if (installer == null) {
                log.info("rules watch off: started without root and with --no-iptables, so this process cannot read the"
                        + " rules (iptables-save needs CAP_NET_ADMIN, iptables-legacy also CAP_NET_RAW);"
                        + " sidecar_rules_in_place stays -1");
                return Optional.empty();
            }
            return Optional.of(watcher(settings, installer, config, repair, null, readiness, metrics));
        }
        RedirectPlan plan = RedirectPlan.of(config);
        List<RestorePolicy> policies = plan.families().stream()
                .map(f -> repair ? RestorePolicy.of(plan, f) : RestorePolicy.readOnly(f)).toList();
        try {
            RedirectInstaller reader = installer != null ? installer : detect.get();
            RulesHelper helper = RulesHelper.start(reader.variant(), List.of(), plan.tables(), policies, COMMAND_TIMEOUT);
            boolean tproxy = plan.tables().size() > 1;
            log.info("rules watch every {}: rules helper pid {} stays root and may only read the {} {} table{}{}{}",
                    shown(settings.interval()), helper.pid(), labels(plan.families()), String.join(" and ", plan.tables()),
                    plan.families().size() * plan.tables().size() > 1 ? "s" : "",
                    repair ? " and install this plan again (--rules-repair)" + (tproxy ? ", its ip rule and route included" : "") : "",
                    tproxy ? "; this process lists the policy routing itself" : "");
            // Listing ip rules and routes needs no privilege: those reads run as this process, after the drop too.
            IpRoutes routes = helper.routes(new ProcessIpRoutes());
            return Optional.of(watcher(settings, new RedirectInstaller(helper, routes), config, repair, helper, readiness, metrics));
        } catch (IOException | RuntimeException e) {
            log.warn("rules watch off: cannot start the rules helper ({}); sidecar_rules_in_place stays -1", e.getMessage());
            return Optional.empty();
        }
    }

    private static RulesWatcher watcher(Settings settings, RedirectInstaller installer, RedirectConfig config, boolean repair,
            AutoCloseable helper, Readiness readiness, RulesMetrics metrics) {
        RulesWatch.Rules rules = new RulesWatch.Rules() {
            @Override
            public RedirectInstaller.CheckResult check() {
                return installer.check(config);
            }

            @Override
            public void repair() {
                installer.install(config);
            }
        };
        return new RulesWatcher(new RulesWatch(rules, repair, readiness, metrics), settings.interval(), helper);
    }

    private static String shown(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static String labels(List<IpFamily> families) {
        return String.join(" and ", families.stream().map(IpFamily::label).toList());
    }

    /** Checks at once, then every interval after the previous check ended. */
    public void start() {
        thread.scheduleWithFixedDelay(watch::check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops checking and lets the helper exit. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
            if (helper != null) {
                helper.close();
            }
        } catch (Exception e) {
            log.debug("rules watch: closing: {}", e.toString());
        }
    }
}
