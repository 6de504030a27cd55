import CPincurl
import Foundation

/// How a client connects. Every field is optional; the defaults are the C library's.
public struct Options: Sendable {
    /// PEM file of trusted roots (default: the system bundle libcurl was built with).
    public var caFile: String?
    /// Connection timeout in seconds (nil: libcurl's default).
    public var connectTimeout: TimeInterval?
    /// Whole-request timeout in seconds (nil: no limit).
    public var timeout: TimeInterval?
    public var userAgent: String?
    /// A proxy URL in libcurl's syntax ("http://127.0.0.1:8080").
    public var proxy: String?
    /// "HOST:PORT:ADDRESS" entries (as curl's --resolve). The pin decision uses HOST.
    public var resolve: [String] = []
    /// Redirects followed per request (nil: none; at most 50).
    public var maxRedirects: Int?
    /// Cap on a response body kept in memory (nil: 64 MiB).
    public var maxBodyBytes: Int?
    /// libcurl's own leaf pinning, in addition to the policy: "sha256//A;sha256//B" or the
    /// path of a PEM or DER public key file.
    public var pinnedPublicKey: String?
    /// The application's identity, copied into every failure report.
    public var appInfo: AppInfo?
    /// Where failure reports are spooled (created if missing, mode 0700). Without one,
    /// reports are not written.
    public var spoolDir: String?
    /// Spool bounds: most reports and most bytes kept (nil: 256 and 4 MiB).
    public var spoolLimits: (maxReports: Int, maxBytes: Int)?
    /// Called for every event of the client: each validation of a host the policy names,
    /// certificate changes, expiry warnings, policy changes, reports. It runs on the thread
    /// performing the request, inside the TLS handshake: it must return quickly, and must
    /// not use the client that raised it (no send, no setPolicy).
    public var onEvent: (@Sendable (Event) -> Void)?

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

    /// Copies these options into a C options object (everything but the event handler).
    func apply(to o: OpaquePointer) throws {
        if let caFile {
            try check(pincurl_options_set_ca_file(o, try cArgument(caFile, "CA file")))
        }
        if let connectTimeout {
            try check(pincurl_options_set_connect_timeout_ms(o, try milliseconds(connectTimeout)))
        }
        if let timeout {
            try check(pincurl_options_set_timeout_ms(o, try milliseconds(timeout)))
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
        if let maxRedirects {
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
    }

    private func milliseconds(_ seconds: TimeInterval) throws -> Int {
        guard seconds.isFinite, seconds >= 0, seconds * 1000 < Double(Int32.max) else {
            throw PincurlError.invalidArgument("timeout \(seconds) s is out of range")
        }
        // A positive timeout below 1 ms is 1 ms, not "no limit".
        return seconds > 0 ? max(1, Int((seconds * 1000).rounded())) : 0
    }
}
