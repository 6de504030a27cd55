import CPincurl
import Foundation

/// An HTTP response that arrived (whatever its status code).
public struct Response: Sendable {
    /// The HTTP status code of the last response.
    public let statusCode: Int
    /// The headers of the last response, in order.
    public let headers: [Header]
    /// The body.
    public let body: Data
    /// The URL of the last hop (after redirects).
    public let effectiveURL: String
    /// The verdict of the last pinned validation of the request; nil when no host the
    /// policy names was validated (an unpinned host, or a reused connection).
    public let verdict: Verdict?

    init(_ r: OpaquePointer) {
        statusCode = Int(pincurl_response_code(r))
        headers = (0..<pincurl_response_header_count(r)).map { i in
            Header(optionalString(pincurl_response_header_name(r, i)) ?? "",
                   optionalString(pincurl_response_header_value(r, i)) ?? "")
        }
        var len = 0
        if let p = pincurl_response_body(r, &len), len > 0 {
            body = Data(bytes: p, count: len)
        } else {
            body = Data()
        }
        effectiveURL = optionalString(pincurl_response_effective_url(r)) ?? ""
        verdict = pincurl_response_verdict(r).map { Verdict($0) }
    }

    /// The first header of that name (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body as UTF-8 text, or nil when it is not valid UTF-8.
    public var text: String? {
        String(data: body, encoding: .utf8)
    }
}
