import CPincurl
import Foundation

/// Library-wide facts and the per-thread cleanup.
public enum Pincurl {
    /// What libcurl can do (PINCURL_FEATURE_*).
    public struct HTTPFeatures: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let http2 = HTTPFeatures(rawValue: UInt32(PINCURL_FEATURE_HTTP2))
        public static let ipv6 = HTTPFeatures(rawValue: UInt32(PINCURL_FEATURE_IPV6))
        public static let gzip = HTTPFeatures(rawValue: UInt32(PINCURL_FEATURE_GZIP))
        public static let brotli = HTTPFeatures(rawValue: UInt32(PINCURL_FEATURE_BROTLI))
        public static let zstd = HTTPFeatures(rawValue: UInt32(PINCURL_FEATURE_ZSTD))
        public static let caPath = HTTPFeatures(rawValue: UInt32(PINCURL_FEATURE_CA_PATH))
    }

    /// How the library was built and what it runs on (pincurl_runtime()).
    public struct Runtime: Sendable {
        public let version: String
        /// "bundled", "system" or "gnutls".
        public let flavour: String
        public let libcurlVersion: String
        public let tlsLibrary: String
        public let http2: Bool
        /// The pin backend ("wolfssl", "openssl", "pinnedpubkey") and the one the library
        /// was built for; when they differ every client is refused (backendUnsupported).
        public let backend: String
        public let backendExpected: String
    }

    public static var runtime: Runtime {
        let r = pincurl_runtime()!.pointee
        return Runtime(version: String(cString: r.version), flavour: String(cString: r.flavour),
                       libcurlVersion: String(cString: r.libcurl_version),
                       tlsLibrary: String(cString: r.tls_library), http2: r.http2 != 0,
                       backend: String(cString: r.backend),
                       backendExpected: String(cString: r.backend_expected))
    }

    public static var httpFeatures: HTTPFeatures {
        HTTPFeatures(rawValue: pincurl_http_features())
    }

    /// libcurl's version line ("libcurl/8.14.1 wolfSSL/5.7.2 ...").
    public static var httpLibrary: String {
        String(cString: pincurl_http_library())
    }

    /// Frees what the TLS library keeps for the calling thread. The executor's threads call
    /// it before they end; a thread of the application that used sendBlocking should too.
    public static func threadCleanup() {
        pincurl_thread_cleanup()
    }
}
