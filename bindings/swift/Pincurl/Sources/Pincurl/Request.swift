import CPincurl
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
    /// A body from memory.
    public var body: Data?
    /// A body streamed while the request is sent: opens a new InputStream for every
    /// send (the binding reads and closes it on the transfer thread). A read error aborts
    /// the request (abortedByCallback). Takes precedence over body.
    public var bodyStream: (@Sendable () -> InputStream)?
    /// The streamed body's length in bytes (nil: unknown, sent chunked).
    public var bodyLength: Int64?
    /// Send the stream as curl's -T does: PUT unless method says otherwise, no
    /// Content-Type added.
    public var upload = false
    /// Writes the response body to this file (created or truncated) instead of memory.
    public var outputFile: String?
    /// multipart/form-data parts (curl's -F), in order; they replace body.
    public var formParts: [FormPart] = []
    /// HTTP Basic credentials, sent to the URL's host only.
    public var credentials: (user: String, password: String)?
    /// The Referer header; automatic also sets it on every redirect hop.
    public var referer: (value: String?, automatic: Bool)?
    /// A Cookie header of this request ("a=1; b=2").
    public var cookie: String?
    /// Ask for a compressed response and decode it: an Accept-Encoding value, "" for every
    /// encoding the library decodes.
    public var acceptEncoding: String?

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

    /// One part of a multipart/form-data body.
    public struct FormPart: Sendable {
        public enum Content: Sendable {
            case data(Data)
            /// A file read while the request is sent.
            case file(String)
        }

        public var name: String
        public var content: Content
        /// The file name sent for the part (nil: none for data, the base name for a file).
        public var filename: String?
        /// nil: libcurl's choice.
        public var contentType: String?

        public init(name: String, content: Content, filename: String? = nil,
                    contentType: String? = nil) {
            self.name = name
            self.content = content
            self.filename = filename
            self.contentType = contentType
        }
    }

    /// Fills a C request with everything but the streams (the client sets those).
    func apply(to r: OpaquePointer) throws {
        for h in headers {
            try check(pincurl_request_add_header(r, try cArgument("\(h.name): \(h.value)", "header")),
                      detail: "header \(h.name) refused (no colon in the name, no CR or LF)")
        }
        if let body, bodyStream == nil, formParts.isEmpty {
            let status = body.withUnsafeBytes { buf in
                pincurl_request_set_body(r, buf.baseAddress, buf.count)
            }
            try check(status)
        }
        for part in formParts {
            let status: pincurl_status = try withOptionalCString(part.filename, "file name") { fn in
                try withOptionalCString(part.contentType, "content type") { ct in
                    let name = try cArgument(part.name, "form name")
                    switch part.content {
                    case .data(let d):
                        return d.withUnsafeBytes { buf in
                            pincurl_request_add_form_data(r, name, buf.baseAddress, buf.count, fn, ct)
                        }
                    case .file(let path):
                        return pincurl_request_add_form_file(r, name, try cArgument(path, "form file"),
                                                             fn, ct)
                    }
                }
            }
            try check(status)
        }
        if let outputFile {
            try check(pincurl_request_set_output_file(r, try cArgument(outputFile, "output file")))
        }
        if let c = credentials {
            try check(pincurl_request_set_credentials(r, try cArgument(c.user, "user"),
                                                      try cArgument(c.password, "password")))
        }
        if let ref = referer {
            try withOptionalCString(ref.value, "referer") { v in
                try check(pincurl_request_set_referer(r, v, ref.automatic ? 1 : 0))
            }
        }
        if let cookie {
            try check(pincurl_request_set_cookie(r, try cArgument(cookie, "cookie")))
        }
        if let acceptEncoding {
            try check(pincurl_request_set_accept_encoding(
                r, try cArgument(acceptEncoding, "accept encoding")))
        }
    }
}
