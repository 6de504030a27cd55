package org.pincurl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A client's options: immutable, made with {@link #builder()}. Unset options keep the C
 * library's defaults (client.h documents them). The native options object exists only
 * while {@link Client#create(Policy, Options)} runs.
 */
public final class Options {
    private final String caFile;
    private final long connectTimeoutMs;
    private final long timeoutMs;
    private final String userAgent;
    private final String proxy;
    private final List<String> resolve;
    private final long maxRedirects;
    private final long maxBodyBytes;
    private final String pinnedPublicKey;
    private final ValidationListener listener;
    private final String[] appInfo;
    private final String spoolDir;
    private final long spoolMaxReports;
    private final long spoolMaxBytes;

    private Options(Builder b) {
        this.caFile = b.caFile;
        this.connectTimeoutMs = b.connectTimeoutMs;
        this.timeoutMs = b.timeoutMs;
        this.userAgent = b.userAgent;
        this.proxy = b.proxy;
        this.resolve = Collections.unmodifiableList(new ArrayList<>(b.resolve));
        this.maxRedirects = b.maxRedirects;
        this.maxBodyBytes = b.maxBodyBytes;
        this.pinnedPublicKey = b.pinnedPublicKey;
        this.listener = b.listener;
        this.appInfo = b.appInfo != null ? b.appInfo.clone() : null;
        this.spoolDir = b.spoolDir;
        this.spoolMaxReports = b.spoolMaxReports;
        this.spoolMaxBytes = b.spoolMaxBytes;
    }

    /** The defaults. */
    public static Options defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    ValidationListener listener() {
        return listener;
    }

    /** Fills a native options object. */
    void apply(SWIGTYPE_p_pincurl_options o) throws PincurlException {
        if (caFile != null) {
            check(PincurlNative.pincurl_options_set_ca_file(o, caFile), "CA file");
        }
        if (connectTimeoutMs >= 0) {
            check(PincurlNative.pincurl_options_set_connect_timeout_ms(o, connectTimeoutMs),
                  "connect timeout");
        }
        if (timeoutMs >= 0) {
            check(PincurlNative.pincurl_options_set_timeout_ms(o, timeoutMs), "timeout");
        }
        if (userAgent != null) {
            check(PincurlNative.pincurl_options_set_user_agent(o, userAgent), "user agent");
        }
        if (proxy != null) {
            check(PincurlNative.pincurl_options_set_proxy(o, proxy), "proxy");
        }
        for (String entry : resolve) {
            check(PincurlNative.pincurl_options_add_resolve(o, entry), "resolve " + entry);
        }
        if (maxRedirects >= 0) {
            check(PincurlNative.pincurl_options_set_max_redirects(o, maxRedirects),
                  "max redirects");
        }
        if (maxBodyBytes >= 0) {
            check(PincurlNative.pincurl_options_set_max_body_bytes(o, maxBodyBytes),
                  "max body bytes");
        }
        if (pinnedPublicKey != null) {
            check(PincurlNative.pincurl_options_set_pinned_public_key(o, pinnedPublicKey),
                  "pinned public key");
        }
        if (appInfo != null) {
            check(PincurlNative.pincurl_options_set_app_info(o, appInfo[0], appInfo[1],
                                                             appInfo[2], appInfo[3],
                                                             appInfo[4]), "app info");
        }
        if (spoolDir != null) {
            check(PincurlNative.pincurl_options_set_spool_dir(o, spoolDir), "spool dir");
        }
        if (spoolMaxReports >= 0 || spoolMaxBytes >= 0) {
            check(PincurlNative.pincurl_options_set_spool_limits(o, Math.max(spoolMaxReports, 0),
                                                                 Math.max(spoolMaxBytes, 0)),
                  "spool limits");
        }
    }

    private static void check(int st, String what) throws PincurlException {
        PincurlException.check(st, "option " + what);
    }

    /** Builds {@link Options}. Not thread-safe. */
    public static final class Builder {
        private String caFile;
        private long connectTimeoutMs = -1;
        private long timeoutMs = -1;
        private String userAgent;
        private String proxy;
        private final List<String> resolve = new ArrayList<>();
        private long maxRedirects = -1;
        private long maxBodyBytes = -1;
        private String pinnedPublicKey;
        private ValidationListener listener;
        private String[] appInfo;
        private String spoolDir;
        private long spoolMaxReports = -1;
        private long spoolMaxBytes = -1;

        private Builder() {
        }

        /** PEM file of trusted roots (default: the bundle libcurl was built with). */
        public Builder caFile(Path file) {
            this.caFile = file.toString();
            return this;
        }

        /** Zero means libcurl's default. */
        public Builder connectTimeout(Duration d) {
            this.connectTimeoutMs = millis(d);
            return this;
        }

        /** Whole-request timeout; zero means none. */
        public Builder timeout(Duration d) {
            this.timeoutMs = millis(d);
            return this;
        }

        public Builder userAgent(String ua) {
            this.userAgent = ua;
            return this;
        }

        /** A proxy URL in libcurl's syntax ("http://127.0.0.1:8080"). */
        public Builder proxy(String url) {
            this.proxy = url;
            return this;
        }

        /** "HOST:PORT:ADDRESS" as curl's --resolve; the pin decision uses HOST. */
        public Builder resolve(String entry) {
            if (entry == null) {
                throw new NullPointerException("entry");
            }
            resolve.add(entry);
            return this;
        }

        public Builder resolve(String host, int port, String address) {
            return resolve(host + ":" + port + ":" + address);
        }

        /** Redirects followed per request (default 0; at most 50). */
        public Builder maxRedirects(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("negative redirect count");
            }
            this.maxRedirects = n;
            return this;
        }

        /** Cap on a response body kept in memory (default 64 MiB). */
        public Builder maxBodyBytes(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("negative size");
            }
            this.maxBodyBytes = n;
            return this;
        }

        /** libcurl's own leaf pinning (curl's --pinnedpubkey), in addition to the policy:
         * "sha256//BASE64;sha256//BASE64" or the path of a public key file. */
        public Builder pinnedPublicKey(String spec) {
            this.pinnedPublicKey = spec;
            return this;
        }

        /** Receives the client's events (see {@link ValidationListener}). */
        public Builder listener(ValidationListener listener) {
            this.listener = listener;
            return this;
        }

        /** The application's identity, copied into failure reports (each may be null). */
        public Builder appInfo(String bundleId, String version, String vendorId, String platform,
                               String platformVersion) {
            this.appInfo = new String[] {bundleId, version, vendorId, platform, platformVersion};
            return this;
        }

        /** The failure report spool directory (created if missing, mode 0700). */
        public Builder spoolDir(Path dir) {
            this.spoolDir = dir.toString();
            return this;
        }

        /** Most reports and bytes the spool keeps (0 keeps the default). */
        public Builder spoolLimits(long maxReports, long maxBytes) {
            if (maxReports < 0 || maxBytes < 0) {
                throw new IllegalArgumentException("negative limit");
            }
            this.spoolMaxReports = maxReports;
            this.spoolMaxBytes = maxBytes;
            return this;
        }

        public Options build() {
            return new Options(this);
        }

        private static long millis(Duration d) {
            long ms = d.toMillis();
            if (ms < 0 || ms > Integer.MAX_VALUE) { /* C long may be 32 bits */
                throw new IllegalArgumentException("timeout out of range: " + d);
            }
            return ms;
        }
    }
}
