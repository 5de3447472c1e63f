package dev.sidecar.proxy;

import dev.sidecar.iptables.InboundMode;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.proxy.admin.Readiness;
import dev.sidecar.proxy.admin.RulesMetrics;
import dev.sidecar.proxy.net.LocalAddresses;
import dev.sidecar.proxy.net.OriginalDst;
import dev.sidecar.proxy.os.Privileges;
import dev.sidecar.proxy.relay.InboundDestinations;
import dev.sidecar.proxy.relay.InboundPolicy;
import dev.sidecar.proxy.relay.Listeners;
import dev.sidecar.proxy.relay.ProxyProtocolHeader;
import dev.sidecar.proxy.relay.RelayEvents;
import dev.sidecar.proxy.relay.RelaySettings;
import dev.sidecar.proxy.relay.TargetResolver;
import dev.sidecar.proxy.rules.RulesWatcher;
import dev.sidecar.proxy.selftest.ProbeCatcher;
import dev.sidecar.proxy.selftest.SelfTest;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Owns the proxy's start-up and shutdown order, the one place that decides it:
 * <ol>
 *   <li>bind the listeners, paused (connections wait in the kernel backlog);
 *   <li>install the redirect rules, unless an init container did ({@code installer == null});
 *   <li>prepare the rules watch: as root, start the {@link RulesWatcher}'s helper, the one process
 *       that stays root;
 *   <li>drop to the proxy's uid and gid when running as root, and prove it for every thread (in
 *       tproxy mode the event loops keep CAP_NET_RAW for transparent sockets, and only they);
 *   <li>start accepting, and mark each step in {@link Readiness};
 *   <li>prove the redirect end to end with a {@link SelfTest} probe (its sockets made while root),
 *       start the rules watch, and give memory back after bursts of connections ({@link HeapTrimmer}).
 * </ol>
 * On SIGTERM or SIGINT it stops accepting, lets open connections finish for up to the grace period,
 * resets the rest and returns. The rules stay installed: if the proxy dies, the pod's traffic
 * fails closed instead of silently bypassing it.
 *
 * <pre>{@code
 * Sidecar sidecar = new Sidecar(Sidecar.Settings.of(config, gid, relay, grace), installer, detect, RelayEvents.NONE,
 *         new Readiness(), new RulesMetrics(registry));
 * sidecar.start();
 * sidecar.awaitSignalThenDrain();
 * }</pre>
 */
public final class Sidecar {
    private static final Logger log = LoggerFactory.getLogger(Sidecar.class);

    /**
     * Everything start-up needs.
     *
     * @param redirect ports, proxy uid and families (IPv6 adds the [::] and [::1] listeners)
     * @param proxyGid gid to drop to
     * @param relay socket tuning and connect timeouts
     * @param shutdownGrace how long open connections may take to finish after SIGTERM
     * @param endpoints where to listen; {@link Listeners#standard} for a real pod
     * @param inboundIps the only original destinations inbound connections are relayed to; empty
     *     means the namespace's own addresses, kept current ({@link LocalAddresses})
     * @param proxyProtocol the header inbound connections to its ports start with
     * @param rulesWatch how often the rules are compared with the plan, and whether drift is repaired
     */
    public record Settings(RedirectConfig redirect, int proxyGid, RelaySettings relay, Duration shutdownGrace,
            List<Listeners.Endpoint> endpoints, List<InetAddress> inboundIps, ProxyProtocolHeader proxyProtocol,
            RulesWatcher.Settings rulesWatch) {

        public Settings {
            inboundIps = List.copyOf(inboundIps);
        }

        /** The standard endpoints for {@code redirect}'s ports and families; inbound to the namespace's addresses. */
        public static Settings of(RedirectConfig redirect, int proxyGid, RelaySettings relay, Duration shutdownGrace) {
            return new Settings(redirect, proxyGid, relay, shutdownGrace,
                    Listeners.standard(redirect.inboundPort(), redirect.outboundPort(), redirect.ipv6()), List.of(),
                    ProxyProtocolHeader.NONE, RulesWatcher.Settings.OFF);
        }

        /** A copy relaying inbound connections only to {@code ips} (none: the namespace's addresses). */
        public Settings withInboundIps(List<InetAddress> ips) {
            return new Settings(redirect, proxyGid, relay, shutdownGrace, endpoints, ips, proxyProtocol, rulesWatch);
        }

        /** A copy whose inbound connections to {@code header}'s ports start with it. */
        public Settings withProxyProtocol(ProxyProtocolHeader header) {
            return new Settings(redirect, proxyGid, relay, shutdownGrace, endpoints, inboundIps, header, rulesWatch);
        }

        /** A copy with this rules watch. */
        public Settings withRulesWatch(RulesWatcher.Settings watch) {
            return new Settings(redirect, proxyGid, relay, shutdownGrace, endpoints, inboundIps, proxyProtocol, watch);
        }
    }

    private final Settings settings;
    private final RedirectInstaller installer;
    private final Supplier<RedirectInstaller> detect;
    private final Readiness readiness;
    private final RulesMetrics rulesMetrics;
    private final Listeners listeners;
    private final ProbeCatcher probes = new ProbeCatcher();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private Optional<HeapTrimmer> heapTrimmer = Optional.empty();
    private Optional<RulesWatcher> rulesWatcher = Optional.empty();
    // A pod's interfaces may come up after the proxy: the self-test retries once a second for this
    // long, with at most this many probe sockets (each a descriptor held until the verdict).
    private static final Duration SELF_TEST_WINDOW = Duration.ofMinutes(2);
    private static final int SELF_TEST_SOCKETS = 8;

    /**
     * Creates the event loops (and so loads the native library of the settings' transport) but binds nothing yet.
     *
     * @param installer installs the rules at start-up; null with {@code --no-iptables}
     * @param detect an installer for someone else's rules, made only if the rules watch needs it
     *     ({@code --no-iptables} as root): it finds the variant they are in
     * @param rulesMetrics where the rules watch reports
     * @throws StartupException when that native transport cannot be loaded
     */
    public Sidecar(Settings settings, RedirectInstaller installer, Supplier<RedirectInstaller> detect, RelayEvents events,
            Readiness readiness, RulesMetrics rulesMetrics) throws StartupException {
        this.settings = settings;
        this.installer = installer;
        this.detect = detect;
        this.readiness = readiness;
        this.rulesMetrics = rulesMetrics;
        try {
            this.listeners = new Listeners(settings.endpoints(), settings.relay(), TargetResolver.ORIGINAL_DST, events, probes,
                    new InboundPolicy(InboundDestinations.only(inboundAddresses(settings.inboundIps())),
                            settings.proxyProtocol(), tproxy(settings)));
        } catch (IllegalStateException noTransport) {
            throw new StartupException(noTransport.getMessage(), noTransport);
        }
    }

    private static boolean tproxy(Settings settings) {
        return settings.redirect().inboundMode() == InboundMode.TPROXY;
    }

    private static LocalAddresses inboundAddresses(List<InetAddress> pinned) throws StartupException {
        if (!pinned.isEmpty()) {
            LocalAddresses local = LocalAddresses.pinned(pinned);
            log.info("inbound connections are relayed only to {} (--inbound-ips)", local.snapshot());
            return local;
        }
        try {
            LocalAddresses local = LocalAddresses.ofNamespace();
            log.info("inbound connections are relayed only to the namespace's own addresses, now {}", local.snapshot());
            return local;
        } catch (IOException e) {
            throw new StartupException("cannot read the network namespace's addresses: " + e.getMessage(), e);
        }
    }

    /** Binds, installs the rules, drops privileges and starts accepting; returns once serving. */
    public void start() throws StartupException {
        // Handle the signals from the first moment, so a SIGTERM during start-up also drains.
        Signal.handle(new Signal("TERM"), s -> stopSignal.countDown());
        Signal.handle(new Signal("INT"), s -> stopSignal.countDown());
        OriginalDst.load(); // jffi and libc now, while root may still read what it extracts
        Privileges privileges = new Privileges();
        try {
            log.info("listening on {}", listeners.bind());
        } catch (IOException e) {
            throw new StartupException(e.getMessage(), e);
        }
        if (installer != null) {
            installer.install(settings.redirect());
            log.info("redirect rules installed for {}", settings.redirect().families());
        }
        readiness.mark(Readiness.Step.RULES_INSTALLED);
        SelfTest selfTest = privileges.isRoot() ? prepareSelfTest() : null; // its sockets must be root's
        // Its helper must be started while root; the JVM keeps nothing of root's.
        rulesWatcher = RulesWatcher.prepare(settings.rulesWatch(), settings.redirect(), privileges.isRoot(), installer,
                detect, readiness, rulesMetrics);
        dropPrivileges(privileges);
        readiness.mark(Readiness.Step.PRIVILEGES_DROPPED);
        listeners.startAccepting();
        readiness.mark(Readiness.Step.ACCEPTING);
        log.info("accepting: inbound {}, outbound {}", listeners.address(RelayEvents.Direction.INBOUND),
                listeners.address(RelayEvents.Direction.OUTBOUND));
        // From here on the heap is what start-up left: the baseline that bursts are measured from.
        heapTrimmer = HeapTrimmer.startFromProperties(listeners::openConnections, listeners::trimBufferCaches);
        if (selfTest != null) {
            Thread probe = new Thread(() -> runSelfTest(selfTest), "redirect-self-test");
            probe.setDaemon(true);
            probe.start();
        } else {
            log.info("redirect self-test skipped: started without root, so no probe can take an application's path");
            readiness.mark(Readiness.Step.REDIRECT_PROVEN);
        }
        rulesWatcher.ifPresent(RulesWatcher::start);
    }

    private SelfTest prepareSelfTest() throws StartupException {
        try {
            return SelfTest.prepare(SELF_TEST_SOCKETS, Duration.ofSeconds(1), SELF_TEST_WINDOW,
                    settings.redirect().ipv6());
        } catch (IOException e) {
            throw new StartupException("cannot create the redirect self-test's sockets: " + e.getMessage(), e);
        }
    }

    private void runSelfTest(SelfTest selfTest) {
        try {
            selfTest.run(probes, settings.redirect()).ifPresentOrElse(
                    failure -> {
                        log.error("{}; /ready stays 503", failure);
                        readiness.fail(failure);
                    },
                    () -> readiness.mark(Readiness.Step.REDIRECT_PROVEN));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void dropPrivileges(Privileges privileges) throws StartupException {
        int uid = settings.redirect().proxyUid();
        int gid = settings.proxyGid();
        try {
            if (privileges.isRoot() && tproxy(settings)) {
                privileges.dropKeepingNetRaw(uid, gid, listeners::runOnEveryLoop);
                log.info("running as uid {} gid {}; the event loops keep CAP_NET_RAW for transparent sockets (tproxy mode),"
                        + " every other thread has no capabilities (verified on every thread)", uid, gid);
            } else if (privileges.isRoot()) {
                privileges.drop(uid, gid);
                log.info("running as uid {} gid {} with no capabilities (verified on every thread)", uid, gid);
            } else {
                log.info("not root: keeping the current uid, no privileges to drop");
            }
        } catch (Privileges.PrivilegeException e) {
            throw new StartupException("refusing to serve: privilege drop to uid " + uid + " gid " + gid + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** Blocks until SIGTERM or SIGINT, then drains and closes; the rules stay installed. */
    public void awaitSignalThenDrain() throws InterruptedException {
        stopSignal.await();
        log.info("stopping: no new connections; {} open, waiting up to {}", listeners.openConnections(),
                settings.shutdownGrace());
        int cut = listeners.drain(settings.shutdownGrace());
        if (cut > 0) {
            log.warn("shutdown grace of {} over: reset {} connection(s) still open", settings.shutdownGrace(), cut);
        }
        listeners.close();
        rulesWatcher.ifPresent(RulesWatcher::close);
        heapTrimmer.ifPresent(HeapTrimmer::close);
        log.info("stopped; redirect rules left in place (remove them with: sidecar iptables remove)");
    }

    /** Asks {@link #awaitSignalThenDrain} to proceed, as a signal would (tests, embedding). */
    public void stop() {
        stopSignal.countDown();
    }
}
