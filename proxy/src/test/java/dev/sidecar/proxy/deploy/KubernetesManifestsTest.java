package dev.sidecar.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.sidecar.proxy.cli.SidecarCommand;
import dev.sidecar.proxy.deploy.PodManifest.Container;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The example Pods in {@code deploy/kubernetes} say what the README promises: the sidecar with
 * NET_ADMIN/NET_RAW and probes on the admin port 4191; the split variant with an init container
 * that installs the rules and a sidecar that runs as 2102 with no capability at all.
 */
class KubernetesManifestsTest {
    private static final int ADMIN_PORT = 4191;
    private static final int INBOUND_PORT = 4143;
    private static final int PROXY_UID = 2102;

    private static PodManifest pod;
    private static PodManifest split;
    private static PodManifest tproxy;

    @BeforeAll
    static void load() throws IOException {
        pod = PodManifest.load("pod.yaml");
        split = PodManifest.load("pod-split.yaml");
        tproxy = PodManifest.load("pod-tproxy.yaml");
    }

    @Test
    void bothManifestsArePods() {
        for (PodManifest m : List.of(pod, split)) {
            assertThat(m.get("apiVersion")).as(m + " apiVersion").isEqualTo("v1");
            assertThat(m.get("kind")).as(m + " kind").isEqualTo("Pod");
        }
    }

    @Test
    void podSidecarRunsSidecarRunAsRootWithNetAdminAndNetRaw() {
        Container sidecar = pod.container("sidecar");
        assertThat(sidecar.commandLine()).containsExactly("sidecar", "run");
        assertThat(sidecar.get("securityContext.runAsUser")).isEqualTo(0);
        assertThat(sidecar.strings("securityContext.capabilities.add")).contains("NET_ADMIN", "NET_RAW");
    }

    @Test
    void podSidecarKeepsOnlyWhatInstallingAndDroppingToTheProxyUidNeed() {
        // NET_ADMIN/NET_RAW for iptables-restore; SETUID/SETGID for the drop to 2102; nothing else.
        Container sidecar = pod.container("sidecar");
        assertThat(sidecar.strings("securityContext.capabilities.drop")).containsExactly("ALL");
        assertThat(sidecar.strings("securityContext.capabilities.add"))
                .containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW", "SETUID", "SETGID");
        assertThat(sidecar.get("securityContext.allowPrivilegeEscalation")).isEqualTo(false);
    }

    @Test
    void splitInitContainerInstallsTheRulesWithOnlyNetAdminAndNetRaw() {
        Container init = split.container("sidecar-init");
        assertThat(split.containers("initContainers").get(0).name()).isEqualTo("sidecar-init");
        assertThat(init.get("restartPolicy")).as("a plain init container, run to completion").isNull();
        assertThat(init.commandLine()).startsWith("sidecar", "iptables", "install");
        assertThat(init.get("securityContext.runAsUser")).isEqualTo(0);
        assertThat(init.strings("securityContext.capabilities.drop")).containsExactly("ALL");
        assertThat(init.strings("securityContext.capabilities.add")).containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW");
    }

    @Test
    void splitInitContainerLeavesTheAdminPortUnredirectedForProbes() {
        assertThat(split.container("sidecar-init").commandLine())
                .anySatisfy(arg -> assertThat(arg).matches("--skip-inbound-ports=(.*,)?" + ADMIN_PORT + "(,.*)?"));
    }

    @Test
    void splitSidecarRunsWithoutIptablesAsTheProxyUidWithNoCapability() {
        Container sidecar = split.container("sidecar");
        assertThat(sidecar.commandLine()).containsExactly("sidecar", "run", "--no-iptables");
        assertThat(sidecar.get("securityContext.runAsUser")).isEqualTo(PROXY_UID);
        assertThat(sidecar.get("securityContext.runAsGroup")).isEqualTo(PROXY_UID);
        assertThat(sidecar.get("securityContext.runAsNonRoot")).isEqualTo(true);
        assertThat(sidecar.get("securityContext.allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(sidecar.strings("securityContext.capabilities.drop")).containsExactly("ALL");
        assertThat(sidecar.strings("securityContext.capabilities.add")).isEmpty();
    }

    @Test
    void sidecarsProbeLiveAndReadyOnTheAdminPort() {
        for (PodManifest m : List.of(pod, split)) {
            Container sidecar = m.container("sidecar");
            assertThat(sidecar.get("livenessProbe.httpGet.path")).as(m + " liveness").isEqualTo("/live");
            assertThat(sidecar.get("livenessProbe.httpGet.port")).as(m + " liveness").isEqualTo(ADMIN_PORT);
            assertThat(sidecar.get("readinessProbe.httpGet.path")).as(m + " readiness").isEqualTo("/ready");
            assertThat(sidecar.get("readinessProbe.httpGet.port")).as(m + " readiness").isEqualTo(ADMIN_PORT);
            assertThat(sidecar.get("startupProbe.httpGet.path")).as(m + " startup").isEqualTo("/ready");
            assertThat(sidecar.get("startupProbe.httpGet.port")).as(m + " startup").isEqualTo(ADMIN_PORT);
        }
    }

    @Test
    void sidecarsDeclareTheInboundAndAdminPortsButNotTheLoopbackOutboundPort() {
        for (PodManifest m : List.of(pod, split)) {
            assertThat(m.container("sidecar").containerPorts()).as(m.toString())
                    .containsExactlyInAnyOrder(INBOUND_PORT, ADMIN_PORT);
        }
    }

    @Test
    void sidecarsAreNativeSidecarsThatStartBeforeTheApplication() {
        // An init container with restartPolicy Always: the kubelet starts the application only
        // after the sidecar's startup probe passes, so the application's first connection works.
        for (PodManifest m : List.of(pod, split)) {
            assertThat(m.containers("initContainers")).as(m.toString()).extracting(Container::name).contains("sidecar");
            assertThat(m.container("sidecar").get("restartPolicy")).as(m.toString()).isEqualTo("Always");
            assertThat(m.containers("containers")).as(m.toString()).extracting(Container::name).containsExactly("app");
        }
    }

    @Test
    void applicationsNeverRunAsTheProxyUid() {
        // Traffic of uid 2102 is never redirected: an application with that uid would bypass the proxy.
        for (PodManifest m : List.of(pod, split)) {
            assertThat(m.container("app").get("securityContext.runAsUser")).as(m.toString())
                    .isNotNull().isNotEqualTo(PROXY_UID);
        }
    }

    @Test
    void readOnlySidecarsGetAWritableTmpAndIptablesLockThere() {
        for (PodManifest m : List.of(pod, split)) {
            for (Container c : List.of(m.container("sidecar"), m.containers("initContainers").get(0))) {
                assertThat(c.get("securityContext.readOnlyRootFilesystem")).as(m + " " + c.name()).isEqualTo(true);
                assertThat(c.mountOf("/tmp")).as(m + " " + c.name() + " /tmp").isPresent();
                assertThat(m.emptyDirVolumes()).contains(c.mountOf("/tmp").orElseThrow());
                if (c.commandLine().contains("--no-iptables")) {
                    continue;
                }
                assertThat(c.env("XTABLES_LOCKFILE")).as(m + " " + c.name()).hasValueSatisfying(
                        v -> assertThat(v).startsWith("/tmp/"));
            }
        }
    }

    @Test
    void podsGiveTheSidecarMoreTimeToDrainThanItsShutdownGrace() {
        CommandLine cli = SidecarCommand.commandLine();
        cli.parseArgs("run");
        Duration grace = cli.getSubcommands().get("run").getCommandSpec().findOption("--shutdown-grace").getValue();
        for (PodManifest m : List.of(pod, split)) {
            assertThat((long) (Integer) m.get("spec.terminationGracePeriodSeconds")).as(m.toString())
                    .isGreaterThan(grace.toSeconds());
        }
    }

    @Test
    void everySidecarContainerUsesTheSameImage() {
        assertThat(List.of(pod.container("sidecar").get("image"), split.container("sidecar").get("image"),
                split.container("sidecar-init").get("image"))).containsOnly(pod.container("sidecar").get("image"));
    }

    @Test
    void sidecarArgumentsAreValidForTheRealCommandLine() {
        for (PodManifest m : List.of(pod, split)) {
            for (Container c : List.of(m.container("sidecar"), m.containers("initContainers").get(0))) {
                List<String> line = c.commandLine();
                assertThat(line.get(0)).isEqualTo("sidecar");
                String[] args = line.subList(1, line.size()).toArray(String[]::new);
                assertThatCode(() -> SidecarCommand.commandLine().parseArgs(args))
                        .as(m + " " + c.name() + " " + line).doesNotThrowAnyException();
            }
        }
    }

    @Test
    void tproxyPodRunsTheSidecarInTproxyModeAsRootWithTheSameFourCapabilities() {
        Container sidecar = tproxy.container("sidecar");
        assertThat(tproxy.get("kind")).isEqualTo("Pod");
        assertThat(sidecar.commandLine()).containsExactly("sidecar", "run", "--inbound-mode", "tproxy");
        assertThat(sidecar.get("securityContext.runAsUser")).isEqualTo(0);
        assertThat(sidecar.strings("securityContext.capabilities.drop")).containsExactly("ALL");
        assertThat(sidecar.strings("securityContext.capabilities.add"))
                .containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW", "SETUID", "SETGID");
        assertThat(sidecar.get("securityContext.allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(sidecar.get("image")).isEqualTo(pod.container("sidecar").get("image"));
    }

    @Test
    void tproxyPodArgumentsSelectTproxyModeInTheRealCommandLine() {
        List<String> line = tproxy.container("sidecar").commandLine();
        CommandLine cli = SidecarCommand.commandLine();
        cli.parseArgs(line.subList(1, line.size()).toArray(String[]::new));
        Object mode = cli.getSubcommands().get("run").getCommandSpec().findOption("--inbound-mode").getValue();
        assertThat(mode).hasToString("tproxy");
    }
}
