package dev.sidecar.proxy.net;

/** Names for the errno values our native calls can return, for one-line error messages. */
public final class Errno {
    private Errno() {}

    /** e.g. {@code "EPERM (1): operation not permitted"}. */
    public static String describe(int errno) {
        String name = switch (errno) {
            case 1 -> "EPERM: operation not permitted";
            case 2 -> "ENOENT: no such entry";
            case 9 -> "EBADF: bad file descriptor";
            case 14 -> "EFAULT: bad address";
            case 22 -> "EINVAL: invalid argument";
            case 88 -> "ENOTSOCK: not a socket";
            case 92 -> "ENOPROTOOPT: protocol not available";
            default -> "errno";
        };
        return name + " (" + errno + ")";
    }
}
