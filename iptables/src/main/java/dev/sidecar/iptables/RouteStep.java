package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;

/**
 * One step of tproxy mode's policy routing, a plain value: the {@code ip rule} that sends packets
 * carrying {@link #MARK} to table {@link #TABLE}, or the route in that table that delivers every
 * such packet locally ({@code local default dev lo}). Every command line is derived from it, as
 * the argument list of {@code ip}; pure, so it is tested anywhere.
 *
 * <p>The values are Istio's (mark 1337, table 133), so an operator who knows Istio's TPROXY mode
 * recognises them; they are constants, not options.
 *
 * @param family which {@code ip} family ({@code -4} or {@code -6})
 * @param kind   the rule or the route
 */
public record RouteStep(IpFamily family, Kind kind) {
    /** The packet and connection mark of tproxy mode (1337). */
    public static final String MARK = "0x539";
    /** The routing table that marked packets are looked up in. */
    public static final int TABLE = 133;

    /** Which of the two steps. */
    public enum Kind { RULE, ROUTE }

    /** Both steps for one family, in the order they are added: the route first, so the rule never points at an empty table. */
    public static List<RouteStep> of(IpFamily family) {
        return List.of(new RouteStep(family, Kind.ROUTE), new RouteStep(family, Kind.RULE));
    }

    /** The arguments of {@code ip} that add this step. */
    public List<String> add() {
        return command("add");
    }

    /** The arguments of {@code ip} that delete this step (one copy of it). */
    public List<String> delete() {
        return command("del");
    }

    /** The arguments of {@code ip} that list what {@link #presentIn} looks for. */
    public List<String> show() {
        return kind == Kind.RULE
                ? List.of(flag(), "rule", "show")
                : List.of(flag(), "route", "show", "table", Integer.toString(TABLE));
    }

    /** How many copies of this step the output of {@link #show} holds. */
    public int countIn(String showOutput) {
        int n = 0;
        for (String raw : showOutput.split("\n")) {
            String line = raw.strip();
            if (kind == Kind.RULE ? line.endsWith("fwmark " + MARK + " lookup " + TABLE) : line.startsWith("local default dev lo ")
                    || line.equals("local default dev lo")) {
                n++;
            }
        }
        return n;
    }

    /** The command as a shell would spell it, e.g. {@code ip -4 rule add fwmark 0x539 lookup 133}. */
    public String addLine() {
        return "ip " + String.join(" ", add());
    }

    private List<String> command(String verb) {
        List<String> args = new ArrayList<>(List.of(flag()));
        if (kind == Kind.RULE) {
            args.addAll(List.of("rule", verb, "fwmark", MARK, "lookup", Integer.toString(TABLE)));
        } else {
            String all = family == IpFamily.IPV4 ? "0.0.0.0/0" : "::/0";
            args.addAll(List.of("route", verb, "local", all, "dev", "lo", "table", Integer.toString(TABLE)));
        }
        return List.copyOf(args);
    }

    private String flag() {
        return family == IpFamily.IPV4 ? "-4" : "-6";
    }
}
