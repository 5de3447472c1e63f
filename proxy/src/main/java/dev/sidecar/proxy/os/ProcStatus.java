package dev.sidecar.proxy.os;

import java.util.Arrays;

/**
 * The identity fields of one {@code /proc/<pid>/task/<tid>/status} file: real, effective, saved
 * and filesystem uid and gid, supplementary groups, and the effective capability set. Pure, so it
 * is tested on literal file text.
 *
 * @param uids real, effective, saved, fs
 * @param gids real, effective, saved, fs
 * @param groups supplementary groups
 * @param capEff effective capabilities bit mask
 */
public record ProcStatus(long[] uids, long[] gids, long[] groups, long capEff) {

    /**
     * Parses the text of a status file.
     *
     * @throws IllegalArgumentException when a field is missing or malformed
     */
    public static ProcStatus parse(String text) {
        long[] uids = null, gids = null, groups = null;
        Long capEff = null;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).trim();
            switch (key) {
                case "Uid" -> uids = numbers(value, line);
                case "Gid" -> gids = numbers(value, line);
                case "Groups" -> groups = numbers(value, line);
                case "CapEff" -> capEff = Long.parseUnsignedLong(value, 16);
                default -> { }
            }
        }
        if (uids == null || uids.length != 4 || gids == null || gids.length != 4 || groups == null || capEff == null) {
            throw new IllegalArgumentException("status lacks Uid/Gid/Groups/CapEff lines");
        }
        return new ProcStatus(uids, gids, groups, capEff);
    }

    /** Null when every uid is {@code uid}, every gid is {@code gid}, no groups and no capability remain; else what is wrong. */
    public String mismatch(long uid, long gid) {
        if (Arrays.stream(uids).anyMatch(u -> u != uid)) {
            return "Uid " + Arrays.toString(uids) + ", want " + uid;
        }
        if (Arrays.stream(gids).anyMatch(g -> g != gid)) {
            return "Gid " + Arrays.toString(gids) + ", want " + gid;
        }
        if (groups.length != 0) {
            return "supplementary groups " + Arrays.toString(groups) + " remain";
        }
        if (capEff != 0) {
            return "CapEff " + Long.toHexString(capEff) + ", want 0";
        }
        return null;
    }

    private static long[] numbers(String value, String line) {
        if (value.isEmpty()) {
            return new long[0];
        }
        try {
            return Arrays.stream(value.split("\\s+")).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed status line: " + line, e);
        }
    }
}
