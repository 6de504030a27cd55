// Task cancellation of send(_:) against tests/servers/tls_server.py, whose /hang route
// never answers.
import Foundation
import Pincurl
import Testing

private func hangingClient() throws -> Client {
    let policy = try Policy(json: policyJSON(
        host: "localhost", enforce: true,
        pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]))
    // a timeout far beyond the bounds below: only cancellation can end /hang in time
    return try Client(policy: policy, options: Options(
        caFile: try Env.pki("root.pem"), connectTimeout: 10, timeout: 30))
}

/// Polls condition every 5 ms for up to 10 s.
private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(10)
    while !condition() {
        if Date() > deadline { throw FixtureError("timed out waiting for \(what)") }
        try await Task.sleep(nanoseconds: 5_000_000)
    }
}

@Suite(.serialized) struct CancellationTests {
    @Test func cancellingTheTaskStopsATransferInFlight() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "hang")
        let c = try hangingClient()
        let url = "https://localhost:\(server.port)/hang"
        let task = Task { () -> (outcome: Result<Response, any Error>, ended: Date) in
            do {
                let r = try await c.send(Request(url))
                return (.success(r), Date())
            } catch {
                return (.failure(error), Date())
            }
        }
        // the request is on the wire, its answer awaited
        try await waitUntil("the request") { server.requestBytes > 0 }
        try await Task.sleep(nanoseconds: 100_000_000)
        let cancelled = Date()
        task.cancel()
        let (outcome, ended) = await task.value
        let ms = ended.timeIntervalSince(cancelled) * 1000
        print("task cancel to CancellationError: \(String(format: "%.1f", ms)) ms")
        switch outcome {
        case .success(let r):
            Issue.record("/hang answered \(r.statusCode)")
        case .failure(let error):
            #expect(error is CancellationError, "\(error)")
        }
        #expect(ms < 200, "cancellation took \(ms) ms")
        #expect(server.waitClosed(), "the cancelled transfer's connection is still open")

        // the client goes on, on a new connection
        let r = try await c.send(Request("https://localhost:\(server.port)/"))
        #expect(r.statusCode == 200)
        #expect(r.text == "hello from hang")
    }

    @Test func streamedSendIsCancelledToo() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "hang")
        let c = try hangingClient()
        let url = "https://localhost:\(server.port)/hang"
        let task = Task { () -> (outcome: Result<Response, any Error>, ended: Date) in
            do {
                let r = try await c.send(Request(url), onBody: { _ in })
                return (.success(r), Date())
            } catch {
                return (.failure(error), Date())
            }
        }
        try await waitUntil("the request") { server.requestBytes > 0 }
        let cancelled = Date()
        task.cancel()
        let (outcome, ended) = await task.value
        let ms = ended.timeIntervalSince(cancelled) * 1000
        if case .failure(let error) = outcome {
            #expect(error is CancellationError, "\(error)")
        } else {
            Issue.record("/hang answered")
        }
        #expect(ms < 200, "cancellation took \(ms) ms")
    }

    @Test func aTaskCancelledBeforeSendingNeverConnects() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "idle")
        let c = try hangingClient()
        let url = "https://localhost:\(server.port)/"
        let task = Task { () -> (any Error)? in
            withUnsafeCurrentTask { $0?.cancel() }
            do {
                _ = try await c.send(Request(url))
                return nil
            } catch {
                return error
            }
        }
        let error = await task.value
        #expect(error is CancellationError, "\(String(describing: error))")
        try await Task.sleep(nanoseconds: 200_000_000) // a connection would be logged by now
        #expect(server.connections == 0)
    }
}
