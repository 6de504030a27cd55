package org.pincurl;

import java.io.IOException;
import java.io.OutputStream;

/** A response body streamed to an OutputStream, for the JNI write callback. */
final class BodySink {
    private final OutputStream out;
    private Exception failure;

    BodySink(OutputStream out) {
        this.out = out;
    }

    /** Writes data; false aborts the request. */
    boolean write(byte[] data) {
        try {
            out.write(data);
            return true;
        } catch (IOException | RuntimeException e) {
            failure = e;
            return false;
        }
    }

    /** Why the body was aborted, or null. */
    Exception failure() {
        return failure;
    }
}
