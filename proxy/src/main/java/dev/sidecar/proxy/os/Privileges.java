package dev.sidecar.proxy.os;

import dev.sidecar.proxy.net.Errno;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
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
 * <p>In tproxy mode {@link #dropKeepingNetRaw} leaves CAP_NET_RAW, and nothing else, on the Netty
 * event loop threads, which make transparent sockets; every other thread ends with nothing.
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

        @SaveError
        int prctl(int option, long arg2, long arg3, long arg4, long arg5);

        @SaveError
        int capset(Pointer header, Pointer data);
    }

    /** Runs a task on each of a fixed set of threads and waits for all; the Netty event loops in tproxy mode. */
    public interface EveryThread {
        /** Runs {@code task} once on each thread; throws what a task threw. */
        void run(Runnable task);
    }

    /** Capability numbers, from {@code <linux/capability.h>}. */
    private static final int CAP_SETGID = 6, CAP_SETUID = 7;
    private static final int PR_SET_KEEPCAPS = 8;
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

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
        dropIds(uid, gid);
        verify(uid, gid);
    }

    private void dropIds(int uid, int gid) throws PrivilegeException {
        if (libc.setgroups(0, null) != 0) {
            throw new PrivilegeException("setgroups(0) failed: " + Errno.describe(runtime.getLastError()));
        }
        if (libc.setresgid(gid, gid, gid) != 0) {
            throw new PrivilegeException("setresgid(" + gid + ") failed: " + Errno.describe(runtime.getLastError()));
        }
        if (libc.setresuid(uid, uid, uid) != 0) {
            throw new PrivilegeException("setresuid(" + uid + ") failed: " + Errno.describe(runtime.getLastError()));
        }
    }

    /**
     * The drop of tproxy mode: as {@link #drop}, except that each thread of {@code loops} keeps
     * CAP_NET_RAW (effective and permitted) and nothing else, to make transparent sockets. The
     * keep-capabilities flag and the capability sets are per thread, while glibc's setresuid is
     * applied to every thread: so the loops set the flag, the whole process changes uid (the
     * loops keep their permitted set, every other thread loses everything), then the loops
     * narrow their sets to CAP_NET_RAW and clear the flag. {@code loops} must all have started
     * (running the first task starts them), or a thread started later by Netty would have nothing.
     *
     * @throws PrivilegeException naming the call that failed, or the thread that is not as expected
     */
    public void dropKeepingNetRaw(int uid, int gid, EveryThread loops) throws PrivilegeException {
        List<Long> loopTids = new CopyOnWriteArrayList<>();
        String failed = onEach(loops, () -> {
            loopTids.add(threadId());
            return libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0 ? null
                    : "prctl(PR_SET_KEEPCAPS, 1) failed: " + Errno.describe(runtime.getLastError());
        });
        if (failed == null) {
            try {
                dropIds(uid, gid);
            } catch (PrivilegeException e) {
                failed = e.getMessage();
            }
        }
        if (failed == null) {
            failed = onEach(loops, () -> {
                String narrowed = keepOnly(1L << ProcStatus.CAP_NET_RAW);
                int rc = libc.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
                return narrowed != null ? narrowed : rc == 0 ? null
                        : "prctl(PR_SET_KEEPCAPS, 0) failed: " + Errno.describe(runtime.getLastError());
            });
        }
        if (failed != null) {
            throw new PrivilegeException(failed);
        }
        verify(uid, gid, 1L << ProcStatus.CAP_NET_RAW, loopTids);
    }

    private String onEach(EveryThread loops, java.util.function.Supplier<String> step) {
        List<String> errors = new CopyOnWriteArrayList<>();
        loops.run(() -> {
            String e = step.get();
            if (e != null) {
                errors.add(e);
            }
        });
        return errors.isEmpty() ? null : errors.get(0);
    }

    /** capset on the calling thread: effective and permitted exactly {@code caps} (bits below 32), nothing inheritable. */
    private String keepOnly(long caps) {
        Pointer header = Memory.allocateDirect(runtime, 8);
        header.putInt(0, LINUX_CAPABILITY_VERSION_3);
        header.putInt(4, 0); // this thread
        Pointer data = Memory.allocateDirect(runtime, 24); // two {effective, permitted, inheritable}
        for (int i = 0; i < 6; i++) {
            data.putInt(4L * i, 0);
        }
        data.putInt(0, (int) caps);
        data.putInt(4, (int) caps);
        return libc.capset(header, data) == 0 ? null : "capset(CAP_NET_RAW) failed: " + Errno.describe(runtime.getLastError());
    }

    /** The kernel's id of the calling thread, from {@code /proc/thread-self} ({@code <pid>/task/<tid>}). */
    private static long threadId() {
        try {
            return Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Checks every thread as {@link #verify(int, int)} does, except that a thread may hold exactly
     * {@code allowed} (effective and permitted), and the threads {@code holders} must.
     */
    public void verify(int uid, int gid, long allowed, List<Long> holders) throws PrivilegeException {
        int[] holding = {0};
        int checked = checkEveryThread((tid, status) -> {
            boolean holder = holders.contains(tid);
            holding[0] += holder ? 1 : 0;
            String wrong = status.mismatch(uid, gid, allowed, holder);
            return wrong == null ? null : (holder ? "(event loop) " : "") + "is not as expected: " + wrong;
        });
        if (checked == 0 || holding[0] != holders.size()) {
            throw new PrivilegeException("found " + holding[0] + " of " + holders.size() + " event loop threads in " + tasks);
        }
    }

    /**
     * Checks that every thread of this process has all uids {@code uid}, all gids {@code gid}, no
     * supplementary group and no effective capability.
     *
     * @throws PrivilegeException naming the first thread that does not
     */
    public void verify(int uid, int gid) throws PrivilegeException {
        int checked = checkEveryThread((tid, status) -> {
            String wrong = status.mismatch(uid, gid);
            return wrong == null ? null : "kept privileges: " + wrong;
        });
        if (checked == 0) {
            throw new PrivilegeException("no thread found in " + tasks);
        }
    }

    /** What is wrong with one thread (by its kernel id) according to its status, or null. */
    private interface ThreadCheck {
        String wrong(long tid, ProcStatus status);
    }

    /**
     * Applies {@code check} to every thread in {@code /proc/self/task} (threads that end meanwhile
     * are skipped) and returns how many it checked.
     *
     * @throws PrivilegeException "thread TID ..." with the first complaint, or when the directory cannot be read
     */
    private int checkEveryThread(ThreadCheck check) throws PrivilegeException {
        int checked = 0;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
            for (Path task : dir) {
                String text;
                try {
                    text = Files.readString(task.resolve("status"), StandardCharsets.UTF_8);
                } catch (NoSuchFileException threadEnded) {
                    continue;
                }
                String wrong = check.wrong(Long.parseLong(task.getFileName().toString()), ProcStatus.parse(text));
                if (wrong != null) {
                    throw new PrivilegeException("thread " + task.getFileName() + " " + wrong);
                }
                checked++;
            }
        } catch (IOException e) {
            throw new PrivilegeException("cannot read " + tasks + ": " + e.getMessage());
        }
        return checked;
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
        checkCanDrop(uid, gid, false);
    }

    /**
     * As {@link #checkCanDrop(int, int)}; with {@code keepNetRaw} (tproxy mode) root also needs
     * CAP_NET_RAW, which the event loops keep after the drop ({@link #dropKeepingNetRaw}).
     */
    public static void checkCanDrop(int uid, int gid, boolean keepNetRaw) throws PrivilegeException {
        ProcStatus self;
        try {
            self = ProcStatus.parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException | IllegalArgumentException e) {
            return;
        }
        long needed = (1L << CAP_SETGID) | (1L << CAP_SETUID);
        if (keepNetRaw && self.uids()[1] == 0 && (self.capEff() & (1L << ProcStatus.CAP_NET_RAW)) == 0) {
            throw new PrivilegeException("refusing to start: tproxy mode keeps CAP_NET_RAW for transparent sockets after the drop"
                    + " to uid " + uid + ", and this process does not have it; grant CAP_NET_RAW, or use --inbound-mode redirect");
        }
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
