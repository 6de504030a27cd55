// Conversions between the C API and Swift values, shared by the binding's files.
import CPincurl
import Foundation

/// The C number of a status.
@inline(__always)
func statusCode(_ status: pincurl_status) -> Int32 {
    Int32(bitPattern: UInt32(truncatingIfNeeded: status.rawValue))
}

/// The static English sentence of a status (pincurl_strerror).
func statusMessage(_ status: pincurl_status) -> String {
    String(cString: pincurl_strerror(status))
}

/// Throws the error for status unless it is OK. detail replaces the status's sentence when
/// it is not empty.
func check(_ status: pincurl_status, detail: String? = nil) throws {
    if status == PINCURL_OK {
        return
    }
    throw makeError(status, detail: detail)
}

func makeError(_ status: pincurl_status, detail: String? = nil, verdict: Verdict? = nil,
               response: Response? = nil) -> PincurlError {
    let text = (detail?.isEmpty ?? true) ? statusMessage(status) : detail!
    // A failure never reports OK; map a stray OK to INTERNAL rather than lose the error.
    let n = statusCode(status)
    return PincurlError(status: n == 0 ? PincurlError.Code.internal.rawValue : n,
                        detail: text, verdict: verdict, response: response)
}

/// A string for a C argument: Swift strings may hold NUL, which C would silently cut at.
func cArgument(_ s: String, _ what: String) throws -> String {
    if s.utf8.contains(0) {
        throw PincurlError.invalidArgument("\(what) contains a NUL character")
    }
    return s
}

/// A borrowed C string, or nil.
func optionalString(_ p: UnsafePointer<CChar>?) -> String? {
    p.map { String(cString: $0) }
}

/// A NUL-terminated char array inside a C struct (imported as a tuple).
func tupleString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Calls body with the bytes of data as chars and their count; the pointer is never NULL,
/// also for empty data.
func withCChars<R>(_ data: Data, _ body: (UnsafePointer<CChar>, Int) throws -> R) rethrows -> R {
    if data.isEmpty {
        var zero: CChar = 0
        return try body(&zero, 0)
    }
    return try data.withUnsafeBytes { buf in
        try body(buf.bindMemory(to: CChar.self).baseAddress!, buf.count)
    }
}

/// Calls body with the bytes of data as UInt8 and their count (never a NULL pointer).
func withBytes<R>(_ data: Data, _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
    if data.isEmpty {
        var zero: UInt8 = 0
        return try body(&zero, 0)
    }
    return try data.withUnsafeBytes { buf in
        try body(buf.bindMemory(to: UInt8.self).baseAddress!, buf.count)
    }
}

/// An optional string as a C argument (NUL checked), passed to body.
func withOptionalCString<R>(_ s: String?, _ what: String,
                            _ body: (UnsafePointer<CChar>?) throws -> R) throws -> R {
    guard let s else { return try body(nil) }
    return try cArgument(s, what).withCString { try body($0) }
}

/// Seconds as the C library's milliseconds: finite, >= 0, a positive duration below 1 ms
/// is 1 ms (not "none").
func milliseconds(_ seconds: TimeInterval, _ what: String) throws -> Int {
    guard seconds.isFinite, seconds >= 0, seconds * 1000 < Double(Int32.max) else {
        throw PincurlError.invalidArgument("\(what) \(seconds) s is out of range")
    }
    return seconds > 0 ? max(1, Int((seconds * 1000).rounded())) : 0
}

/// A mutable value behind a lock, for state shared by threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
