import CPincurl
import Foundation

/// Something a client tells the application (include/pincurl/events.h): a pin
/// validation, a certificate change, an approaching expiry, a policy change, a report.
/// A copy: it stays valid after the handler returns.
public struct Event: Sendable {
    /// Kinds of event; numbers as in the C API.
    public enum Kind: Int32, Sendable {
        /// A host the policy names was validated (one per TLS handshake, after the
        /// decision); `verdict` says how.
        case validation = 0
        /// The leaf of host:port differs from the one seen there last (`oldPin`).
        case certChanged = 1
        case policyExpiring = 2
        case leafExpiring = 3
        /// setPolicy put a new generation in force.
        case policyChanged = 4
        case reportQueued = 5
        case reportDropped = 6
        case reportSent = 7
        case updateApplied = 8
        case updateRejected = 9
        case updateBaseRestored = 10
        case reportSetAside = 11
        /// A kind this version of the binding does not know (`kindName` has its name).
        case unknown = -1
    }

    public let kind: Kind
    /// The C name of the kind ("VALIDATION", ...).
    public let kindName: String
    /// The host (normalised) and port the event is about; "" and 0 when none.
    public let host: String
    public let port: Int
    /// The verdict of a validation (also of certChanged and the expiry warnings).
    public let verdict: Verdict?
    /// The validated path, leaf first, ending at the trust anchor (DER).
    public let pathCertificates: [Data]
    /// The chain the server sent, leaf first (DER).
    public let servedCertificates: [Data]
    /// certChanged: the pin of the leaf seen before.
    public let oldPin: Pin?
    /// Expiry warnings: when the policy or the leaf expires.
    public let expires: Date?
    /// Microseconds the validation took.
    public let durationMicroseconds: UInt64
    /// The policy generation the event belongs to (1 for the client's first policy).
    public let generation: UInt64
    /// Report events: why a report could not be written or sent; nil when it could.
    public let error: PincurlError?
    /// A sentence for a person; for a refused validation, the failure detail.
    public let message: String

    init(_ ev: OpaquePointer) {
        let k = pincurl_event_get_kind(ev)
        kind = Kind(rawValue: Int32(bitPattern: UInt32(truncatingIfNeeded: k.rawValue))) ?? .unknown
        kindName = String(cString: pincurl_event_kind_name(k))
        host = String(cString: pincurl_event_host(ev))
        port = Int(pincurl_event_port(ev))
        verdict = pincurl_event_verdict(ev).map { Verdict($0) }
        pathCertificates = (0..<pincurl_event_path_count(ev)).compactMap { i in
            var len = 0
            return pincurl_event_path_cert(ev, i, &len).map { Data(bytes: $0, count: len) }
        }
        servedCertificates = (0..<pincurl_event_served_count(ev)).compactMap { i in
            var len = 0
            return pincurl_event_served_cert(ev, i, &len).map { Data(bytes: $0, count: len) }
        }
        oldPin = pincurl_event_old_pin(ev).map { Pin(raw: $0.pointee) }
        let t = pincurl_event_expires(ev)
        expires = t == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(t))
        durationMicroseconds = pincurl_event_duration_us(ev)
        generation = pincurl_event_generation(ev)
        message = String(cString: pincurl_event_message(ev))
        let status = pincurl_event_status(ev)
        error = status == PINCURL_OK ? nil : makeError(status, detail: message)
    }
}
