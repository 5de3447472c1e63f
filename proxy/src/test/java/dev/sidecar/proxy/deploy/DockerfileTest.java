package dev.sidecar.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The top-level Dockerfile and its build context say what the README promises; docker/test.sh
 * builds and runs the image for real.
 */
class DockerfileTest {
    private final Path root = PodManifest.repoRoot();

    private List<String> dockerfile() throws IOException {
        return Files.readAllLines(root.resolve("Dockerfile")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
    }

    @Test
    void baseImageIsABuildArgumentDefaultingToAPublicJre17() throws IOException {
        List<String> lines = dockerfile();
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("ARG BASE=\\S*17\\S*jre\\S*"));
        assertThat(lines).filteredOn(l -> l.startsWith("FROM ")).containsExactly("FROM ${BASE}");
    }

    @Test
    void entrypointIsSidecarRun() throws IOException {
        assertThat(dockerfile()).filteredOn(l -> l.startsWith("ENTRYPOINT"))
                .containsExactly("ENTRYPOINT [\"/usr/local/bin/sidecar\", \"run\"]");
    }

    @Test
    void imageHoldsThePrebuiltJarAndTheLauncher() throws IOException {
        assertThat(dockerfile()).contains(
                "COPY proxy/target/sidecar.jar /opt/sidecar/sidecar.jar",
                "COPY docker/image/sidecar /usr/local/bin/sidecar");
    }

    @Test
    void exposesTheInboundAndAdminPortsButNotTheLoopbackOutboundPort() throws IOException {
        assertThat(dockerfile()).filteredOn(l -> l.startsWith("EXPOSE")).containsExactly("EXPOSE 4143 4191");
    }

    @Test
    void buildContextIsOnlyTheJarTheLauncherAndTheClassDataScript() throws IOException {
        List<String> patterns = Files.readAllLines(root.resolve(".dockerignore")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertThat(patterns).containsExactly("*", "!proxy/target/sidecar.jar", "!docker/image/", "!bin/sidecar-cds");
    }

    @Test
    void bothLaunchersReadTheOneJvmOptionsFileThatTheImageCopies() throws IOException {
        String image = Files.readString(root.resolve("docker/image/sidecar"));
        String bin = Files.readString(root.resolve("bin/sidecar"));
        assertThat(dockerfile()).contains("COPY docker/image/jvm.options /opt/sidecar/jvm.options");
        assertThat(image).contains("/opt/sidecar/jvm.options")
                .contains("exec java $SIDECAR_JAVA_OPTS $cds -jar /opt/sidecar/sidecar.jar \"$@\"");
        assertThat(bin).contains("\"$here/docker/image/jvm.options\"");
        assertThat(image).doesNotContain("-Xmx");
        assertThat(bin).doesNotContain("-Xmx");
    }

    @Test
    void theClassDataArchiveIsMadeWithTheImagesFlagsAndUsedOnlyWithThem() throws IOException {
        String image = Files.readString(root.resolve("docker/image/sidecar"));
        // The host's script (bin/sidecar-cds, as bin/sidecar runs it), in its build mode, with the image's flags.
        List<String> lines = dockerfile();
        assertThat(lines).contains("COPY bin/sidecar-cds /opt/sidecar/sidecar-cds");
        int run = indexOfFirst(lines, "RUN bash /opt/sidecar/sidecar-cds /opt/sidecar/sidecar.jar /opt/sidecar/sidecar.jsa");
        assertThat(run).isNotNegative();
        assertThat(lines.get(run + 1)).contains("/opt/sidecar/jvm.options").contains("--in-build");
        // Made after the modes are fixed: the training start drops to uid 2102 and reads the jar as it.
        assertThat(run).isGreaterThan(indexOfFirst(lines, "RUN find /opt/sidecar"));
        // Other flags would not match the archive: the launcher decides before it fills them in.
        assertThat(image.indexOf("if [ -z \"${SIDECAR_JAVA_OPTS:-}\" ] && [ -f /opt/sidecar/sidecar.jsa ]"))
                .isNotNegative().isLessThan(image.indexOf("done </opt/sidecar/jvm.options"));
        assertThat(image).contains("-XX:SharedArchiveFile=/opt/sidecar/sidecar.jsa");
    }

    private static int indexOfFirst(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void jvmOptionsFileHoldsOnlyFlagsThisJvmAccepts() throws Exception {
        List<String> flags = new ArrayList<>();
        for (String line : Files.readAllLines(root.resolve("docker/image/jvm.options"))) {
            String content = line.replaceAll("#.*", "").trim();
            if (!content.isEmpty()) {
                flags.addAll(List.of(content.split("\\s+")));
            }
        }
        assertThat(flags).contains("-XX:+UseSerialGC").allMatch(f -> f.startsWith("-"));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-version");
        Process java = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(java.getInputStream().readAllBytes());
        assertThat(java.waitFor()).as(out).isZero();
    }
}
