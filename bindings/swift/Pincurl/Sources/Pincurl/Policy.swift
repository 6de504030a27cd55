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
        guard let out else { throw PincurlError.internalError("policy loader returned no policy") }
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
        guard let out else { throw PincurlError.internalError("policy loader returned no policy") }
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

extension Policy {
    /// A policy made from a PolicyDocument: encoded as JSON and loaded with the same rules
    /// and error paths as a document file.
    public convenience init(document: PolicyDocument) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try self.init(json: try encoder.encode(document))
    }

    /// Builds a policy in code on the C library's policy builder, in the manner of OkHttp's
    /// CertificatePinner.Builder, with the rules of documents (two distinct pins for an
    /// enforcing host, no include-subdomains on a public suffix, ...):
    ///
    ///     let policy = try Policy.Builder()
    ///         .add("api.example.com", pins: ["sha256/AAAA...=", "sha256/BBBB...="])
    ///         .add("**.cdn.example.com", pins: [...])
    ///         .reportOnly("beta.example.com", pins: ["sha256/CCCC...="])
    ///         .expires(date, block: false)
    ///         .reportURI("https://collector.example.com/pin-report")
    ///         .build()
    public struct Builder: Sendable {
        struct Entry: Sendable {
            var host: String
            var flags: UInt32
            var pins: [String]
        }

        var entries: [Entry] = []
        var reportURIs: [String] = []
        var expires: Date?
        var blockWhenExpired = false

        public init() {}

        /// Pins a host, enforcing; "**.host" pins the host and every name under it.
        /// OkHttp's one-label "*." has no equivalent: build() refuses it.
        public func add(_ pattern: String, pins: [String]) -> Builder {
            domain(pattern, enforce: true, pins: pins)
        }

        /// A report-only entry: a mismatch is reported and let through.
        public func reportOnly(_ pattern: String, pins: [String]) -> Builder {
            domain(pattern, enforce: false, pins: pins)
        }

        /// Removes host from the policy of an including parent.
        public func exclude(_ host: String) -> Builder {
            var b = self
            b.entries.append(Entry(host: host, flags: UInt32(PINCURL_DOMAIN_EXCLUDE), pins: []))
            return b
        }

        /// When the policy stops being in force (nil: never); block refuses pinned hosts
        /// then, otherwise pins are no longer enforced but mismatches are reported.
        public func expires(_ date: Date?, block: Bool) -> Builder {
            var b = self
            b.expires = date
            b.blockWhenExpired = block
            return b
        }

        /// Where failure reports are sent (an absolute https:// URL).
        public func reportURI(_ uri: String) -> Builder {
            var b = self
            b.reportURIs.append(uri)
            return b
        }

        private func domain(_ pattern: String, enforce: Bool, pins: [String]) -> Builder {
            var b = self
            var host = pattern
            var flags = enforce ? UInt32(PINCURL_DOMAIN_ENFORCE) : 0
            if pattern.hasPrefix("**.") {
                host = String(pattern.dropFirst(3))
                flags |= UInt32(PINCURL_DOMAIN_INCLUDE_SUBDOMAINS)
            }
            b.entries.append(Entry(host: host, flags: flags, pins: pins))
            return b
        }

        /// Validates the whole and makes the policy. Errors name the entry in the manner
        /// of a document's path: `domains["api.example.com"].pins[1]: ...`.
        public func build() throws -> Policy {
            guard let b = pincurl_policy_builder_new(nil) else {
                throw PincurlError.outOfMemory("pincurl_policy_builder_new failed")
            }
            defer { pincurl_policy_builder_free(b) }
            func fail(_ status: pincurl_status, _ path: String) -> PincurlError {
                makeError(status, detail: "\(path): \(statusMessage(status))")
            }
            let t = expires.map { max(1, Int64($0.timeIntervalSince1970)) } ?? 0
            var st = pincurl_policy_builder_set_expiry(
                b, t, blockWhenExpired ? PINCURL_ON_EXPIRY_BLOCK : PINCURL_ON_EXPIRY_REPORT_AND_ALLOW)
            guard st == PINCURL_OK else { throw fail(st, "expires") }
            for (i, uri) in reportURIs.enumerated() {
                st = pincurl_policy_builder_add_report_uri(b, try cArgument(uri, "report URI"))
                guard st == PINCURL_OK else { throw fail(st, "report_uris[\(i)]") }
            }
            for e in entries {
                let path = "domains[\"\(e.host)\"]"
                if e.host.hasPrefix("*.") {
                    throw PincurlError.invalidArgument(
                        "\(path): one-label wildcards are not supported (use **.\(e.host.dropFirst(2)))")
                }
                var index = 0
                st = pincurl_policy_builder_add_domain(b, try cArgument(e.host, "host"), e.flags, &index)
                guard st == PINCURL_OK else { throw fail(st, path) }
                for (i, text) in e.pins.enumerated() {
                    var pin = pincurl_pin()
                    st = text.withCString { pincurl_pin_parse($0, text.utf8.count, &pin) }
                    if st == PINCURL_OK {
                        st = pincurl_policy_builder_add_pin(b, index, &pin)
                    }
                    guard st == PINCURL_OK else { throw fail(st, "\(path).pins[\(i)]") }
                }
            }
            var out: OpaquePointer?
            var bad = Int.max
            st = pincurl_policy_builder_finish(b, &out, &bad)
            guard st == PINCURL_OK, let out else {
                if let out { pincurl_policy_unref(out) }
                let path = bad < entries.count ? "domains[\"\(entries[bad].host)\"]" : "policy"
                throw fail(st == PINCURL_OK ? PINCURL_INTERNAL : st, path)
            }
            return Policy(adopting: out)
        }
    }
}

/// A policy document (docs/policy.md) as a Codable value: decode one from JSON, make one
/// in code, and load it with Policy(document:). Keys and values are the document's.
public struct PolicyDocument: Codable, Sendable, Equatable {
    /// What an expired policy does: "report_and_allow" or "block".
    public enum OnExpiry: String, Codable, Sendable {
        case reportAndAllow = "report_and_allow"
        case block
    }

    public struct Domain: Codable, Sendable, Equatable {
        public var includeSubdomains: Bool?
        /// false: report-only.
        public var enforce: Bool?
        public var exclude: Bool?
        public var pins: [String]?

        public init(pins: [String], enforce: Bool = true, includeSubdomains: Bool = false) {
            self.pins = pins
            self.enforce = enforce
            self.includeSubdomains = includeSubdomains ? true : nil
        }

        /// An entry removing a host from its parent's policy.
        public static var excluded: Domain {
            var d = Domain(pins: [])
            d.pins = nil
            d.enforce = nil
            d.exclude = true
            return d
        }

        enum CodingKeys: String, CodingKey {
            case includeSubdomains = "include_subdomains"
            case enforce, exclude, pins
        }
    }

    public var version = 1
    /// "YYYY-MM-DD" or an RFC 3339 UTC time.
    public var expires: String?
    public var onExpiry: OnExpiry?
    public var reportURIs: [String]?
    public var domains: [String: Domain]

    public init(domains: [String: Domain], expires: String? = nil, onExpiry: OnExpiry? = nil,
                reportURIs: [String]? = nil) {
        self.domains = domains
        self.expires = expires
        self.onExpiry = onExpiry
        self.reportURIs = reportURIs
    }

    enum CodingKeys: String, CodingKey {
        case version = "pincurl_policy"
        case expires
        case onExpiry = "on_expiry"
        case reportURIs = "report_uris"
        case domains
    }
}
