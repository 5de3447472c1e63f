package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code *nat} section of iptables-save output into a {@link NatState}. Comments,
 * counters ({@code [packets:bytes]} as printed by {@code -c}) and other tables are ignored; a dump
 * without a nat section (no table yet) gives an empty state.
 */
public final class SaveParser {
    private SaveParser() {}

    public static NatState parse(String saveText) {
        return parse(saveText, Chains.TABLE);
    }

    /** Reads the {@code *<table>} section, as {@link #parse(String)} does the nat one. */
    public static NatState parse(String saveText, String table) {
        Map<String, List<String>> chains = new LinkedHashMap<>();
        boolean inNat = false;
        for (String raw : saveText.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("*")) {
                inNat = line.equals("*" + table);
                continue;
            }
            if (!inNat) {
                continue;
            }
            if (line.equals("COMMIT")) {
                inNat = false;
            } else if (line.startsWith(":")) {
                int space = line.indexOf(' ');
                chains.putIfAbsent(space < 0 ? line.substring(1) : line.substring(1, space), new ArrayList<>());
            } else {
                addRule(chains, stripCounters(line), raw);
            }
        }
        return new NatState(chains);
    }

    private static void addRule(Map<String, List<String>> chains, String line, String raw) {
        if (!line.startsWith("-A ")) {
            throw new IllegalArgumentException("unexpected line in iptables-save output: " + raw);
        }
        int space = line.indexOf(' ', 3);
        String chain = space < 0 ? line.substring(3) : line.substring(3, space);
        String spec = space < 0 ? "" : line.substring(space + 1);
        chains.computeIfAbsent(chain, k -> new ArrayList<>()).add(spec);
    }

    private static String stripCounters(String line) {
        if (line.startsWith("[")) {
            int end = line.indexOf("] ");
            if (end > 0) {
                return line.substring(end + 2);
            }
        }
        return line;
    }
}
