package org.pincurl;

/** The result of a pin validation (TrustKit's numbers where they overlap; stable). */
public enum Result {
    /** A pin matched a key of the validated path. */
    SUCCESS(0),
    /** No pin matched. */
    PIN_MISMATCH(1),
    /** Certificate validation built no path. */
    INVALID_CHAIN(2),
    /** Bad input to the evaluation. */
    INVALID_PARAMETERS(3),
    /** A path certificate's public key could not be hashed. */
    SPKI_ERROR(5),
    /** No policy entry applies to the host, or it is excluded. */
    NOT_PINNED(6),
    /** The policy expired and says to block. */
    POLICY_EXPIRED(7);

    private final int number;

    Result(int number) {
        this.number = number;
    }

    /** The C library's number for this result. */
    public int number() {
        return number;
    }

    /** The result with that number; INVALID_PARAMETERS for a number this binding lacks. */
    public static Result of(int number) {
        for (Result r : values()) {
            if (r.number == number) {
                return r;
            }
        }
        return INVALID_PARAMETERS;
    }
}
