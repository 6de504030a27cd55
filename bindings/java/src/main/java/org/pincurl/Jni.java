package org.pincurl;

import java.nio.charset.StandardCharsets;

/** Strings across the bridge: UTF-8 bytes both ways, never JNI's modified UTF-8. */
final class Jni {
    private Jni() {
    }

    /** s as NUL-terminated UTF-8, or null for null. A string holding NUL is refused. */
    static byte[] cstr(String s) {
        if (s == null) {
            return null;
        }
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("string contains a NUL character");
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, out, 0, utf8.length);
        return out;
    }

    /** UTF-8 bytes without a terminator (for the (pointer, length) parameters). */
    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A C string's bytes decoded as UTF-8 (malformed bytes become U+FFFD), or null. */
    static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
