package dev.sidecar.proxy.admin;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4) for tests: every line
 * must be a HELP, a TYPE or a sample line, or parsing fails with the offending line.
 */
final class PrometheusText {

    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
    private static final String VALUE = "(?:[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)|[-+]?Inf|NaN)";
    private static final Pattern SAMPLE = Pattern.compile(
            "(" + NAME + ")(\\{(?:" + LABEL + "(?:," + LABEL + ")*,?)?\\})? (" + VALUE + ")(?: -?[0-9]+)?");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
    private static final Pattern TYPE = Pattern.compile(
            "# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");

    /** Sample key ({@code name{labels}} exactly as written) to value. */
    final Map<String, Double> samples = new LinkedHashMap<>();
    /** Family names that have a TYPE line. */
    final Set<String> families = new LinkedHashSet<>();

    private PrometheusText() {}

    static PrometheusText parse(String text) {
        PrometheusText parsed = new PrometheusText();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.isEmpty()) {
                continue;
            }
            Matcher type = TYPE.matcher(line);
            if (type.matches()) {
                parsed.families.add(type.group(1));
                continue;
            }
            if (HELP.matcher(line).matches()) {
                continue;
            }
            Matcher sample = SAMPLE.matcher(line);
            if (!sample.matches()) {
                throw new AssertionError("line " + lineNo + " is not Prometheus text: " + line);
            }
            String key = sample.group(1) + (sample.group(2) == null ? "" : sample.group(2));
            String v = sample.group(3);
            double value = v.endsWith("Inf") ? (v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                    : Double.parseDouble(v);
            if (parsed.samples.put(key, value) != null) {
                throw new AssertionError("line " + lineNo + " repeats a series: " + line);
            }
        }
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new AssertionError("exposition must end with a newline");
        }
        return parsed;
    }

    /** The value of one series; fails if it is absent. */
    double value(String key) {
        Double v = samples.get(key);
        if (v == null) {
            throw new AssertionError("no series " + key + " among " + samples.keySet().stream()
                    .filter(k -> k.startsWith(key.substring(0, Math.max(1, key.indexOf('{')))))
                    .toList());
        }
        return v;
    }
}
