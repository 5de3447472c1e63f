package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.SidecarProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packaged CLI end to end, as an operator runs it: {@code java -jar sidecar.jar iptables ...}
 * (and once {@code bin/sidecar}) inside {@code ip netns exec} of a fresh namespace.
 */
@Tag("netns")
@Timeout(180)
class SidecarCliIT {
    private static final Path JAR = Path.of("target/sidecar.jar").toAbsolutePath();
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    private NetnsLab lab;
    private String ns;

    @BeforeAll
    static void needsRootAndTheJar() {
        assertThat(JAR).as("failsafe runs after package, so the jar exists").exists();
    }

    @BeforeEach
    void freshNamespace() {
        lab = new NetnsLab("ipt");
        ns = lab.namespace("pod");
    }

    @AfterEach
    void deleteNamespace() {
        lab.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"nft", "legacy"})
    void installCheckDriftAndRemoveThroughTheJar(String backend) {
        Run install = sidecar("iptables", "install", "--backend", backend, "--skip-outbound-ports", "25,443");
        assertThat(install.exit).as(install.err).isEqualTo(0);
        assertThat(install.out).isEqualTo("installed redirect for IPv4 and IPv6 with iptables-" + backend + "\n");
        assertThat(install.err).as("the operator sees the exact rules")
                .contains("-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 25,443 -m comment --comment \"proxy-init/ignore-port\" -j RETURN");
        assertThat(lab.exec(ns, "iptables-" + backend + "-save", "-t", "nat")).contains(":PROXY_INIT_OUTPUT", ":PROXY_INIT_REDIRECT");

        assertThat(sidecar("iptables", "check", "--backend", backend, "--skip-outbound-ports", "25,443").exit).isEqualTo(0);

        lab.exec(ns, "iptables-" + backend, "-w", "-t", "nat", "-D", "PROXY_INIT_OUTPUT", "-o", "lo",
                "-m", "comment", "--comment", "proxy-init/ignore-loopback", "-j", "RETURN");
        Run check = sidecar("iptables", "check", "--backend", backend, "--skip-outbound-ports", "25,443");
        assertThat(check.exit).isEqualTo(1);
        assertThat(check.out).contains("IPv4: nat table differs from the plan",
                "  - -A PROXY_INIT_OUTPUT -o lo -m comment --comment \"proxy-init/ignore-loopback\" -j RETURN",
                "IPv6: nat table matches the plan");

        Run remove = sidecar("iptables", "remove", "--backend", backend);
        assertThat(remove.exit).as(remove.err).isEqualTo(0);
        assertThat(lab.exec(ns, "iptables-" + backend + "-save", "-t", "nat")).doesNotContain("PROXY_INIT");
        assertThat(sidecar("iptables", "remove", "--backend", backend).out).startsWith("nothing to remove");
    }

    @Test
    void environmentVariablesSetDefaults() {
        Run install = run(List.of("env", "SIDECAR_OUTBOUND_PORT=5000", "SIDECAR_SKIP_INBOUND_PORTS=22,9000-9010",
                "SIDECAR_IPV6=false", "SIDECAR_BACKEND=legacy", JAVA, "-jar", JAR.toString(), "iptables", "install"));
        assertThat(install.exit).as(install.err).isEqualTo(0);
        String v4 = lab.exec(ns, "iptables-legacy-save", "-t", "nat");
        assertThat(v4).contains("-j REDIRECT --to-ports 5000", "--dports 22,9000:9010");
        assertThat(lab.exec(ns, "ip6tables-legacy-save", "-t", "nat")).doesNotContain("PROXY_INIT");
    }

    @Test
    void aFlagBeatsItsEnvironmentVariable() {
        Run show = run(List.of("env", "SIDECAR_IPV6=false", "SIDECAR_INBOUND_PORT=5000", JAVA, "-jar", JAR.toString(),
                "iptables", "show", "--output", "json", "--ipv6", "--inbound-port", "6000"));
        assertThat(show.exit).as(show.err).isEqualTo(0);
        assertThat(show.out).contains("\"ipv6\": true", "\"inboundPort\": 6000");
    }

    @Test
    void aBadEnvironmentValueNamesTheVariable() {
        Run install = run(List.of("env", "SIDECAR_SKIP_OUTBOUND_PORTS=25,70000", JAVA, "-jar", JAR.toString(), "iptables", "install"));
        assertThat(install.exit).isEqualTo(2);
        assertThat(install.firstErrLine()).isEqualTo("sidecar: Invalid value for option '--skip-outbound-ports' (PORT[,PORT...]): '70000':"
                + " port out of range (expected 1-65535) (from environment variable SIDECAR_SKIP_OUTBOUND_PORTS)");
        assertThat(lab.exec(ns, "iptables-nft-save")).isBlank();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SIDECAR_IPV6=", "SIDECAR_PROXY_UID=0", "SIDECAR_SKIP_INBOUND_PORTS=,"})
    void anEmptyOrRootEnvironmentValueIsExitTwoInOneLineAndInstallsNothing(String variable) {
        Run install = run(List.of("env", variable, JAVA, "-jar", JAR.toString(), "iptables", "install"));
        assertThat(install.exit).as(install.err).isEqualTo(2);
        assertThat(install.err.lines().toList()).singleElement().asString()
                .endsWith("(from environment variable " + variable.substring(0, variable.indexOf('=')) + ")");
        assertThat(lab.exec(ns, "iptables-nft-save")).isBlank();
        assertThat(lab.exec(ns, "iptables-legacy-save")).isBlank();
    }

    @Test
    void rootWithoutTheCapabilitiesToDropIsRefusedBeforeAnyRuleIsInstalled() {
        // A container running as uid 0 without CAP_SETUID: once the rules were in, the drop would fail.
        Run run = run(List.of("setpriv", "--bounding-set=-setuid,-setgid", JAVA, "-jar", JAR.toString(), "run",
                "--log-level", "error"));
        assertThat(run.exit).as(run.err).isEqualTo(5);
        assertThat(run.err.lines().toList()).singleElement().asString()
                .startsWith("sidecar: refusing to start: running as root without CAP_SETUID and CAP_SETGID");
        assertThat(lab.exec(ns, "iptables-nft-save")).isBlank();
        assertThat(lab.exec(ns, "iptables-legacy-save")).isBlank();
    }

    @Test
    void autoBackendFollowsRulesAlreadyInLegacy() {
        lab.exec(ns, "iptables-legacy", "-w", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT");
        Run install = sidecar("iptables", "install");
        assertThat(install.exit).as(install.err).isEqualTo(0);
        assertThat(install.err).contains("iptables backend: legacy (legacy already holds 1 rules in this namespace, nft 0)");
        assertThat(lab.exec(ns, "iptables-legacy-save", "-t", "nat")).contains("PROXY_INIT_OUTPUT");
        assertThat(lab.exec(ns, "iptables-nft-save")).doesNotContain("PROXY_INIT");
    }

    @Test
    void badValueIsExitTwoAndChangesNothing() {
        Run install = sidecar("iptables", "install", "--skip-outbound-subnets", "10.0.0.0/33");
        assertThat(install.exit).isEqualTo(2);
        assertThat(install.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--skip-outbound-subnets' (CIDR[,CIDR...]): '10.0.0.0/33': bad prefix length (expected 0-32)");
        assertThat(lab.exec(ns, "iptables-nft-save")).isBlank();
        assertThat(lab.exec(ns, "iptables-legacy-save")).isBlank();
    }

    @Test
    void notRootIsExitThreeWithWhatToDo() throws IOException {
        // uid 65534 must be able to read the jar wherever this checkout lives.
        Path dir = Files.createTempDirectory("sidecar-cli-it");
        try {
            Path jar = dir.resolve("sidecar.jar");
            Files.copy(JAR, jar);
            dir.toFile().setExecutable(true, false);
            dir.toFile().setReadable(true, false);
            jar.toFile().setReadable(true, false);
            Run install = run(List.of("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                    JAVA, "-jar", jar.toString(), "iptables", "install"));
            assertThat(install.exit).isEqualTo(3);
            assertThat(install.lastErrLine()).matches(
                    "sidecar: ip6?tables-(nft|legacy)-save: permission denied; iptables needs root or CAP_NET_ADMIN in this network namespace \\(run as root, or grant CAP_NET_ADMIN\\)");
        } finally {
            Files.deleteIfExists(dir.resolve("sidecar.jar"));
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void missingBinaryIsExitThreeWithWhatToDo() {
        Run install = run(List.of("env", "PATH=/nonexistent", JAVA, "-jar", JAR.toString(), "iptables", "install", "--backend", "nft"));
        assertThat(install.exit).isEqualTo(3);
        assertThat(install.lastErrLine()).isEqualTo(
                "sidecar: iptables-nft-save not found on PATH: install the iptables package (Debian: apt-get install iptables) or choose the other backend");
    }

    @Test
    void theLauncherRunsTheCliInsideANamespace() {
        Path launcher = Path.of("../bin/sidecar").toAbsolutePath().normalize();
        Run install = run(List.of(launcher.toString(), "iptables", "install", "--backend", "nft", "--no-ipv6"));
        assertThat(install.exit).as(install.err).isEqualTo(0);
        Run check = run(List.of(launcher.toString(), "iptables", "check", "--backend", "nft", "--no-ipv6"));
        assertThat(check.exit).as(check.err).isEqualTo(0);
        assertThat(check.out).isEqualTo("IPv4: nat table matches the plan\n");
    }

    @Test
    void theLauncherStagesAWorldReadableCopyAndKeepsOnlyTheNewestFour(@TempDir Path stage) throws IOException {
        Path launcher = Path.of("../bin/sidecar").toAbsolutePath().normalize();
        for (int i = 0; i < 5; i++) { // five earlier builds, oldest first, each with its archive
            Path old = Files.writeString(stage.resolve("sidecar-00000000000000a" + i + ".jar"), "old build");
            Path archive = Files.writeString(stage.resolve("sidecar-00000000000000a" + i + "-12345678.jsa"), "old archive");
            for (Path p : List.of(old, archive)) {
                Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofHours(10 - i))));
            }
        }
        Files.writeString(stage.resolve(".hash-0000000000000000"), "00000000000000a0\n");

        Run show = run(List.of("env", "SIDECAR_STAGE_DIR=" + stage, "SIDECAR_NO_CDS=1", launcher.toString(), "iptables", "show"));

        assertThat(show.exit).as(show.err).isEqualTo(0);
        String hash = sha256(JAR).substring(0, 16);
        Path staged = stage.resolve("sidecar-" + hash + ".jar");
        assertThat(staged).hasSameBinaryContentAs(JAR);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(staged))).isEqualTo("rw-r--r--");
        try (var files = Files.list(stage)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".hash-")))
                    .as("the newest four jars and their archives")
                    .containsExactlyInAnyOrder(staged.getFileName().toString(),
                            "sidecar-00000000000000a2.jar", "sidecar-00000000000000a2-12345678.jsa",
                            "sidecar-00000000000000a3.jar", "sidecar-00000000000000a3-12345678.jsa",
                            "sidecar-00000000000000a4.jar", "sidecar-00000000000000a4-12345678.jsa");
        }
        try (var notes = Files.list(stage)) {
            assertThat(notes.filter(f -> f.getFileName().toString().startsWith(".hash-")).map(SidecarCliIT::contents))
                    .as("the note of a pruned jar is gone; the new jar has one").containsExactly(hash + "\n");
        }
    }

    @Test
    void theLauncherMakesARootOwnedClassDataArchiveThatTheJvmMaps(@TempDir Path stage) throws IOException {
        Path launcher = Path.of("../bin/sidecar").toAbsolutePath().normalize();
        Run first = run(List.of("env", "SIDECAR_STAGE_DIR=" + stage, launcher.toString(), "iptables", "show"));
        assertThat(first.exit).as(first.err).isEqualTo(0);

        Path archive;
        try (var files = Files.list(stage)) {
            archive = files.filter(f -> f.toString().endsWith(".jsa")).findFirst().orElseThrow(
                    () -> new AssertionError("no archive made; launcher said: " + first.err));
        }
        // The training start installed its rules in a namespace of its own, never in the caller's.
        for (String save : List.of("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save")) {
            assertThat(lab.exec(ns, save, "-t", "nat")).as(save).doesNotContain("PROXY_INIT");
        }
        assertThat(Files.getOwner(archive).getName()).isEqualTo("root");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive))).isEqualTo("rw-r--r--");
        // -Xshare:on makes the JVM fail instead of silently running without an unusable archive.
        String jar = archive.toString().replaceFirst("-[0-9a-f]{8}\\.jsa$", ".jar");
        List<String> command = new ArrayList<>(List.of(JAVA));
        command.addAll(launcherJvmOptions());
        command.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:on", "-Xlog:class+load=info", "-Xlog:cds=info",
                "-jar", jar, "iptables", "show"));
        Run mapped = run(command);
        assertThat(mapped.exit).as(mapped.err).isEqualTo(0);
        assertThat(mapped.out).as("the sidecar's own classes come from the archive")
                .contains("dev.sidecar.proxy.cli.IptablesCommand source: shared objects file");
        // Any --add-opens (or --add-exports, ...) flag would turn this off, and cost every start ~15 ms.
        assertThat(mapped.out).contains("optimized module handling: enabled");

        // The training relayed a connection, so the classes only a relayed connection loads are in the
        // archive too, and the neighbour it relayed to is gone.
        assertThat(archivedClasses(archive, jar))
                .contains(" dev.sidecar.proxy.relay.BackendHandler app_loader", " dev.sidecar.proxy.relay.Relay app_loader");
        assertThat(run(List.of("pgrep", "-f", "198[.]18[.]0[.]2:7")).out).as("the training's echo server").isEmpty();
    }

    @Test
    void theImageBuildsTrainingMakesAnArchiveAndInstallsNoRulesInTheNamespaceItRunsIn(@TempDir Path dir) throws IOException {
        // As in the Dockerfile: a world-readable jar (the training drops to 2102), the image's flags.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.copy(JAR, dir.resolve("sidecar.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Path archive = dir.resolve("sidecar.jsa");
        String script = Path.of("../bin/sidecar-cds").toAbsolutePath().normalize().toString();

        Run made = run(List.of("bash", script, jar.toString(), archive.toString(),
                String.join(" ", launcherJvmOptions()), "--in-build"));

        assertThat(made.exit).as(made.err).isEqualTo(0);
        assertThat(archive).isNotEmptyFile();
        // Without rules it relays nothing, but it accepted (and refused) one connection of its own.
        assertThat(archivedClasses(archive, jar.toString())).contains(" dev.sidecar.proxy.relay.FrontendHandler app_loader");
        // Build mode trains in the namespace it is given, as root: it must leave no rule there.
        for (String save : List.of("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save")) {
            assertThat(lab.exec(ns, save)).as(save).doesNotContain("PROXY_INIT");
        }
        Run misspelt = run(List.of("bash", script, jar.toString(), archive.toString(), "", "--in-bild"));
        assertThat(misspelt.exit).isEqualTo(2);
        assertThat(misspelt.err).isEqualTo("sidecar-cds: unknown argument '--in-bild'\n");
    }

    @Test
    void theJarBindsSlf4jToOurProviderAloneAndNeitherSaysAWordAboutIt() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            JarEntry services = jar.getJarEntry("META-INF/services/org.slf4j.spi.SLF4JServiceProvider");
            assertThat(new String(jar.getInputStream(services).readAllBytes(), StandardCharsets.UTF_8).strip())
                    .isEqualTo(LogProvider.class.getName());
        }
        Run show = run(List.of(JAVA, "-jar", JAR.toString(), "iptables", "show"));
        assertThat(show.exit).as(show.err).isEqualTo(0);
        assertThat(show.err).as("no SLF4J or logback status lines").doesNotContain("SLF4J").doesNotContain("ch.qos.logback");
    }

    @Test
    void theLauncherGivesNettyDirectBuffersWithoutACleaner() throws Exception {
        // The jar's manifest opens java.nio to Netty (Add-Opens), as no flag of the launcher does.
        try (SidecarProcess sidecar = SidecarProcess.start(ns, "--no-iptables", "--log-level", "trace")) {
            assertThat(sidecar.log()).contains("java.nio.DirectByteBuffer.<init>(long, {int,long}): available");
        }
    }

    /** The flags bin/sidecar gives the JVM: docker/image/jvm.options without its comments. */
    /** The JVM's listing of the classes in {@code archive}, one per line ("N: NAME LOADER"), for the jar it was made from. */
    private String archivedClasses(Path archive, String jar) throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA));
        command.addAll(launcherJvmOptions());
        command.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-XX:+PrintSharedArchiveAndExit", "-cp", jar));
        Run listed = run(command);
        assertThat(listed.exit).as(listed.err).isEqualTo(0);
        return listed.out;
    }

    private static List<String> launcherJvmOptions() throws IOException {
        return Files.readAllLines(Path.of("../docker/image/jvm.options")).stream()
                .map(line -> line.replaceFirst("#.*", "").trim())
                .filter(line -> !line.isEmpty())
                .flatMap(line -> Arrays.stream(line.split("\\s+")))
                .toList();
    }

    private static String contents(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Run sidecar(String... args) {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString()));
        cmd.addAll(Arrays.asList(args));
        return run(cmd);
    }

    private Run run(List<String> command) {
        try {
            Process p = new ProcessBuilder(NetnsLab.inNs(ns, command.toArray(String[]::new))).start();
            p.getOutputStream().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            String out = read(p.getInputStream());
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            return new Run(p.exitValue(), out, err.join());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private record Run(int exit, String out, String err) {
        String firstErrLine() {
            return err.lines().findFirst().orElse("");
        }

        String lastErrLine() {
            List<String> lines = err.lines().toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        }
    }
}
