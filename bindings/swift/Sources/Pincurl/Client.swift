import CPincurl
import Foundation

/// Holds the application's event handler for the C callback. The client keeps it alive
/// for as long as the C client exists, so the pointer the C library holds never dangles.
final class EventSink: Sendable {
    let handler: @Sendable (Event) -> Void

    init(_ handler: @escaping @Sendable (Event) -> Void) {
        self.handler = handler
    }
}

/// The C event callback: recovers the sink from `user` without taking ownership.
private func eventTrampoline(_ event: OpaquePointer?, _ user: UnsafeMutableRawPointer?) {
    guard let event, let user else { return }
    let sink = Unmanaged<EventSink>.fromOpaque(user).takeUnretainedValue()
    sink.handler(Event(event))
}

/// A pinned HTTPS client. Thread-safe: any number of tasks and threads may send on one
/// client at once. The C client is freed in deinit, which cannot run while a request is
/// in flight (each request keeps the client alive until it returns).
public final class Client: @unchecked Sendable {
    private let raw: OpaquePointer
    private let sink: EventSink?

    /// Stack of the threads that run blocking requests (TLS handshakes need more than a
    /// secondary thread's default on some platforms).
    static let performStackSize = 4 << 20

    /// Creates a client enforcing policy (the client takes its own reference).
    /// Throws invalidArgument, outOfMemory, backendUnsupported, internal.
    public init(policy: Policy, options: Options = Options()) throws {
        guard let o = pincurl_options_new() else {
            throw PincurlError.outOfMemory("pincurl_options_new failed")
        }
        defer { pincurl_options_free(o) }
        try options.apply(to: o)
        let sink = options.onEvent.map { EventSink($0) }
        if let sink {
            try check(pincurl_options_set_event_callback(
                o, eventTrampoline, Unmanaged.passUnretained(sink).toOpaque()))
        }
        var client: OpaquePointer?
        let status = withExtendedLifetime(policy) { pincurl_client_new(policy.raw, o, &client) }
        try check(status)
        guard let client else { throw PincurlError.internal("pincurl_client_new returned no client") }
        self.raw = client
        self.sink = sink
    }

    deinit {
        // Events raised while freeing still find the sink: it is released after this body.
        pincurl_client_free(raw)
        withExtendedLifetime(sink) {}
    }

    /// Sends a request and returns the response that arrived (whatever its HTTP status).
    /// Throws the error of the outcome: pinMismatch with the failure detail (host,
    /// validated path with pins, the policy's pins), certInvalid, timeout, ...
    ///
    /// The blocking transfer runs on a thread of its own, never on the cooperative pool.
    /// Cancellation is checked before the request starts; a started transfer runs to its
    /// end (bound it with Options.timeout).
    public func send(_ request: Request) async throws -> Response {
        try Task.checkCancellation()
        return try await onOwnThread("pincurl.send") { try $0.sendBlocking(request) }
    }

    /// Runs work on a new thread (never on the cooperative pool) and resumes with its
    /// result. The thread holds the client until work returns and lets go of it before
    /// resuming, so once the caller's await returns only the caller's references remain.
    private func onOwnThread<T: Sendable>(_ name: String,
                                          _ work: @escaping @Sendable (Client) throws -> T)
        async throws -> T {
        let retained = Unmanaged.passRetained(self)
        return try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                Thread.current.name = name // for debuggers and crash reports
                let result: Result<T, any Error>
                do {
                    let client = retained.takeRetainedValue()
                    result = Result { try work(client) }
                }
                continuation.resume(with: result)
            }
            thread.stackSize = Client.performStackSize
            thread.start()
        }
    }

    /// Sends a request on the calling thread, blocking until it ends. Same results as
    /// send(_:). Do not call it from the cooperative thread pool (use send there).
    public func sendBlocking(_ request: Request) throws -> Response {
        guard let r = pincurl_request_new(try cArgument(request.method, "method"),
                                          try cArgument(request.url, "URL")) else {
            throw PincurlError.invalidArgument(
                "request refused: method must be a token and the URL free of spaces and controls")
        }
        defer { pincurl_request_free(r) }
        for h in request.headers {
            try check(pincurl_request_add_header(r, try cArgument("\(h.name): \(h.value)", "header")),
                      detail: "header \(h.name) refused (no colon in the name, no CR or LF)")
        }
        if let body = request.body {
            let status = body.withUnsafeBytes { buf in
                pincurl_request_set_body(r, buf.baseAddress, buf.count)
            }
            try check(status)
        }
        var resp: OpaquePointer?
        let status = pincurl_client_perform(raw, r, &resp)
        defer { pincurl_response_free(resp) }
        guard let resp else {
            throw makeError(status == PINCURL_OK ? PINCURL_OUT_OF_MEMORY : status)
        }
        guard status == PINCURL_OK else {
            throw makeError(status, detail: String(cString: pincurl_response_detail(resp)))
        }
        return Response(resp)
    }

    /// The policy in force now.
    public var policy: Policy {
        // pincurl_client_policy returns a new reference; NULL only for a NULL client.
        Policy(adopting: pincurl_client_policy(raw)!)
    }

    /// Puts policy in force as a new generation: requests that start afterwards decide
    /// with it, and nothing verified under an older generation is resumed or reused.
    /// Thread-safe, also while requests run. Throws invalidArgument, backendUnsupported.
    public func setPolicy(_ policy: Policy) throws {
        let status = withExtendedLifetime(policy) { pincurl_client_set_policy(raw, policy.raw) }
        try check(status)
    }

    /// The generation in force: 1 for the policy the client was made with, plus one per
    /// setPolicy.
    public var generation: UInt64 {
        pincurl_client_generation(raw)
    }

    /// Reports dropped so far because the spool was full (since the client was made).
    public var reportsDropped: UInt64 {
        pincurl_client_reports_dropped(raw)
    }

    /// Reports not written because an identical one was spooled within the last 24 hours.
    public var reportsSuppressed: UInt64 {
        pincurl_client_reports_suppressed(raw)
    }

    /// Waits until the report spool is empty or timeout seconds passed. Returns true when
    /// it is empty, false when reports remain (they stay in the spool for later delivery).
    /// The wait runs on a thread of its own. Throws invalidArgument.
    public func flushReports(timeout: TimeInterval) async throws -> Bool {
        try await onOwnThread("pincurl.flush") { try $0.flushReportsBlocking(timeout: timeout) }
    }

    /// flushReports(timeout:), blocking the calling thread.
    public func flushReportsBlocking(timeout: TimeInterval) throws -> Bool {
        guard timeout.isFinite, timeout >= 0, timeout * 1000 < Double(Int32.max) else {
            throw PincurlError.invalidArgument("timeout \(timeout) s is out of range")
        }
        let status = pincurl_client_flush_reports(raw, Int((timeout * 1000).rounded()))
        if status == PINCURL_TIMEOUT {
            return false
        }
        try check(status)
        return true
    }

    /// The TLS backend pin decisions run on ("wolfssl", ...).
    public var tlsBackend: String {
        String(cString: pincurl_client_tls_backend(raw))
    }

    /// The C library's version, "MAJOR.MINOR.PATCH".
    public static var libraryVersion: String {
        String(cString: pincurl_version())
    }
}
