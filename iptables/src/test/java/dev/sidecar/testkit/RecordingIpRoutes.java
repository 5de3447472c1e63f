package dev.sidecar.testkit;

import dev.sidecar.iptables.IpRoutes;
import dev.sidecar.iptables.IptablesCommandException;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link IpRoutes} that starts nothing: it keeps the rules and routes added as lines, answers
 * {@code show} from them the way {@code ip} prints them, and records every call in order
 * ({@code "ip -4 rule show"}). One verb can be made to fail, to test the undo paths.
 */
public final class RecordingIpRoutes implements IpRoutes {
    private final List<String> calls = new ArrayList<>();
    private final List<String> rules = new ArrayList<>();  // "-4 fwmark 0x539 lookup 133"
    private final List<String> routes = new ArrayList<>(); // "-4 133"
    private String failingCall;

    /** Makes the call spelled exactly {@code call} (e.g. {@code "ip -6 rule add fwmark 0x539 lookup 133"}) fail. */
    public RecordingIpRoutes failing(String call) {
        failingCall = call;
        return this;
    }

    /** Every call in order, as a shell would spell it. */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    /** The rules and routes now in place, e.g. {@code "-4 rule fwmark 0x539 lookup 133"}. */
    public List<String> state() {
        List<String> out = new ArrayList<>(routes);
        out.addAll(rules);
        return out;
    }

    @Override
    public String ip(List<String> args) {
        String call = "ip " + String.join(" ", args);
        calls.add(call);
        if (call.equals(failingCall)) {
            throw new IptablesCommandException(call, 2, "RTNETLINK answers: Operation not supported");
        }
        String family = args.get(0);
        String what = args.get(1);
        String verb = args.get(2);
        if (what.equals("rule")) {
            String key = family + " rule " + String.join(" ", args.subList(3, args.size()));
            return switch (verb) {
                case "show" -> String.join("\n", rules.stream().filter(r -> r.startsWith(family + " "))
                        .map(r -> "32765:\tfrom all " + r.substring(r.indexOf("rule ") + 5)).toList()) + "\n";
                case "add" -> { rules.add(key); yield ""; }
                case "del" -> { rules.remove(key); yield ""; }
                default -> throw new IllegalArgumentException(call);
            };
        }
        String key = family + " route table 133";
        return switch (verb) {
            case "show" -> {
                if (!routes.contains(key)) {
                    throw new IptablesCommandException(call, 2, "Error: ipv4: FIB table does not exist.\nDump terminated\n");
                }
                yield "local default dev lo scope host \n";
            }
            case "add" -> { routes.add(key); yield ""; }
            case "del" -> { routes.remove(key); yield ""; }
            default -> throw new IllegalArgumentException(call);
        };
    }
}
