import CPincurl
import Foundation

/// A pincurl failure: its status (`code`, one case per C status but OK), the detail
/// message and, for a refused request, the verdict of its last pinned validation and
/// what libcurl recorded of it.
///
///     do {
///         _ = try await client.send(Request("https://api.example.com/"))
///     } catch let e as PincurlError where e.code == .pinMismatch {
///         print(e.detail)          // the host, the validated path's pins, the policy's
///         print(e.verdict?.pathPins ?? [])
///     }
///
/// `localizedDescription` and `description` read "PIN_MISMATCH: <detail>".
public struct PincurlError: Error, Sendable, Equatable, LocalizedError,
    CustomStringConvertible {
    /// The C status number (what `code` stands for; a newer library may return numbers
    /// this binding has no case for: `code` is then nil).
    public let status: Int32
    /// The detail: for a refused connection, the host, the validated path with its pins
    /// and the pins the policy has; otherwise the status's sentence or the JSON path and
    /// rule of a refused policy document.
    public let detail: String
    /// A refused request: the verdict of its last pinned validation, if any.
    public let verdict: Verdict?
    /// A failed request: what the C library returned about it (no HTTP answer: status
    /// code 0; the transfer info says how far it got).
    public let response: Response?

    public init(status: Int32, detail: String, verdict: Verdict? = nil,
                response: Response? = nil) {
        self.status = status
        self.detail = detail
        self.verdict = verdict
        self.response = response
    }

    public init(_ code: Code, _ detail: String) {
        self.init(status: code.rawValue, detail: detail)
    }

    /// The status as a case, or nil for a number this binding does not know.
    public var code: Code? {
        Code(rawValue: status)
    }

    /// The C name of the status ("PIN_MISMATCH"), or "STATUS_<n>" for an unknown number.
    public var name: String {
        PincurlError.statusTable.first { $0.code == status }?.name ?? "STATUS_\(status)"
    }

    /// The C library's sentence for the status.
    public var statusMessage: String {
        PincurlError.statusTable.first { $0.code == status }?.message ?? "unknown status"
    }

    public var errorDescription: String? {
        description
    }

    public var failureReason: String? {
        statusMessage
    }

    public var description: String {
        detail.isEmpty ? "\(name): \(statusMessage)" : "\(name): \(detail)"
    }

    /// Equal when status and detail are.
    public static func == (a: PincurlError, b: PincurlError) -> Bool {
        a.status == b.status && a.detail == b.detail
    }
}


// Shorthands used throughout the binding.
extension PincurlError {
    static func invalidArgument(_ d: String) -> PincurlError { PincurlError(.invalidArgument, d) }
    static func outOfMemory(_ d: String) -> PincurlError { PincurlError(.outOfMemory, d) }
    static func internalError(_ d: String) -> PincurlError { PincurlError(.internal, d) }
}
