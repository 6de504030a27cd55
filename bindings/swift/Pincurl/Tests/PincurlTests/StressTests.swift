// The stress runs (ctest swift.stress). PINCURL_STRESS=full gives the full lengths: 64
// concurrent tasks for 20 s on one client, then 2,000 requests each on a new connection
// (a new client each). The default run is shorter (64 tasks x 5 s, 500 requests) with the
// same RSS bound, 20 MB over the state after a warm-up: a thread per request with the TLS
// library's per-thread cache grew the process by about 100 MB per second.
import Foundation
import Pincurl
import Testing

private let full = ProcessInfo.processInfo.environment["PINCURL_STRESS"] == "full"
private let boundKiB = 20 * 1024

@Suite(.serialized) struct StressTests {
    @Test func sixtyFourConcurrentTasksOnOneClient() async throws {
        let seconds: TimeInterval = full ? 20 : 5
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "stress")
        let pins = [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]
        let c = try Client(policy: try Policy(json: policyJSON(host: "localhost", enforce: true, pins: pins)),
                           options: Options(caFile: try Env.pki("root.pem"), connectTimeout: 10,
                                            timeout: 30,
                                            resolve: ["localhost:\(server.port):127.0.0.1"]))
        let url = "https://localhost:\(server.port)/bytes?n=2000"
        for _ in 0..<200 { _ = try await c.send(Request(url)) } // warm-up
        let before = try residentKiB()
        let deadline = Date().addingTimeInterval(seconds)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    var n = 0
                    while Date() < deadline {
                        let r = try await c.send(Request(url))
                        guard r.body.count == 2000 else { throw FixtureError("short body") }
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        let after = try residentKiB()
        let stats = TransferExecutor.shared.statistics
        print("64 tasks x \(seconds) s: \(counts) requests on \(stats.started) threads so far;"
              + " RSS \(before) KiB -> \(after) KiB (\(after - before) KiB)")
        #expect(counts > 64)
        #expect(stats.alive <= TransferExecutor.shared.maximumThreads)
        #expect(after - before < boundKiB, "RSS grew by \(after - before) KiB")
    }

    @Test func requestsOnNewConnections() async throws {
        let count = full ? 2_000 : 500
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "fresh")
        let json = policyJSON(host: "localhost", enforce: true,
                              pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")])
        let options = Options(caFile: try Env.pki("root.pem"), connectTimeout: 10, timeout: 30,
                              resolve: ["localhost:\(server.port):127.0.0.1"])
        let url = "https://localhost:\(server.port)/"
        func one() async throws {
            let c = try Client(policy: try Policy(json: json), options: options)
            let r = try await c.send(Request(url))
            guard r.statusCode == 200, r.transfer.connects == 1 else {
                throw FixtureError("HTTP \(r.statusCode), \(r.transfer.connects) connections")
            }
        }
        for _ in 0..<100 { try await one() } // warm-up
        let before = try residentKiB()
        for _ in 0..<count { try await one() }
        let after = try residentKiB()
        print("\(count) requests on new connections: RSS \(before) KiB -> \(after) KiB"
              + " (\(after - before) KiB)")
        #expect(after - before < boundKiB, "RSS grew by \(after - before) KiB")
    }
}
