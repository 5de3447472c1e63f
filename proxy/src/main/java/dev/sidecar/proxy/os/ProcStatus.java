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
 * @param capPrm permitted capabilities, -1 when the file has no such line
 * @param capInh inheritable capabilities, -1 when absent
 * @param capAmb ambient capabilities, -1 when absent
 */
public record ProcStatus(long[] uids, long[] gids, long[] groups, long capEff, long capPrm, long capInh, long capAmb) {

    /** CAP_NET_RAW, from {@code <linux/capability.h>}: what tproxy mode's event loops keep. */
    public static final int CAP_NET_RAW = 13;

    /** A status with only the effective set known. */
    public ProcStatus(long[] uids, long[] gids, long[] groups, long capEff) {
        this(uids, gids, groups, capEff, -1, -1, -1);
    }

    /**
     * Parses the text of a status file.
     *
     * @throws IllegalArgumentException when a field is missing or malformed
     */
    public static ProcStatus parse(String text) {
        long[] uids = null, gids = null, groups = null;
        Long capEff = null;
        long capPrm = -1, capInh = -1, capAmb = -1;
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
                case "CapPrm" -> capPrm = Long.parseUnsignedLong(value, 16);
                case "CapInh" -> capInh = Long.parseUnsignedLong(value, 16);
                case "CapAmb" -> capAmb = Long.parseUnsignedLong(value, 16);
                default -> { }
            }
        }
        if (uids == null || uids.length != 4 || gids == null || gids.length != 4 || groups == null || capEff == null) {
            throw new IllegalArgumentException("status lacks Uid/Gid/Groups/CapEff lines");
        }
        return new ProcStatus(uids, gids, groups, capEff, capPrm, capInh, capAmb);
    }

    /**
     * As {@link #mismatch(long, long)}, but the thread may hold exactly {@code allowed} as its
     * effective and permitted sets (or nothing), and must hold it when {@code required}; inheritable
     * and ambient sets must be empty. For tproxy mode, where the event loops keep CAP_NET_RAW.
     */
    public String mismatch(long uid, long gid, long allowed, boolean required) {
        String ids = mismatchOfIds(uid, gid);
        if (ids != null) {
            return ids;
        }
        if (capPrm < 0 || capInh < 0 || capAmb < 0) {
            return "status lacks CapPrm/CapInh/CapAmb lines";
        }
        if (capInh != 0 || capAmb != 0) {
            return "CapInh " + Long.toHexString(capInh) + " CapAmb " + Long.toHexString(capAmb) + ", want 0";
        }
        for (long set : new long[] {capEff, capPrm}) {
            if (set != 0 && set != allowed || required && set != allowed) {
                return "CapEff " + Long.toHexString(capEff) + " CapPrm " + Long.toHexString(capPrm) + ", want "
                        + (required ? "" : "0 or ") + Long.toHexString(allowed);
            }
        }
        return null;
    }

    /** Null when every uid is {@code uid}, every gid is {@code gid}, no groups and no capability remain; else what is wrong. */
    public String mismatch(long uid, long gid) {
        String ids = mismatchOfIds(uid, gid);
        if (ids != null) {
            return ids;
        }
        if (capEff != 0) {
            return "CapEff " + Long.toHexString(capEff) + ", want 0";
        }
        return null;
    }

    private String mismatchOfIds(long uid, long gid) {
        if (Arrays.stream(uids).anyMatch(u -> u != uid)) {
            return "Uid " + Arrays.toString(uids) + ", want " + uid;
        }
        if (Arrays.stream(gids).anyMatch(g -> g != gid)) {
            return "Gid " + Arrays.toString(gids) + ", want " + gid;
        }
        if (groups.length != 0) {
            return "supplementary groups " + Arrays.toString(groups) + " remain";
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
