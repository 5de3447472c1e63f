package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Comma-separated lists of option values ({@code 25,443,6000-6010}, {@code 10.0.0.0/8,2001:db8::/32}). */
final class CommaList {
    private CommaList() {}

    /**
     * Parses every entry with {@code one}. Text of only spaces and tabs means an empty list; an
     * empty entry ({@code "25,,443"}, {@code ","}) is an error, so a stray comma is never silent.
     */
    static <T> List<T> parse(String text, Function<String, T> one) {
        if (InputText.trim(text).isEmpty()) {
            return List.of();
        }
        List<T> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            if (InputText.trim(part).isEmpty()) {
                throw InvalidConfigException.ofValue(text, "empty entry in the list");
            }
            out.add(one.apply(part));
        }
        return List.copyOf(out);
    }
}
