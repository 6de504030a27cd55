import CPincurl
import Foundation

/// What the C callbacks of a client reach: the event handler, the event streams and the
/// clock. The client keeps it alive for as long as the C client exists, so the pointer the
/// C library holds never dangles.
final class Callbacks: @unchecked Sendable {
    let handler: (@Sendable (Event) -> Void)?
    let clock: (@Sendable () -> Date)?
    private let streams = Locked<(next: Int, continuations: [Int: AsyncStream<Event>.Continuation])>(
        (0, [:]))

    init(handler: (@Sendable (Event) -> Void)?, clock: (@Sendable () -> Date)?) {
        self.handler = handler
        self.clock = clock
    }

    func deliver(_ event: Event) {
        handler?(event)
        let targets = streams.withLock { Array($0.continuations.values) }
        for c in targets {
            c.yield(event) // buffered; never blocks the TLS handshake
        }
    }

    func stream(bufferingNewest limit: Int) -> AsyncStream<Event> {
        AsyncStream(bufferingPolicy: .bufferingNewest(limit)) { continuation in
            let id = streams.withLock { s -> Int in
                s.next += 1
                s.continuations[s.next] = continuation
                return s.next
            }
            continuation.onTermination = { [weak self] _ in
                _ = self?.streams.withLock { $0.continuations.removeValue(forKey: id) }
            }
        }
    }

    /// Ends every stream (the client is gone).
    func finish() {
        let targets = streams.withLock { s -> [AsyncStream<Event>.Continuation] in
            let all = Array(s.continuations.values)
            s.continuations.removeAll()
            return all
        }
        for c in targets {
            c.finish()
        }
    }
}

/// The C event callback: recovers the callbacks from `user` without taking ownership.
private func eventTrampoline(_ event: OpaquePointer?, _ user: UnsafeMutableRawPointer?) {
    guard let event, let user else { return }
    Unmanaged<Callbacks>.fromOpaque(user).takeUnretainedValue().deliver(Event(event))
}

/// The C clock: seconds since the epoch from the Swift clock.
private func clockTrampoline(_ user: UnsafeMutableRawPointer?) -> Int64 {
    guard let user, let clock = Unmanaged<Callbacks>.fromOpaque(user).takeUnretainedValue().clock
    else { return Int64(Date().timeIntervalSince1970) }
    let t = clock().timeIntervalSince1970
    return t.isFinite ? Int64(t) : Int64(Date().timeIntervalSince1970)
}

/// A streamed request body: the InputStream the transfer reads.
private final class BodyReader {
    let stream: InputStream
    var failure: (any Error)?

    init(_ stream: InputStream) {
        self.stream = stream
        stream.open()
    }

    deinit {
        stream.close()
    }
}

private func readTrampoline(_ buf: UnsafeMutableRawPointer?, _ size: Int,
                            _ user: UnsafeMutableRawPointer?) -> Int {
    guard let buf, let user else { return -1 }
    let reader = Unmanaged<BodyReader>.fromOpaque(user).takeUnretainedValue()
    let n = reader.stream.read(buf.assumingMemoryBound(to: UInt8.self), maxLength: size)
    if n < 0 {
        reader.failure = reader.stream.streamError
            ?? PincurlError.invalidArgument("the body stream failed")
        return -1 // (size_t)-1: abort
    }
    return n
}

/// A streamed response body: the handler the transfer writes to.
private final class BodyWriter {
    let handler: (Data) throws -> Void
    var failure: (any Error)?

    init(_ handler: @escaping (Data) throws -> Void) {
        self.handler = handler
    }
}

private func writeTrampoline(_ data: UnsafeRawPointer?, _ len: Int,
                             _ user: UnsafeMutableRawPointer?) -> Int {
    guard let user else { return 0 }
    let writer = Unmanaged<BodyWriter>.fromOpaque(user).takeUnretainedValue()
    do {
        try writer.handler(data.map { Data(bytes: $0, count: len) } ?? Data())
        return len
    } catch {
        writer.failure = error
        return 0
    }
}

/// A C request built from a Request, with the body reader and writer its callbacks
/// reach; freed with this object.
private final class CRequest {
    let raw: OpaquePointer
    private var reader: BodyReader?
    private var writer: BodyWriter?

    init(_ request: Request, onBody: ((Data) throws -> Void)?) throws {
        guard let r = pincurl_request_new(try cArgument(request.method, "method"),
                                          try cArgument(request.url, "URL")) else {
            throw PincurlError.invalidArgument(
                "request refused: method must be a token and the URL free of spaces and controls")
        }
        raw = r
        try request.apply(to: r)
        if let open = request.bodyStream {
            let body = BodyReader(open())
            reader = body
            let user = Unmanaged.passUnretained(body).toOpaque()
            let length = request.bodyLength ?? -1
            try check(request.upload
                ? pincurl_request_set_upload(r, readTrampoline, user, length)
                : pincurl_request_set_body_callback(r, readTrampoline, user, length))
        }
        if let onBody {
            let sink = BodyWriter(onBody)
            writer = sink
            try check(pincurl_request_set_write_callback(
                r, writeTrampoline, Unmanaged.passUnretained(sink).toOpaque()))
        }
    }

    deinit {
        pincurl_request_free(raw)
    }

    /// The response of a transfer of this request that ended with status (resp is freed
    /// here), or the error it ended with.
    func outcome(_ status: pincurl_status, _ resp: OpaquePointer?) throws -> Response {
        defer { pincurl_response_free(resp) }
        guard let resp else {
            throw makeError(status == PINCURL_OK ? PINCURL_OUT_OF_MEMORY : status)
        }
        let response = Response(resp)
        guard status == PINCURL_OK else {
            var detail = String(cString: pincurl_response_detail(resp))
            if let cause = reader?.failure ?? writer?.failure {
                detail += (detail.isEmpty ? "" : "\n") + "caused by: \(cause)"
            }
            throw makeError(status, detail: detail, verdict: response.verdict,
                            response: response)
        }
        return response
    }
}

/// One send as a C call (pincurl_call): executed on a thread of the executor, cancelled
/// from any thread. Frees the call, then its request, when the last holder lets go.
private final class Transfer: @unchecked Sendable {
    private let call: OpaquePointer
    private let request: CRequest

    /// The call holds a reference to the client's internals; client must be alive now.
    init(client: OpaquePointer, request: CRequest) throws {
        var made: OpaquePointer?
        try check(pincurl_call_new(client, request.raw, &made))
        guard let made else { throw PincurlError.internalError("pincurl_call_new returned no call") }
        self.call = made
        self.request = request
    }

    deinit {
        pincurl_call_free(call) // the call has ended or never ran: the request may go
    }

    /// Runs the call on the calling thread. CancellationError when it was cancelled.
    func execute() throws -> Response {
        var resp: OpaquePointer?
        let status = pincurl_call_execute(call, &resp)
        if status == PINCURL_CANCELLED && pincurl_call_is_cancelled(call) != 0 {
            pincurl_response_free(resp)
            throw CancellationError()
        }
        return try request.outcome(status, resp)
    }

    /// Thread-safe, any number of times; a call that ended is left as it is.
    func cancel() {
        pincurl_call_cancel(call)
    }
}

/// A pinned HTTPS client. Thread-safe: any number of tasks and threads may send on one
/// client at once. The C client is freed in deinit, which cannot run while a request is
/// in flight (each request keeps the client alive until it returns).
///
/// Threads: `send` runs the blocking transfer on the client's TransferExecutor (a bounded
/// set of threads that call pincurl_thread_cleanup() before they end), never on Swift's
/// cooperative pool and never on a thread of its own. Cancelling the task of a `send`
/// cancels its transfer (CancellationError within milliseconds).
public final class Client: @unchecked Sendable {
    private let raw: OpaquePointer
    private let callbacks: Callbacks
    /// The threads transfers run on.
    public let executor: TransferExecutor

    /// Creates a client enforcing policy (the client takes its own reference).
    /// Throws invalidArgument, outOfMemory, backendUnsupported, internal.
    public init(policy: Policy, options: Options = Options()) throws {
        guard let o = pincurl_options_new() else {
            throw PincurlError.outOfMemory("pincurl_options_new failed")
        }
        defer { pincurl_options_free(o) }
        try options.apply(to: o)
        let callbacks = Callbacks(handler: options.onEvent, clock: options.clock)
        let user = Unmanaged.passUnretained(callbacks).toOpaque()
        try check(pincurl_options_set_event_callback(o, eventTrampoline, user))
        if options.clock != nil {
            try check(pincurl_options_set_clock(o, clockTrampoline, user))
        }
        var client: OpaquePointer?
        let status = withExtendedLifetime(policy) { pincurl_client_new(policy.raw, o, &client) }
        try check(status)
        guard let client else { throw PincurlError.internalError("pincurl_client_new returned no client") }
        self.raw = client
        self.callbacks = callbacks
        self.executor = options.executor ?? .shared
    }

    deinit {
        // Events raised while freeing still find the callbacks: released after this body.
        pincurl_client_free(raw)
        callbacks.finish()
        withExtendedLifetime(callbacks) {}
    }

    /// Every event of the client from now on, as an AsyncStream (the same events as
    /// Options.onEvent). The newest `bufferingNewest` events are kept when the reader is
    /// slower (the TLS handshake never waits for it). The stream ends when the client is
    /// freed or the task reading it is cancelled.
    public func events(bufferingNewest limit: Int = 256) -> AsyncStream<Event> {
        callbacks.stream(bufferingNewest: max(1, limit))
    }

    /// Sends a request and returns the response that arrived (whatever its HTTP status).
    /// Throws the PincurlError of the outcome (code pinMismatch with the failure detail,
    /// the verdict and the response; certInvalid, timeout, ...).
    ///
    /// The transfer runs on the client's executor as a C call (pincurl_call_execute).
    /// Cancelling the task cancels it (pincurl_call_cancel, from the cancellation handler):
    /// a task cancelled before its transfer starts throws CancellationError and never
    /// connects; a running transfer stops within milliseconds whatever it waits for (the
    /// handshake, an answer that never comes, a body being sent), its connection closed,
    /// and throws CancellationError.
    public func send(_ request: Request) async throws -> Response {
        try await sendCall(request, onBody: nil)
    }

    /// Sends a request and hands the response body to onBody in chunks as it arrives (on
    /// the transfer thread; throwing aborts the request with abortedByCallback, the thrown
    /// error as the detail). The returned response has an empty body. Cancelling the task
    /// cancels the transfer as for send(_:).
    public func send(_ request: Request,
                     onBody: @escaping @Sendable (Data) throws -> Void) async throws -> Response {
        try await sendCall(request, onBody: onBody)
    }

    /// The request as a C call, executed on the executor; the task's cancellation handler
    /// cancels the call. The Transfer (the call and its request) is held by the job and by
    /// the handler, so it is freed only when both are done with it.
    private func sendCall(_ request: Request,
                          onBody: (@Sendable (Data) throws -> Void)?) async throws -> Response {
        try Task.checkCancellation()
        let transfer = try Transfer(client: raw, request: CRequest(request, onBody: onBody))
        return try await withTaskCancellationHandler {
            try await onExecutor { _ in try transfer.execute() }
        } onCancel: {
            transfer.cancel()
        }
    }

    /// Runs work on the executor with this client. The job holds the client until work
    /// returns and lets go of it before resuming the caller.
    private func onExecutor<T: Sendable>(_ work: @escaping @Sendable (Client) throws -> T)
        async throws -> T {
        let retained = Locked<Unmanaged<Client>?>(Unmanaged.passRetained(self))
        let take = { @Sendable () -> Client? in
            retained.withLock { r -> Client? in
                defer { r = nil }
                return r?.takeRetainedValue()
            }
        }
        do {
            return try await executor.run {
                let result: Result<T, any Error>
                do {
                    let client = take()!
                    result = Result { try work(client) }
                }
                return try result.get()
            }
        } catch {
            _ = take() // a job that never ran releases here
            throw error
        }
    }

    /// Sends a request on the calling thread, blocking until it ends. Same results as
    /// send(_:). Do not call it from the cooperative thread pool (use send there). A thread
    /// of the application that sends this way should call Pincurl.threadCleanup() before
    /// it ends.
    public func sendBlocking(_ request: Request) throws -> Response {
        try perform(request, onBody: nil)
    }

    /// send(_:onBody:) on the calling thread.
    public func sendBlocking(_ request: Request,
                             onBody: @escaping (Data) throws -> Void) throws -> Response {
        try perform(request, onBody: onBody)
    }

    private func perform(_ request: Request,
                         onBody: ((Data) throws -> Void)?) throws -> Response {
        let req = try CRequest(request, onBody: onBody)
        var resp: OpaquePointer?
        let status = withExtendedLifetime(req) { pincurl_client_perform(raw, req.raw, &resp) }
        return try req.outcome(status, resp)
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
    /// The wait runs on the executor. Throws invalidArgument.
    public func flushReports(timeout: TimeInterval) async throws -> Bool {
        try await onExecutor { try $0.flushReportsBlocking(timeout: timeout) }
    }

    /// flushReports(timeout:), blocking the calling thread.
    public func flushReportsBlocking(timeout: TimeInterval) throws -> Bool {
        let status = pincurl_client_flush_reports(raw, try milliseconds(timeout, "timeout"))
        if status == PINCURL_TIMEOUT {
            return false
        }
        try check(status)
        return true
    }

    /// Writes the cookie store to the save file of Options.cookieEngine.
    public func saveCookies() throws {
        try check(pincurl_client_save_cookies(raw))
    }

    /// The TLS backend pin decisions run on ("wolfssl", ...).
    public var tlsBackend: String {
        String(cString: pincurl_client_tls_backend(raw))
    }

    /// The C library's version, "MAJOR.MINOR.PATCH".
    public static var libraryVersion: String {
        String(cString: pincurl_version())
    }

    var pointer: OpaquePointer {
        raw
    }
}
