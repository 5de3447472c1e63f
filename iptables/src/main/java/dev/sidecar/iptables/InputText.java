package dev.sidecar.iptables;

/**
 * The one rule for white space around option values: spaces and tabs around a value or a list
 * entry are dropped ({@code "22, 443"} is common in YAML); nothing else is, so a non-breaking
 * space, a newline or a control character is part of the value and makes it invalid.
 */
public final class InputText {
    private InputText() {}

    /** {@code text} without leading and trailing spaces and tabs. */
    public static String trim(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && isBlank(text.charAt(start))) {
            start++;
        }
        while (end > start && isBlank(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(start, end);
    }

    /**
     * A word value ({@code nft}, {@code json}, {@code TRUE}) trimmed and in lower case, folding
     * ASCII letters only: {@code equalsIgnoreCase} would also take the dotless {@code ı} for
     * {@code i} and the long {@code ſ} for {@code s}.
     */
    public static String word(String text) {
        StringBuilder out = new StringBuilder(trim(text));
        for (int i = 0; i < out.length(); i++) {
            char c = out.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                out.setCharAt(i, (char) (c + ('a' - 'A')));
            }
        }
        return out.toString();
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }
}
