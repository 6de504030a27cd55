import CPincurl
import Foundation

/// An HTTP response that arrived (whatever its status code), or, inside a PincurlError,
/// what the library returned about a request that got none.
public struct Response: Sendable {
    /// The HTTP status code of the last response (0 when none arrived).
    public let statusCode: Int
    /// The headers of the last response, in order.
    public let headers: [Header]
    /// The body kept in memory (empty when streamed or written to a file).
    public let body: Data
    /// The URL of the last hop (after redirects).
    public let effectiveURL: String
    /// The verdict of the last pinned validation of the request; nil when no host the
    /// policy names was validated (an unpinned host, or a reused connection).
    public let verdict: Verdict?
    /// What libcurl measured about the transfer.
    public let transfer: TransferInfo

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
        transfer = TransferInfo(pincurl_response_info(r)!.pointee)
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

/// What libcurl measured and reported about a transfer (curl's --write-out variables), for
/// the last hop: a copy of pincurl_transfer_info. Times are microseconds from the start of
/// the request, -1 where libcurl gave none.
public struct TransferInfo: Sendable {
    /// The CURLcode the transfer ended with (0: CURLE_OK) and libcurl's message for it.
    public let curlCode: Int
    public let curlError: String
    public let osErrno: Int
    /// 10, 11, 20, 30; 0 if no response.
    public let httpVersion: Int
    public let redirects: Int
    /// New connections made.
    public let connects: Int
    public let nameLookupMicros: Int64
    public let connectMicros: Int64
    /// Until the TLS handshake (and its pin decision) ended.
    public let tlsHandshakeMicros: Int64
    public let firstByteMicros: Int64
    public let totalMicros: Int64
    public let bytesDownloaded: Int64
    public let bytesUploaded: Int64
    public let remoteIP: String
    public let remotePort: Int
    public let localIP: String
    public let localPort: Int
    public let contentType: String?
    /// Where the last response redirects (not followed).
    public let redirectURL: String?
    /// A Retry-After header in seconds from now, 0 if none.
    public let retryAfter: Int64

    init(_ t: pincurl_transfer_info) {
        curlCode = Int(t.curl_code)
        curlError = optionalString(t.curl_error) ?? ""
        osErrno = Int(t.os_errno)
        httpVersion = Int(t.http_version)
        redirects = Int(t.num_redirects)
        connects = Int(t.num_connects)
        nameLookupMicros = t.namelookup_us
        connectMicros = t.connect_us
        tlsHandshakeMicros = t.appconnect_us
        firstByteMicros = t.starttransfer_us
        totalMicros = t.total_us
        bytesDownloaded = t.size_download
        bytesUploaded = t.size_upload
        remoteIP = tupleString(t.remote_ip)
        remotePort = Int(t.remote_port)
        localIP = tupleString(t.local_ip)
        localPort = Int(t.local_port)
        contentType = optionalString(t.content_type)
        redirectURL = optionalString(t.redirect_url)
        retryAfter = t.retry_after
    }
}
