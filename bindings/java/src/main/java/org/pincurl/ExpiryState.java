package org.pincurl;

/** The state of an expiry (the policy's, or the effective one) when a validation ran. */
public enum ExpiryState {
    /** The policy has no expiry. */
    NONE(0),
    /** Not yet expired. */
    VALID(1),
    /** Expired at the time of the validation. */
    EXPIRED(2);

    private final int number;

    ExpiryState(int number) {
        this.number = number;
    }

    /** The C library's number for this state. */
    public int number() {
        return number;
    }

    /** The state with that number; EXPIRED for a number this binding lacks. */
    public static ExpiryState of(int number) {
        for (ExpiryState s : values()) {
            if (s.number == number) {
                return s;
            }
        }
        return EXPIRED;
    }
}
