package dev.sidecar.proxy.os;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verification against fake /proc task directories; the real drop is proven by SidecarRunIT. */
class PrivilegesTest {
    private static final String DROPPED = "Uid:\t2102\t2102\t2102\t2102\nGid:\t2102\t2102\t2102\t2102\nGroups:\t\nCapEff:\t0000000000000000\n";

    @TempDir Path tasks;

    @Test
    void verifyPassesWhenEveryThreadDropped() throws Exception {
        task("100", DROPPED);
        task("101", DROPPED);

        assertThatCode(() -> new Privileges(tasks).verify(2102, 2102)).doesNotThrowAnyException();
    }

    @Test
    void verifyNamesTheThreadThatKeptRoot() throws Exception {
        task("100", DROPPED);
        task("101", DROPPED.replace("Uid:\t2102\t2102\t2102\t2102", "Uid:\t0\t0\t0\t0"));

        assertThatThrownBy(() -> new Privileges(tasks).verify(2102, 2102))
                .isInstanceOf(Privileges.PrivilegeException.class)
                .hasMessage("thread 101 kept privileges: Uid [0, 0, 0, 0], want 2102");
    }

    @Test
    void verifyRefusesWhenNoThreadCanBeRead() {
        assertThatThrownBy(() -> new Privileges(tasks).verify(2102, 2102)).hasMessageStartingWith("no thread found in ");
    }

    @Test
    void theTestJvmItselfIsNotDropped() {
        // Run as root in CI and as a user elsewhere: either way uid 2102 is not what this JVM has.
        assertThatThrownBy(() -> new Privileges().verify(2102, 2102)).hasMessageContaining("kept privileges");
    }

    private void task(String tid, String status) throws Exception {
        Files.createDirectories(tasks.resolve(tid));
        Files.writeString(tasks.resolve(tid).resolve("status"), status);
    }
}
