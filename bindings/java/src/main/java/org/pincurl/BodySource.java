package org.pincurl;

import java.io.IOException;
import java.io.InputStream;

/** A request body read from an InputStream, for the JNI read callback. */
final class BodySource {
    private final InputStream in;
    private IOException failure;
    private RuntimeException runtimeFailure;

    BodySource(InputStream in) {
        this.in = in;
    }

    /** Fills buffer with up to max bytes: the count, 0 at the end, -1 to abort. */
    int fill(byte[] buffer, int max) {
        try {
            int n;
            do {
                n = in.read(buffer, 0, max);
            } while (n == 0);
            return n < 0 ? 0 : n;
        } catch (IOException e) {
            failure = e;
            return -1;
        } catch (RuntimeException e) {
            runtimeFailure = e;
            return -1;
        }
    }

    /** Why the body was aborted, or null. */
    Exception failure() {
        return failure != null ? failure : runtimeFailure;
    }
}
