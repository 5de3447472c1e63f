package dev.sidecar.proxy.net;

import java.util.List;
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

    /**
     * One errno: its number, how {@link #describe} names it, and glibc's {@code strerror()} text
     * (lower-cased; null when no message of ours carries it), from which {@link #fromMessage}
     * reads the number back.
     */
    private record Entry(int number, String name, String strerror) {}

    // ENFILE's text before EMFILE's, which it contains: fromMessage takes the first match.
    private static final List<Entry> TABLE = List.of(
            new Entry(EPERM, "EPERM: operation not permitted", "operation not permitted"),
            new Entry(2, "ENOENT: no such entry", null),
            new Entry(9, "EBADF: bad file descriptor", null),
            new Entry(EACCES, "EACCES: permission denied", "permission denied"),
            new Entry(14, "EFAULT: bad address", null),
            new Entry(22, "EINVAL: invalid argument", null),
            new Entry(ENFILE, "ENFILE: too many open files in the system", "too many open files in system"),
            new Entry(EMFILE, "EMFILE: too many open files in this process", "too many open files"),
            new Entry(88, "ENOTSOCK: not a socket", null),
            new Entry(92, "ENOPROTOOPT: protocol not available", null),
            new Entry(EADDRNOTAVAIL, "EADDRNOTAVAIL: cannot assign requested address", "cannot assign requested address"),
            new Entry(ENETUNREACH, "ENETUNREACH: network is unreachable", "network is unreachable"),
            new Entry(ECONNRESET, "ECONNRESET: connection reset by peer", "connection reset by peer"),
            new Entry(ENOBUFS, "ENOBUFS: no buffer space available", "no buffer space available"),
            new Entry(ETIMEDOUT, "ETIMEDOUT: connection timed out", "connection timed out"),
            new Entry(ECONNREFUSED, "ECONNREFUSED: connection refused", "connection refused"),
            new Entry(EHOSTUNREACH, "EHOSTUNREACH: no route to host", "no route to host"));

    private Errno() {}

    /** e.g. {@code "EPERM: operation not permitted (1)"}. */
    public static String describe(int errno) {
        String name = TABLE.stream().filter(e -> e.number == errno).map(Entry::name).findFirst().orElse("errno");
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
        for (Entry e : TABLE) {
            if (e.strerror != null && m.contains(e.strerror)) {
                return OptionalInt.of(e.number);
            }
        }
        return OptionalInt.empty();
    }
}
