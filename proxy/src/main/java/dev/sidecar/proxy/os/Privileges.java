package dev.sidecar.proxy.os;

import dev.sidecar.proxy.net.Errno;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * Drops the whole process from root to the proxy's uid and gid, and proves it did. The only other
 * class (besides the socket-option edges in {@code net}) that calls libc.
 *
 * <p>Order matters: supplementary groups first and the gid next, while we still have the right to
 * change them, and the uid last; once every uid is non-zero the kernel clears the permitted and
 * effective capability sets. glibc applies each of these calls to every thread of the process
 * (it signals the other threads to repeat the system call), which {@link #verify} checks thread by
 * thread from {@code /proc/self/task}.
 *
 * <p>Native libraries are extracted to a temporary directory and loaded from there. Creating an
 * instance loads libc through jnr-ffi; the caller must also have loaded Netty's native transport library (by
 * creating the listeners) before {@link #drop}: afterwards the files root extracted may not be
 * readable any more.
 */
public final class Privileges {

    /** The libc functions this class needs. */
    public interface LibC {
        @SaveError
        int setgroups(long size, Pointer list);

        @SaveError
        int setresgid(int rgid, int egid, int sgid);

        @SaveError
        int setresuid(int ruid, int euid, int suid);

        int geteuid();
    }

    /** Capability numbers, from {@code <linux/capability.h>}. */
    private static final int CAP_SETGID = 6, CAP_SETUID = 7;

    private final LibC libc;
    private final Runtime runtime;
    private final Path tasks;

    /** Loads libc now. */
    public Privileges() {
        this(Path.of("/proc/self/task"));
    }

    Privileges(Path tasks) {
        this.libc = LibraryLoader.create(LibC.class).load("c");
        this.runtime = Runtime.getRuntime(libc);
        this.tasks = tasks;
    }

    /** Whether the process runs as root (effective uid 0) and so has something to drop. */
    public boolean isRoot() {
        return libc.geteuid() == 0;
    }

    /**
     * Clears supplementary groups, then sets every gid and every uid, then verifies all threads.
     *
     * @throws PrivilegeException naming the call that failed, or the thread that kept privileges
     */
    public void drop(int uid, int gid) throws PrivilegeException {
        if (libc.setgroups(0, null) != 0) {
            throw new PrivilegeException("setgroups(0) failed: " + Errno.describe(runtime.getLastError()));
        }
        if (libc.setresgid(gid, gid, gid) != 0) {
            throw new PrivilegeException("setresgid(" + gid + ") failed: " + Errno.describe(runtime.getLastError()));
        }
        if (libc.setresuid(uid, uid, uid) != 0) {
            throw new PrivilegeException("setresuid(" + uid + ") failed: " + Errno.describe(runtime.getLastError()));
        }
        verify(uid, gid);
    }

    /**
     * Checks that every thread of this process has all uids {@code uid}, all gids {@code gid}, no
     * supplementary group and no effective capability.
     *
     * @throws PrivilegeException naming the first thread that does not
     */
    public void verify(int uid, int gid) throws PrivilegeException {
        int checked = 0;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
            for (Path task : dir) {
                String text;
                try {
                    text = Files.readString(task.resolve("status"), StandardCharsets.UTF_8);
                } catch (NoSuchFileException threadEnded) {
                    continue;
                }
                String wrong = ProcStatus.parse(text).mismatch(uid, gid);
                if (wrong != null) {
                    throw new PrivilegeException("thread " + task.getFileName() + " kept privileges: " + wrong);
                }
                checked++;
            }
        } catch (IOException e) {
            throw new PrivilegeException("cannot read " + tasks + ": " + e.getMessage());
        }
        if (checked == 0) {
            throw new PrivilegeException("no thread found in " + tasks);
        }
    }

    /**
     * Whether {@link #drop} can work, checked before anything is changed: as root, the process
     * needs CAP_SETUID and CAP_SETGID (a container may run as uid 0 without them). Without this
     * check, the rules would be installed and the drop would then fail, leaving them behind with no
     * proxy. Not root, or no {@code /proc} to read: nothing to check here ({@link #drop} verifies).
     *
     * @throws PrivilegeException saying what is missing and what to do instead
     */
    public static void checkCanDrop(int uid, int gid) throws PrivilegeException {
        ProcStatus self;
        try {
            self = ProcStatus.parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException | IllegalArgumentException e) {
            return;
        }
        long needed = (1L << CAP_SETGID) | (1L << CAP_SETUID);
        if (self.uids()[1] == 0 && (self.capEff() & needed) != needed) {
            throw new PrivilegeException("refusing to start: running as root without CAP_SETUID and CAP_SETGID, so the drop to uid "
                    + uid + " gid " + gid + " would fail after the rules are installed; grant both capabilities,"
                    + " or install the rules elsewhere and start as uid " + uid + " with --no-iptables");
        }
    }

    /** The privilege drop failed or could not be proven; the proxy must not serve. */
    public static final class PrivilegeException extends Exception {
        public PrivilegeException(String message) {
            super(message);
        }
    }
}
