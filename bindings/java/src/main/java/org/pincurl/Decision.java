package org.pincurl;

/** Whether a connection was let through. */
public enum Decision {
    /** The connection was refused. */
    BLOCK(0),
    /** The connection was allowed (pin matched, report-only, or not pinned). */
    ALLOW(1);

    private final int number;

    Decision(int number) {
        this.number = number;
    }

    /** The C library's number for this decision. */
    public int number() {
        return number;
    }

    /** ALLOW for the C library's allow number, BLOCK for anything else. */
    public static Decision of(int number) {
        return number == ALLOW.number ? ALLOW : BLOCK;
    }
}
