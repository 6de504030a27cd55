package org.pincurl;

/** Library-wide facts. */
public final class Pincurl {
    private Pincurl() {
    }

    /** The version of the native library, "MAJOR.MINOR.PATCH". */
    public static String version() {
        return PincurlNative.pincurl_version();
    }

    /** The version of the headers the binding was generated from. */
    public static String bindingVersion() {
        return PincurlNativeConstants.PINCURL_VERSION_STRING;
    }
}
