import CPincurl
import Foundation

/// The threads that run blocking transfers: never Swift's cooperative pool, never a thread
/// per request. At most `maximumThreads` run at once; a request beyond that waits in a
/// queue, in order. A thread is started when work arrives and none is idle, and ends after
/// `idleTimeout` seconds without work, calling pincurl_thread_cleanup() first, so what the
/// TLS library keeps per thread is freed.
///
/// Every client uses `TransferExecutor.shared` unless its options name another (one per
/// client isolates a client's hanging requests from the others').
public final class TransferExecutor: @unchecked Sendable {
    /// 8 threads, 10 s idle timeout.
    public static let shared = TransferExecutor(maximumThreads: 8, idleTimeout: 10)

    public let maximumThreads: Int
    public let idleTimeout: TimeInterval
    /// Stack size of the threads (TLS handshakes need more than some platforms' default
    /// for secondary threads).
    static let stackSize = 4 << 20

    private let condition = NSCondition()
    private var jobs: [(@Sendable () -> Void)?] = [] // taken ones are nil
    private var head = 0
    private var threads = 0
    private var idle = 0
    private var started = 0
    private var cleanedUp = 0

    /// maximumThreads >= 1; idleTimeout > 0 seconds.
    public init(maximumThreads: Int, idleTimeout: TimeInterval = 10) {
        precondition(maximumThreads >= 1, "maximumThreads must be at least 1")
        precondition(idleTimeout > 0, "idleTimeout must be positive")
        self.maximumThreads = maximumThreads
        self.idleTimeout = idleTimeout
    }

    /// Counters: threads alive now, started so far, ended (after pincurl_thread_cleanup)
    /// so far, and jobs waiting.
    public var statistics: (alive: Int, started: Int, cleanedUp: Int, queued: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (threads, started, cleanedUp, jobs.count - head)
    }

    /// Runs job on one of the threads, in submission order.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        var start = false
        if idle > 0 {
            condition.signal()
        } else if threads < maximumThreads {
            threads += 1
            started += 1
            start = true
        }
        condition.unlock()
        if start {
            let thread = Thread { [self] in self.work() }
            thread.name = "pincurl.transfer"
            thread.stackSize = TransferExecutor.stackSize
            thread.start()
        }
    }

    private func work() {
        condition.lock()
        while true {
            while head == jobs.count {
                idle += 1
                let woken = condition.wait(until: Date(timeIntervalSinceNow: idleTimeout))
                idle -= 1
                if !woken && head == jobs.count {
                    threads -= 1
                    condition.unlock()
                    pincurl_thread_cleanup()
                    condition.lock()
                    cleanedUp += 1
                    condition.unlock()
                    return
                }
            }
            let job = jobs[head]!
            jobs[head] = nil // what the job holds goes with it, not with the queue
            head += 1
            if head > 64 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
            condition.lock()
        }
    }

    /// Runs work on a thread of the executor and resumes with its result. A task cancelled
    /// before its work starts gets CancellationError and the work never runs; work that
    /// has started runs to its end, unless it stops on the task's cancellation itself
    /// (Client.send cancels its C call from a cancellation handler).
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        let state = Locked<(cancelled: Bool, started: Bool)>((false, false))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<T, any Error>) in
                submit {
                    let go = state.withLock { s -> Bool in
                        if s.cancelled { return false }
                        s.started = true
                        return true
                    }
                    guard go else {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    continuation.resume(with: Result { try work() })
                }
            }
        } onCancel: {
            state.withLock { $0.cancelled = true }
        }
    }
}
