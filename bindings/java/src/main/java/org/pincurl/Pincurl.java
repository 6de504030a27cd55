package org.pincurl;

/** Library-wide facts. */
public final class Pincurl {
    /** PINCURL_FEATURE_* bits of {@link #httpFeatures()}. */
    public static final int FEATURE_HTTP2 = 0x01;
    public static final int FEATURE_IPV6 = 0x02;
    public static final int FEATURE_GZIP = 0x04;
    public static final int FEATURE_BROTLI = 0x08;
    public static final int FEATURE_ZSTD = 0x10;
    public static final int FEATURE_CA_PATH = 0x20;

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

    /** libcurl's version line ("libcurl/8.14.1 wolfSSL/5.7.2 ..."). */
    public static String httpLibrary() {
        return PincurlNative.pincurl_http_library();
    }

    /** The FEATURE_* bits of the libcurl in use. */
    public static int httpFeatures() {
        return (int) PincurlNative.pincurl_http_features();
    }

    /** How the native library was built and what it runs on: "flavour backend libcurl TLS
     * library", e.g. "bundled wolfssl 8.14.1 wolfSSL/5.7.2". */
    public static String runtime() {
        pincurl_runtime_info r = PincurlNative.pincurl_runtime();
        return r.getFlavour() + " " + r.getBackend() + " " + r.getLibcurl_version() + " "
            + r.getTls_library() + (r.getHttp2() != 0 ? " http2" : "")
            + (r.getBackend_ok() != 0 ? "" : " (backend mismatch: expected "
                                             + r.getBackend_expected() + ")");
    }

    /**
     * Frees what the TLS library keeps for the calling thread. The binding calls it by
     * itself when a thread that made requests ends; call it only to free that memory
     * earlier on a thread that lives on. Safe on any thread, any number of times.
     */
    public static void threadCleanup() {
        PincurlNative.pincurl_thread_cleanup();
    }
}
