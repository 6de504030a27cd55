import CPincurl
import Foundation

/// The outcome of one pin validation (a copy of the C verdict).
public struct Verdict: Sendable, Equatable {
    /// Validation results; TrustKit's numbers where they overlap.
    public enum Result: Int32, Sendable {
        case success = 0
        case pinMismatch = 1
        case invalidChain = 2
        case invalidParameters = 3
        case spkiError = 5
        case notPinned = 6
        case policyExpired = 7
        /// A result this version of the binding does not know.
        case unknown = -1
    }

    /// State of an expiry (the policy's, or the effective one) at evaluation time.
    public enum Expiry: Int32, Sendable {
        case none = 0
        case valid = 1
        case expired = 2
        case unknown = -1
    }

    public let result: Result
    /// True when the connection was allowed to proceed.
    public let allowed: Bool
    public let expiry: Expiry
    /// The policy's expiry, nil when it has none.
    public let expires: Date?
    /// True when an enforcing or report-only entry applied.
    public let pinned: Bool
    public let enforce: Bool
    public let includeSubdomains: Bool
    /// True when the chain the server sent is not the validated path.
    public let servedDiffers: Bool
    /// The host of the governing policy entry.
    public let notedHost: String?
    /// Index in the validated path of the certificate whose pin matched.
    public let matchedDepth: Int?
    public let matchedPin: Pin?
    /// The pin of every certificate of the validated path, leaf first.
    public let pathPins: [Pin]
    /// The governing domain entry's own expiry, nil when it has none.
    public let domainExpires: Date?
    /// When the pins of this host stop (or stopped) being in force: the earlier of the
    /// entry's own expiry and the policy's; nil when neither is set.
    public let effectiveExpires: Date?
    /// State of `effectiveExpires` at evaluation time.
    public let effectiveExpiry: Expiry
    /// True when the expiry in effect refuses connections once passed (on_expiry block).
    public let effectiveBlocksOnExpiry: Bool

    init(_ v: UnsafePointer<pincurl_verdict>) {
        let c = v.pointee
        result = Result(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: c.result.rawValue)))
            ?? .unknown
        allowed = c.decision == PINCURL_DECISION_ALLOW
        expiry = Expiry(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: c.expiry.rawValue)))
            ?? .unknown
        expires = c.expires == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(c.expires))
        pinned = c.pinned != 0
        enforce = c.enforce != 0
        includeSubdomains = c.include_subdomains != 0
        servedDiffers = c.served_differs != 0
        notedHost = optionalString(c.noted_host)
        matchedDepth = c.matched_depth >= 0 ? Int(c.matched_depth) : nil
        matchedPin = c.matched_depth >= 0 ? Pin(raw: c.matched_pin) : nil
        domainExpires = c.domain_expires == 0
            ? nil : Date(timeIntervalSince1970: TimeInterval(c.domain_expires))
        effectiveExpires = c.effective_expires == 0
            ? nil : Date(timeIntervalSince1970: TimeInterval(c.effective_expires))
        effectiveExpiry = Expiry(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded:
            c.effective_expiry.rawValue))) ?? .unknown
        effectiveBlocksOnExpiry = c.effective_on_expiry == PINCURL_ON_EXPIRY_BLOCK
        let count = min(Int(c.path_len), Int(PINCURL_MAX_PATH))
        pathPins = withUnsafeBytes(of: c.path_pins) { raw in
            (0..<count).map { i in
                Pin(raw: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<pincurl_pin>.stride,
                                           as: pincurl_pin.self))
            }
        }
    }
}
