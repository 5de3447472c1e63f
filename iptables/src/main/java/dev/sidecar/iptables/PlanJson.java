package dev.sidecar.iptables;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The plan as JSON, for {@code sidecar iptables show --output json}: the effective settings and,
 * per family, every rule as fields and as its iptables-save line. Hand-written: the shape is small
 * and fixed, and the iptables module stays free of JSON libraries.
 */
public final class PlanJson {
    private PlanJson() {}

    public static String render(RedirectPlan plan) {
        RedirectConfig c = plan.config();
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"table\": ").append(str(Chains.TABLE)).append(",\n");
        sb.append("  \"config\": {\n");
        sb.append("    \"inboundPort\": ").append(c.inboundPort()).append(",\n");
        sb.append("    \"outboundPort\": ").append(c.outboundPort()).append(",\n");
        sb.append("    \"proxyUid\": ").append(c.proxyUid()).append(",\n");
        sb.append("    \"proxyGid\": ").append(c.proxyGid().isPresent() ? Integer.toString(c.proxyGid().getAsInt()) : "null").append(",\n");
        sb.append("    \"skipInboundPorts\": ").append(list(c.skipInboundPorts())).append(",\n");
        sb.append("    \"skipOutboundPorts\": ").append(list(c.skipOutboundPorts())).append(",\n");
        sb.append("    \"redirectInboundPorts\": ").append(c.redirectInboundPorts().isEmpty() ? str("all") : list(c.redirectInboundPorts())).append(",\n");
        sb.append("    \"skipInboundSubnets\": ").append(list(c.skipInboundSubnets())).append(",\n");
        sb.append("    \"skipOutboundSubnets\": ").append(list(c.skipOutboundSubnets())).append(",\n");
        sb.append("    \"ipv6\": ").append(c.ipv6()).append(",\n");
        boolean tproxy = c.inboundMode() == InboundMode.TPROXY;
        // Only tproxy mode names its mode, so the redirect plan's JSON stays as it always was.
        sb.append("    \"backend\": ").append(str(c.backend().toString())).append(tproxy ? ",\n" : "\n");
        if (tproxy) {
            sb.append("    \"inboundMode\": ").append(str(c.inboundMode().label())).append("\n");
        }
        sb.append("  },\n");
        sb.append("  \"families\": [");
        List<IpFamily> families = plan.families();
        for (int f = 0; f < families.size(); f++) {
            IpFamily family = families.get(f);
            sb.append(f == 0 ? "\n" : ",\n");
            sb.append("    {\n");
            sb.append("      \"family\": ").append(str(family.shortName())).append(",\n");
            sb.append("      \"restore\": ").append(str(family.binaryPrefix() + "-restore --noflush")).append(",\n");
            sb.append("      \"rules\": [");
            List<Rule> rules = plan.rules(family);
            for (int i = 0; i < rules.size(); i++) {
                Rule r = rules.get(i);
                sb.append(i == 0 ? "\n" : ",\n");
                sb.append("        {");
                if (!r.table().equals(Chains.TABLE)) {
                    sb.append("\"table\": ").append(str(r.table())).append(", ");
                }
                sb.append("\"chain\": ").append(str(r.chain()))
                        .append(", \"comment\": ").append(str(Chains.COMMENT_PREFIX + r.slug()))
                        .append(", \"matches\": ").append(str(r.matches()))
                        .append(", \"target\": ").append(str(r.target()))
                        .append(", \"line\": ").append(str(r.appendLine())).append('}');
            }
            sb.append("\n      ]");
            List<RouteStep> steps = plan.routing(family);
            if (!steps.isEmpty()) {
                sb.append(",\n      \"routing\": ").append(steps.stream().map(st -> str(st.addLine()))
                        .collect(Collectors.joining(", ", "[", "]")));
            }
            sb.append("\n    }");
        }
        sb.append("\n  ]\n}\n");
        return sb.toString();
    }

    private static String list(List<?> values) {
        return values.stream().map(v -> str(v.toString())).collect(Collectors.joining(", ", "[", "]"));
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
