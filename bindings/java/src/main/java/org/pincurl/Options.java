package org.pincurl;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.annotation.Nullable;

/**
 * A client's options: immutable, made with {@link #builder()}. Unset options keep the C
 * library's defaults (client.h documents them). The native options object exists only
 * while {@link Client#create(Policy, Options)} runs.
 */
public final class Options {
    /** Which addresses a host name resolves to (curl's -4 and -6). */
    public enum IpVersion {
        ANY(0), V4(4), V6(6);

        final int number;

        IpVersion(int number) {
            this.number = number;
        }
    }

    /** The HTTP version asked for (curl's --http1.0, --http1.1, --http2). */
    public enum HttpVersion {
        DEFAULT(0), HTTP_1_0(10), HTTP_1_1(11), HTTP_2(20);

        final int number;

        HttpVersion(int number) {
            this.number = number;
        }
    }

    /** The lowest TLS version accepted (curl's --tlsv1.2, --tlsv1.3). */
    public enum TlsVersion {
        DEFAULT(0), TLS_1_2(12), TLS_1_3(13);

        final int number;

        TlsVersion(int number) {
            this.number = number;
        }
    }

    @Nullable private final String caFile;
    @Nullable private final String caPath;
    private final long connectTimeoutMs;
    private final long timeoutMs;
    @Nullable private final String userAgent;
    @Nullable private final String proxy;
    private final List<String> resolve;
    private final List<String> connectTo;
    @Nullable private final IpVersion ipVersion;
    @Nullable private final HttpVersion httpVersion;
    @Nullable private final TlsVersion tlsMinVersion;
    private final int follow;
    private final long maxRedirects;
    private final long maxBodyBytes;
    @Nullable private final String pinnedPublicKey;
    @Nullable private final String[] cookies;
    @Nullable private final ValidationListener listener;
    @Nullable private final ListenerErrorHandler errorHandler;
    @Nullable private final PincurlClock clock;
    @Nullable private final String[] appInfo;
    @Nullable private final String spoolDir;
    private final long spoolMaxReports;
    private final long spoolMaxBytes;
    @Nullable private final long[] reportTiming;

    private Options(Builder b) {
        this.caFile = b.caFile;
        this.caPath = b.caPath;
        this.connectTimeoutMs = b.connectTimeoutMs;
        this.timeoutMs = b.timeoutMs;
        this.userAgent = b.userAgent;
        this.proxy = b.proxy;
        this.resolve = Collections.unmodifiableList(new ArrayList<String>(b.resolve));
        this.connectTo = Collections.unmodifiableList(new ArrayList<String>(b.connectTo));
        this.ipVersion = b.ipVersion;
        this.httpVersion = b.httpVersion;
        this.tlsMinVersion = b.tlsMinVersion;
        this.follow = b.follow;
        this.maxRedirects = b.maxRedirects;
        this.maxBodyBytes = b.maxBodyBytes;
        this.pinnedPublicKey = b.pinnedPublicKey;
        this.cookies = b.cookies != null ? b.cookies.clone() : null;
        this.listener = b.listener;
        this.errorHandler = b.errorHandler;
        this.clock = b.clock;
        this.appInfo = b.appInfo != null ? b.appInfo.clone() : null;
        this.spoolDir = b.spoolDir;
        this.spoolMaxReports = b.spoolMaxReports;
        this.spoolMaxBytes = b.spoolMaxBytes;
        this.reportTiming = b.reportTiming != null ? b.reportTiming.clone() : null;
    }

    /** The defaults. */
    public static Options defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The dispatcher of the callbacks, or null when the options set none. */
    @Nullable
    EventDispatcher dispatcher() {
        if (listener == null && clock == null) {
            return null;
        }
        return new EventDispatcher(listener, clock, errorHandler);
    }

    boolean hasListener() {
        return listener != null;
    }

    boolean hasClock() {
        return clock != null;
    }

    /** Fills a native options object (the callbacks are set by the client). */
    void apply(SWIGTYPE_p_pincurl_options o) throws PincurlException {
        if (caFile != null) {
            check(PincurlNative.pincurl_options_set_ca_file(o, caFile), "CA file");
        }
        if (caPath != null) {
            check(PincurlNative.pincurl_options_set_ca_path(o, caPath), "CA path");
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
        for (String entry : connectTo) {
            check(PincurlNative.pincurl_options_add_connect_to(o, entry), "connect to " + entry);
        }
        if (ipVersion != null) {
            check(PincurlNative.pincurl_options_set_ip_version(o, ipVersion.number), "IP version");
        }
        if (httpVersion != null) {
            check(PincurlNative.pincurl_options_set_http_version(o, httpVersion.number),
                  "HTTP version");
        }
        if (tlsMinVersion != null) {
            check(PincurlNative.pincurl_options_set_tls_min_version(o, tlsMinVersion.number),
                  "TLS version");
        }
        if (follow > 0) {
            check(PincurlNative.pincurl_options_set_follow_redirects(o, 1, maxRedirects),
                  "follow redirects");
        } else if (maxRedirects >= 0) {
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
        if (cookies != null) {
            check(PincurlNative.pincurl_options_set_cookie_engine(o, 1, cookies[0], cookies[1]),
                  "cookie engine");
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
        if (reportTiming != null) {
            check(PincurlNative.pincurl_options_set_report_timing(o, reportTiming[0],
                                                                  reportTiming[1],
                                                                  reportTiming[2]),
                  "report timing");
        }
    }

    private static void check(int st, String what) throws PincurlException {
        PincurlException.check(st, "option " + what);
    }

    /** Builds {@link Options}. Not thread-safe. */
    public static final class Builder {
        @Nullable private String caFile;
        @Nullable private String caPath;
        private long connectTimeoutMs = -1;
        private long timeoutMs = -1;
        @Nullable private String userAgent;
        @Nullable private String proxy;
        private final List<String> resolve = new ArrayList<String>();
        private final List<String> connectTo = new ArrayList<String>();
        @Nullable private IpVersion ipVersion;
        @Nullable private HttpVersion httpVersion;
        @Nullable private TlsVersion tlsMinVersion;
        private int follow = -1;
        private long maxRedirects = -1;
        private long maxBodyBytes = -1;
        @Nullable private String pinnedPublicKey;
        @Nullable private String[] cookies;
        @Nullable private ValidationListener listener;
        @Nullable private ListenerErrorHandler errorHandler;
        @Nullable private PincurlClock clock;
        @Nullable private String[] appInfo;
        @Nullable private String spoolDir;
        private long spoolMaxReports = -1;
        private long spoolMaxBytes = -1;
        @Nullable private long[] reportTiming;

        private Builder() {
        }

        /** PEM file of trusted roots (default: the bundle libcurl was built with). */
        public Builder caFile(File file) {
            this.caFile = file.getPath();
            return this;
        }

        /** A directory of trusted roots (curl's --capath), in addition to the CA file. */
        public Builder caPath(File dir) {
            this.caPath = dir.getPath();
            return this;
        }

        /** Zero means libcurl's default. */
        public Builder connectTimeout(long timeout, TimeUnit unit) {
            this.connectTimeoutMs = millis(timeout, unit);
            return this;
        }

        /** Whole-request timeout; zero means none. */
        public Builder timeout(long timeout, TimeUnit unit) {
            this.timeoutMs = millis(timeout, unit);
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

        /** "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" as curl's --connect-to; the name
         * check and the pin decision use the URL's host. */
        public Builder connectTo(String entry) {
            if (entry == null) {
                throw new NullPointerException("entry");
            }
            connectTo.add(entry);
            return this;
        }

        public Builder ipVersion(IpVersion v) {
            this.ipVersion = v;
            return this;
        }

        public Builder httpVersion(HttpVersion v) {
            this.httpVersion = v;
            return this;
        }

        public Builder tlsMinVersion(TlsVersion v) {
            this.tlsMinVersion = v;
            return this;
        }

        /** Redirects followed per request (default 0; at most 50). */
        public Builder maxRedirects(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("negative redirect count");
            }
            this.follow = -1;
            this.maxRedirects = n;
            return this;
        }

        /** curl's -L --max-redirs max: up to max redirects are followed and one more is
         * TOO_MANY_REDIRECTS (max 0 makes any redirect an error). */
        public Builder followRedirects(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("negative redirect count");
            }
            this.follow = 1;
            this.maxRedirects = max;
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

        /** libcurl's cookie engine, one store for the client: loaded from loadFile (null:
         * none) when the client is made, written to saveFile (null: none) by
         * {@link Client#saveCookies()}. */
        public Builder cookieEngine(@Nullable File loadFile, @Nullable File saveFile) {
            this.cookies = new String[] {loadFile != null ? loadFile.getPath() : null,
                                         saveFile != null ? saveFile.getPath() : null};
            return this;
        }

        /** Receives the client's events (see {@link ValidationListener}). */
        public Builder listener(ValidationListener listener) {
            this.listener = listener;
            return this;
        }

        /** Receives what the listener or the clock threw (default: logged). */
        public Builder listenerErrorHandler(ListenerErrorHandler handler) {
            this.errorHandler = handler;
            return this;
        }

        /** The clock the client decides expiry with (default: the system's). */
        public Builder clock(PincurlClock clock) {
            this.clock = clock;
            return this;
        }

        /** The application's identity, copied into failure reports (each may be null). */
        public Builder appInfo(@Nullable String bundleId, @Nullable String version,
                               @Nullable String vendorId, @Nullable String platform,
                               @Nullable String platformVersion) {
            this.appInfo = new String[] {bundleId, version, vendorId, platform, platformVersion};
            return this;
        }

        /** The failure report spool directory (created if missing, mode 0700). */
        public Builder spoolDir(File dir) {
            this.spoolDir = dir.getPath();
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

        /** Timeouts of a report delivery and the first retry delay (defaults 5 s, 15 s,
         * 1 s; the delay doubles per failure up to an hour). */
        public Builder reportTiming(long connectTimeout, long timeout, long firstRetry,
                                    TimeUnit unit) {
            this.reportTiming = new long[] {millis(connectTimeout, unit), millis(timeout, unit),
                                            millis(firstRetry, unit)};
            return this;
        }

        public Options build() {
            return new Options(this);
        }

        static long millis(long amount, TimeUnit unit) {
            long ms = unit.toMillis(amount);
            if (amount < 0 || ms > Integer.MAX_VALUE) { /* C long may be 32 bits */
                throw new IllegalArgumentException("duration out of range: " + amount + " " + unit);
            }
            if (ms == 0 && amount > 0) {
                ms = 1; /* a positive duration below 1 ms is 1 ms, not "none" */
            }
            return ms;
        }
    }
}
