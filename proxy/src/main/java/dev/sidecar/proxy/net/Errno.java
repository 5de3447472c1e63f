package dev.sidecar.proxy.net;

import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names for the errno values our native calls can return, for one-line error messages, and the
 * way back from the message of an exception that carries only the C library's text: Netty's
 * epoll transport reports a failed {@code connect} or {@code accept} as a plain
 * {@code ConnectException} or {@code IOException} whose message alone names the errno.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EACCES = 13;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOBUFS = 105;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETUNREACH = 101;
    public static final int ECONNRESET = 104;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;

    private static final Pattern NUMBERED = Pattern.compile("error\\(-(\\d{1,4})\\)");
    // glibc's strerror() texts, lower-cased; ENFILE's before EMFILE's, which it contains.
    private static final String[][] TEXTS = {
            {"operation not permitted", "1"},
            {"permission denied", "13"},
            {"too many open files in system", "23"},
            {"too many open files", "24"},
            {"cannot assign requested address", "99"},
            {"network is unreachable", "101"},
            {"connection reset by peer", "104"},
            {"no buffer space available", "105"},
            {"connection timed out", "110"},
            {"connection refused", "111"},
            {"no route to host", "113"},
    };

    private Errno() {}

    /** e.g. {@code "EPERM (1): operation not permitted"}. */
    public static String describe(int errno) {
        String name = switch (errno) {
            case 1 -> "EPERM: operation not permitted";
            case 2 -> "ENOENT: no such entry";
            case 9 -> "EBADF: bad file descriptor";
            case 13 -> "EACCES: permission denied";
            case 14 -> "EFAULT: bad address";
            case 22 -> "EINVAL: invalid argument";
            case 23 -> "ENFILE: too many open files in the system";
            case 24 -> "EMFILE: too many open files in this process";
            case 88 -> "ENOTSOCK: not a socket";
            case 92 -> "ENOPROTOOPT: protocol not available";
            case 99 -> "EADDRNOTAVAIL: cannot assign requested address";
            case 101 -> "ENETUNREACH: network is unreachable";
            case 104 -> "ECONNRESET: connection reset by peer";
            case 105 -> "ENOBUFS: no buffer space available";
            case 110 -> "ETIMEDOUT: connection timed out";
            case 111 -> "ECONNREFUSED: connection refused";
            case 113 -> "EHOSTUNREACH: no route to host";
            default -> "errno";
        };
        return name + " (" + errno + ")";
    }

    /**
     * The errno that {@code message} names: Netty 4.2 writes it as a number
     * ({@code "connect(..) failed with error(-99): Cannot assign requested address: /198.18.2.2:8080"}),
     * older texts only as {@code strerror}'s words; empty for any other text. "Too many open files
     * in system" is ENFILE, not EMFILE, although it starts alike.
     */
    public static OptionalInt fromMessage(String message) {
        if (message == null) {
            return OptionalInt.empty();
        }
        Matcher number = NUMBERED.matcher(message);
        if (number.find()) {
            return OptionalInt.of(Integer.parseInt(number.group(1)));
        }
        String m = message.toLowerCase(Locale.ROOT);
        for (String[] t : TEXTS) {
            if (m.contains(t[0])) {
                return OptionalInt.of(Integer.parseInt(t[1]));
            }
        }
        return OptionalInt.empty();
    }
}
