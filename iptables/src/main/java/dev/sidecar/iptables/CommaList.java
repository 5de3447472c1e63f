package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Comma-separated lists of option values ({@code 25,443,6000-6010}, {@code 10.0.0.0/8,2001:db8::/32}). */
final class CommaList {
    private CommaList() {}

    /** Parses every entry with {@code one}; blank text means an empty list, a blank entry is an error. */
    static <T> List<T> parse(String text, Function<String, T> one) {
        if (text.isBlank()) {
            return List.of();
        }
        List<T> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            if (part.isBlank()) {
                throw InvalidConfigException.ofValue(text, "empty entry in the list");
            }
            out.add(one.apply(part));
        }
        return List.copyOf(out);
    }
}
