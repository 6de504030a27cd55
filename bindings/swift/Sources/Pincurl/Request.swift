import Foundation

/// One header line.
public struct Header: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An HTTP request: a method, an absolute http:// or https:// URL, headers and a body.
/// (http:// to a host the policy pins is refused: cleartextPinned.)
public struct Request: Sendable {
    public var method: String
    public var url: String
    public var headers: [Header]
    public var body: Data?

    public init(_ url: String, method: String = "GET", headers: [Header] = [],
                body: Data? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }

    public init(url: URL, method: String = "GET", headers: [Header] = [], body: Data? = nil) {
        self.init(url.absoluteString, method: method, headers: headers, body: body)
    }

    /// Appends a header line.
    public mutating func addHeader(_ name: String, _ value: String) {
        headers.append(Header(name, value))
    }
}
