package org.pincurl;

/** Kinds of client event (the C library's numbers; new kinds are appended). */
public enum EventKind {
    /** A host the policy names was validated: one event per TLS handshake. */
    VALIDATION(0),
    /** The leaf of a host:port differs from the one seen there last. */
    CERT_CHANGED(1),
    /** The policy expires within 30 days. */
    POLICY_EXPIRING(2),
    /** The leaf of the validated path expires within 14 days. */
    LEAF_EXPIRING(3),
    /** {@link Client#setPolicy(Policy)} put a new generation in force. */
    POLICY_CHANGED(4),
    /** A failure report was written to the spool, or could not be (see the status). */
    REPORT_QUEUED(5),
    /** The spool was full: its oldest report was dropped. */
    REPORT_DROPPED(6),
    /** A collector acknowledged a report. */
    REPORT_SENT(7),
    /** A signed policy update was verified and applied. */
    UPDATE_APPLIED(8),
    /** A signed policy update was rejected; the policy in force is unchanged. */
    UPDATE_REJECTED(9),
    /** The stored update was damaged or expired: the base policy is back in force. */
    UPDATE_BASE_RESTORED(10),
    /** A file in the report spool could not be read and was set aside. */
    REPORT_SET_ASIDE(11),
    /** A kind this version of the binding does not know. */
    UNKNOWN(-1);

    private final int number;

    EventKind(int number) {
        this.number = number;
    }

    /** The C library's number for this kind (-1 for UNKNOWN). */
    public int number() {
        return number;
    }

    /** The kind with that number, or UNKNOWN. */
    public static EventKind of(int number) {
        for (EventKind k : values()) {
            if (k.number == number && number >= 0) {
                return k;
            }
        }
        return UNKNOWN;
    }
}
