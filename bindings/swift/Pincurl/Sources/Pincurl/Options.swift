import CPincurl
import Foundation

/// How a client connects. Every field is optional; the defaults are the C library's.
public struct Options: Sendable {
    /// PEM file of trusted roots (default: the system bundle libcurl was built with).
    public var caFile: String?
    /// A directory of trusted roots (curl's --capath), in addition to the CA file.
    public var caPath: String?
    /// Connection timeout in seconds (nil: libcurl's default).
    public var connectTimeout: TimeInterval?
    /// Whole-request timeout in seconds (nil: no limit).
    public var timeout: TimeInterval?
    public var userAgent: String?
    /// A proxy URL in libcurl's syntax ("http://127.0.0.1:8080").
    public var proxy: String?
    /// "HOST:PORT:ADDRESS" entries (as curl's --resolve). The pin decision uses HOST.
    public var resolve: [String] = []
    /// "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" entries (curl's --connect-to); the name
    /// check and the pin decision use the URL's host.
    public var connectTo: [String] = []
    /// Which addresses a host name resolves to: 0 any, 4 or 6.
    public var ipVersion: Int?
    /// The HTTP version asked for: 10, 11, 20 (nil: libcurl's default).
    public var httpVersion: Int?
    /// The lowest TLS version accepted: 12 or 13 (nil: libcurl's default, TLS 1.2).
    public var tlsMinVersion: Int?
    /// Redirects followed per request (nil: none; at most 50).
    public var maxRedirects: Int?
    /// curl's -L --max-redirs N: up to N redirects are followed, one more is
    /// tooManyRedirects. Takes precedence over maxRedirects.
    public var followRedirects: Int?
    /// Cap on a response body kept in memory (nil: 64 MiB).
    public var maxBodyBytes: Int?
    /// libcurl's own leaf pinning, in addition to the policy: "sha256//A;sha256//B" or the
    /// path of a PEM or DER public key file.
    public var pinnedPublicKey: String?
    /// libcurl's cookie engine for the client: a file to load when the client is made and
    /// one Client.saveCookies() writes (each may be nil).
    public var cookieEngine: (load: String?, save: String?)?
    /// The application's identity, copied into every failure report.
    public var appInfo: AppInfo?
    /// Where failure reports are spooled (created if missing, mode 0700). Without one,
    /// reports are not written.
    public var spoolDir: String?
    /// Spool bounds: most reports and most bytes kept (nil: 256 and 4 MiB).
    public var spoolLimits: (maxReports: Int, maxBytes: Int)?
    /// Report delivery: connect timeout, total timeout and first retry delay, in seconds
    /// (nil: 5, 15 and 1; the delay doubles per failure up to an hour).
    public var reportTiming: (connectTimeout: TimeInterval, timeout: TimeInterval,
                              firstRetry: TimeInterval)?
    /// The clock the client decides policy expiry with (nil: the system's). Called on any
    /// thread performing a request: it must be thread-safe and quick.
    public var clock: (@Sendable () -> Date)?
    /// Called for every event of the client: each validation of a host the policy names,
    /// certificate changes, expiry warnings, policy changes, reports. It runs on the thread
    /// that raised the event (a transfer thread, inside the TLS handshake; the report
    /// sender; an updater's fetcher): it must return quickly, and must not use the client
    /// that raised it. Client.events() gives the same events as an AsyncStream.
    public var onEvent: (@Sendable (Event) -> Void)?
    /// The threads the client's transfers run on (nil: TransferExecutor.shared).
    public var executor: TransferExecutor?

    public init(caFile: String? = nil, connectTimeout: TimeInterval? = nil,
                timeout: TimeInterval? = nil, userAgent: String? = nil, proxy: String? = nil,
                resolve: [String] = [], maxRedirects: Int? = nil, maxBodyBytes: Int? = nil,
                pinnedPublicKey: String? = nil, appInfo: AppInfo? = nil,
                spoolDir: String? = nil, onEvent: (@Sendable (Event) -> Void)? = nil) {
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.userAgent = userAgent
        self.proxy = proxy
        self.resolve = resolve
        self.maxRedirects = maxRedirects
        self.maxBodyBytes = maxBodyBytes
        self.pinnedPublicKey = pinnedPublicKey
        self.appInfo = appInfo
        self.spoolDir = spoolDir
        self.onEvent = onEvent
    }

    /// The application's identity in failure reports; nil fields are sent as "".
    public struct AppInfo: Sendable, Hashable {
        public var bundleID: String?
        public var version: String?
        public var vendorID: String?
        public var platform: String?
        public var platformVersion: String?

        public init(bundleID: String? = nil, version: String? = nil, vendorID: String? = nil,
                    platform: String? = nil, platformVersion: String? = nil) {
            self.bundleID = bundleID
            self.version = version
            self.vendorID = vendorID
            self.platform = platform
            self.platformVersion = platformVersion
        }
    }

    /// Copies these options into a C options object (everything but the callbacks).
    func apply(to o: OpaquePointer) throws {
        if let caFile {
            try check(pincurl_options_set_ca_file(o, try cArgument(caFile, "CA file")))
        }
        if let caPath {
            try check(pincurl_options_set_ca_path(o, try cArgument(caPath, "CA path")))
        }
        if let connectTimeout {
            try check(pincurl_options_set_connect_timeout_ms(
                o, try milliseconds(connectTimeout, "connect timeout")))
        }
        if let timeout {
            try check(pincurl_options_set_timeout_ms(o, try milliseconds(timeout, "timeout")))
        }
        if let userAgent {
            try check(pincurl_options_set_user_agent(o, try cArgument(userAgent, "user agent")))
        }
        if let proxy {
            try check(pincurl_options_set_proxy(o, try cArgument(proxy, "proxy")))
        }
        for entry in resolve {
            try check(pincurl_options_add_resolve(o, try cArgument(entry, "resolve entry")))
        }
        for entry in connectTo {
            try check(pincurl_options_add_connect_to(o, try cArgument(entry, "connect-to entry")))
        }
        if let ipVersion {
            try check(pincurl_options_set_ip_version(o, pincurl_ip_version(UInt32(clamping: ipVersion))))
        }
        if let httpVersion {
            try check(pincurl_options_set_http_version(
                o, pincurl_http_version(UInt32(clamping: httpVersion))))
        }
        if let tlsMinVersion {
            try check(pincurl_options_set_tls_min_version(
                o, pincurl_tls_version(UInt32(clamping: tlsMinVersion))))
        }
        if let followRedirects {
            guard followRedirects >= 0 else {
                throw PincurlError.invalidArgument("followRedirects is negative")
            }
            try check(pincurl_options_set_follow_redirects(o, 1, followRedirects))
        } else if let maxRedirects {
            guard maxRedirects >= 0 else {
                throw PincurlError.invalidArgument("maxRedirects is negative")
            }
            try check(pincurl_options_set_max_redirects(o, maxRedirects))
        }
        if let maxBodyBytes {
            guard maxBodyBytes >= 0 else {
                throw PincurlError.invalidArgument("maxBodyBytes is negative")
            }
            try check(pincurl_options_set_max_body_bytes(o, maxBodyBytes))
        }
        if let pinnedPublicKey {
            try check(pincurl_options_set_pinned_public_key(
                o, try cArgument(pinnedPublicKey, "pinned public key")))
        }
        if let cookies = cookieEngine {
            try withOptionalCString(cookies.load, "cookie file") { load in
                try withOptionalCString(cookies.save, "cookie file") { save in
                    try check(pincurl_options_set_cookie_engine(o, 1, load, save))
                }
            }
        }
        if let a = appInfo {
            try check(pincurl_options_set_app_info(
                o, try a.bundleID.map { try cArgument($0, "bundle ID") },
                try a.version.map { try cArgument($0, "version") },
                try a.vendorID.map { try cArgument($0, "vendor ID") },
                try a.platform.map { try cArgument($0, "platform") },
                try a.platformVersion.map { try cArgument($0, "platform version") }))
        }
        if let spoolDir {
            try check(pincurl_options_set_spool_dir(o, try cArgument(spoolDir, "spool dir")))
        }
        if let limits = spoolLimits {
            guard limits.maxReports >= 0, limits.maxBytes >= 0 else {
                throw PincurlError.invalidArgument("spool limits are negative")
            }
            try check(pincurl_options_set_spool_limits(o, limits.maxReports, limits.maxBytes))
        }
        if let t = reportTiming {
            try check(pincurl_options_set_report_timing(
                o, try milliseconds(t.connectTimeout, "report connect timeout"),
                try milliseconds(t.timeout, "report timeout"),
                try milliseconds(t.firstRetry, "report retry")))
        }
    }
}
