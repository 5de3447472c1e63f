package dev.sidecar.proxy.os;

import jnr.ffi.LibraryLoader;

/**
 * glibc's own heap, where the JVM's native allocations and Netty's direct buffers live. Memory they
 * free goes back to malloc's free lists, not to the kernel: glibc returns only the top of its heap
 * by itself, so pages freed in the middle stay resident until {@code malloc_trim} hands them back
 * ({@code madvise(MADV_DONTNEED)} on each free page of every arena).
 */
public final class NativeHeap {
    /** The one libc function this class needs. */
    public interface LibC {
        int malloc_trim(long pad);
    }

    private NativeHeap() {}

    /**
     * Gives free native memory back to the kernel; false when nothing could be returned or this
     * libc has no {@code malloc_trim} (musl), which is harmless.
     */
    public static boolean trim() {
        try {
            return Holder.LIBC.malloc_trim(0) == 1;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    /** Loaded on first use: only a process that has had a burst pays for the binding. */
    private static final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).failImmediately().load("c");
    }
}
