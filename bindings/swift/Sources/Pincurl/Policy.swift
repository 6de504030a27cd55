import CPincurl
import Foundation

/// A pinning policy (docs/policy.md): immutable once loaded, shareable between clients and
/// threads. The C policy is reference-counted; this object holds one reference and
/// releases it in deinit.
public final class Policy: @unchecked Sendable {
    let raw: OpaquePointer

    /// Adopts a reference the caller owns.
    init(adopting raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        pincurl_policy_unref(raw)
    }

    /// Loads a policy document. A refused document throws the error of its status
    /// (policySyntax, policyUnknownKey, pinBadBase64, ...) whose detail names the JSON path
    /// and the rule, e.g. `domains["a.com"].pins[1]: not 32 bytes after base64 decoding`.
    public convenience init(json: Data) throws {
        var out: OpaquePointer?
        var diag = pincurl_diag()
        let status = withCChars(json) { chars, count in
            pincurl_policy_load_json(chars, count, nil, &out, &diag)
        }
        try Policy.check(status, diag)
        guard let out else { throw PincurlError.internal("policy loader returned no policy") }
        self.init(adopting: out)
    }

    /// Loads a policy document from a string (as init(json: Data)).
    public convenience init(json: String) throws {
        try self.init(json: Data(json.utf8))
    }

    /// Loads a policy document from a file (at most 1 MiB). Errors as init(json:), plus io
    /// (the detail names the file and the reason).
    public convenience init(file path: String) throws {
        var out: OpaquePointer?
        var diag = pincurl_diag()
        let status = pincurl_policy_load_file(try cArgument(path, "policy path"), nil, &out,
                                              &diag)
        try Policy.check(status, diag)
        guard let out else { throw PincurlError.internal("policy loader returned no policy") }
        self.init(adopting: out)
    }

    /// Loads a policy document from a file URL, e.g. one in the app bundle:
    /// `Policy(contentsOf: Bundle.main.url(forResource: "pins", withExtension: "json")!)`.
    public convenience init(contentsOf url: URL) throws {
        guard url.isFileURL else {
            throw PincurlError.invalidArgument("policy URL is not a file URL: \(url)")
        }
        try self.init(file: url.path)
    }

    private static func check(_ status: pincurl_status, _ diag: pincurl_diag) throws {
        guard status != PINCURL_OK else { return }
        throw makeError(status, detail: tupleString(diag.message))
    }

    /// When the policy stops being in force; nil when it never expires.
    public var expires: Date? {
        let t = pincurl_policy_expires(raw)
        return t == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(t))
    }

    /// True when an expired policy refuses connections to pinned hosts ("block"); false
    /// when it stops enforcing but reports ("report_and_allow").
    public var blocksOnExpiry: Bool {
        pincurl_policy_on_expiry(raw) == PINCURL_ON_EXPIRY_BLOCK
    }

    /// Where failure reports are sent.
    public var reportURIs: [String] {
        (0..<pincurl_policy_report_uri_count(raw)).compactMap {
            optionalString(pincurl_policy_report_uri(raw, $0))
        }
    }

    /// The domain entries, in document order.
    public var domains: [Domain] {
        (0..<pincurl_policy_domain_count(raw)).compactMap { i in
            pincurl_policy_domain(raw, i).map { Domain($0) }
        }
    }

    /// The entry governing host (exact entry first, else the most specific
    /// include_subdomains parent or subtree exclusion), or nil when none applies or the host
    /// is not valid.
    public func lookup(_ host: String) -> Domain? {
        host.withCString { chars in
            pincurl_policy_lookup(raw, chars, host.utf8.count).map { Domain($0) }
        }
    }

    /// One domain entry of a policy (a copy; it does not keep the policy alive).
    public struct Domain: Sendable, Hashable {
        public let host: String
        public let includeSubdomains: Bool
        public let enforce: Bool
        public let exclude: Bool
        /// For an exclusion: true if it also removes the names below the host (a subtree
        /// exclusion), false if it removes the host alone. False for other entries.
        public let excludesSubdomains: Bool
        /// True for an enforcing entry allowed a single pin (no backup key).
        public let allowsSinglePin: Bool
        public let pins: [Pin]
        /// The entry's own expiry; nil when it has none (the policy's still applies).
        public let expires: Date?
        /// True when the entry's own expiry, once passed, refuses connections (its
        /// on_expiry, by default the policy's).
        public let blocksOnExpiry: Bool

        init(_ d: OpaquePointer) {
            host = String(cString: pincurl_domain_host(d))
            let flags = pincurl_domain_flags(d)
            includeSubdomains = flags & UInt32(PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0
            enforce = flags & UInt32(PINCURL_DOMAIN_ENFORCE) != 0
            exclude = flags & UInt32(PINCURL_DOMAIN_EXCLUDE) != 0
            excludesSubdomains = exclude && flags & UInt32(PINCURL_DOMAIN_HOST_ONLY) == 0
            allowsSinglePin = flags & UInt32(PINCURL_DOMAIN_ALLOW_SINGLE_PIN) != 0
            pins = (0..<pincurl_domain_pin_count(d)).compactMap { i in
                pincurl_domain_pin(d, i).map { Pin(raw: $0.pointee) }
            }
            let t = pincurl_domain_expires(d)
            expires = t == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(t))
            blocksOnExpiry = pincurl_domain_on_expiry(d) == PINCURL_ON_EXPIRY_BLOCK
        }
    }
}
