// Real pinned requests against tests/servers/tls_server.py and mitmproxy on loopback.
import Foundation
import Pincurl
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client trusting caFile for a policy pinning localhost.
private func client(host: String = "localhost", enforce: Bool = true, pins: [String],
                    caFile: String? = nil, proxy: String? = nil,
                    events: EventLog? = nil) throws -> Client {
    let policy = try Policy(json: policyJSON(host: host, enforce: enforce, pins: pins))
    var options = Options(caFile: try caFile ?? Env.pki("root.pem"), connectTimeout: 10,
                          timeout: 30, proxy: proxy)
    if let events {
        options.onEvent = { events.add($0) }
    }
    return try Client(policy: policy, options: options)
}

@Suite(.serialized) struct ClientTests {
    @Test func pinnedHostSucceeds() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "pinned")
        let inter = try pkiPin("inter.pem"), backup = try pkiPin("leaf-backup.pem")
        let events = EventLog()
        let c = try client(pins: [inter, backup], events: events)
        #expect(["wolfssl", "openssl"].contains(c.tlsBackend), "\(c.tlsBackend)")
        #expect(c.generation == 1)
        let url = "https://localhost:\(server.port)/"
        let r = try await c.send(Request(url))
        #expect(r.statusCode == 200)
        #expect(r.text == "hello from pinned")
        #expect(r.effectiveURL == url)
        #expect(r.header("SERVER") == "pincurl-test/pinned")
        let v = try #require(r.verdict)
        #expect(v.result == .success)
        #expect(v.allowed && v.pinned && v.enforce)
        #expect(v.matchedDepth == 1)
        #expect(v.matchedPin?.description == inter)
        #expect(v.pathPins.map(\.description)
                == [try pkiPin("leaf-ec.pem"), inter, try pkiPin("root.pem")])
        #expect(v.notedHost == "localhost")
        #expect(!v.servedDiffers)

        let seen = events.validations
        #expect(seen.count == 1)
        #expect(seen.first?.host == "localhost")
        #expect(seen.first?.port == server.port)
        #expect(seen.first?.verdict?.result == .success)
        #expect(seen.first?.pathCertificates.count == 3)
        #expect(seen.first?.servedCertificates.count == 2)
        #expect(seen.first?.generation == 1)

        // POST with a body and a header, on the same client.
        let echo = try await c.send(Request("https://localhost:\(server.port)/echo",
                                            method: "POST", body: Data("ping".utf8)))
        #expect(echo.text == "ping")
        var req = Request("https://localhost:\(server.port)/headers")
        req.addHeader("X-Pincurl-Test", "swift")
        let headers = try await c.send(req)
        #expect(headers.text?.contains("X-Pincurl-Test: swift") == true)
    }

    @Test func pinMismatchIsRefusedWithDetail() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "pinned")
        let backup = try pkiPin("leaf-backup.pem"), rogue = try pkiPin("rogue-root.pem")
        let events = EventLog()
        let c = try client(pins: [backup, rogue], events: events)
        do {
            let r = try await c.send(Request("https://localhost:\(server.port)/"))
            Issue.record("a mismatching host answered \(r.statusCode)")
        } catch let caught as PincurlError where caught.code == .pinMismatch {
            let detail = caught.detail
            #expect(detail.contains("Certificate pinning failure!"), "\(detail)")
            #expect(detail.contains("PIN_MISMATCH"), "\(detail)")
            #expect(detail.contains("Pinned certificates for localhost:"), "\(detail)")
            for name in ["leaf-ec.pem", "inter.pem", "root.pem", "leaf-backup.pem", "rogue-root.pem"] {
                let pin = try pkiPin(name)
                #expect(detail.contains(pin), "\(name) \(pin) not in the detail")
            }
        }
        #expect(server.waitClosed())
        #expect(server.connections == 1)
        #expect(server.requestBytes == 0, "request bytes reached the server")
        let v = try #require(events.validations.last?.verdict)
        #expect(v.result == .pinMismatch)
        #expect(!v.allowed)
        #expect(events.validations.last?.message.contains("Certificate pinning failure!") == true)
    }

    @Test func otherFailuresHaveTheirCases() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "x")
        let pins = [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]
        // Cleartext to a pinned host.
        let c = try client(pins: pins)
        do {
            _ = try await c.send(Request("http://localhost:\(server.port)/"))
            Issue.record("cleartext to a pinned host was sent")
        } catch let caught as PincurlError where caught.code == .cleartextPinned {
            let detail = caught.detail
            #expect(detail.contains("CLEARTEXT_PINNED"), "\(detail)")
        }
        #expect(server.connections == 0)
        // Untrusted: only the rogue root is trusted.
        let untrusting = try client(pins: pins, caFile: try Env.pki("rogue-root.pem"))
        do {
            _ = try await untrusting.send(Request("https://localhost:\(server.port)/"))
            Issue.record("an untrusted certificate was accepted")
        } catch let e as PincurlError {
            guard e.code == .certInvalid else {
                Issue.record("expected certInvalid, got \(e)")
                return
            }
            #expect(!e.detail.isEmpty)
        }
        // A bad header line never reaches the C library unchecked.
        var bad = Request("https://localhost:\(server.port)/")
        bad.addHeader("X-Bad", "a\r\nInjected: 1")
        await #expect(throws: PincurlError.self) { _ = try await c.send(bad) }
        await #expect(throws: PincurlError.self) {
            _ = try await c.send(Request("https://localhost:\(server.port)/\u{0}evil"))
        }
    }

    @Test(.enabled(if: Mitmproxy.available, "mitmdump is not installed"))
    func mitmproxyInterceptionIsRefused() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "genuine")
        let mitm = try Mitmproxy(upstreamCA: try Env.pki("root.pem"))
        // The device trusts the genuine root and the interception CA.
        let bundle = mitm.confdir + "/bundle.pem"
        let trusted = try Data(contentsOf: URL(fileURLWithPath: try Env.pki("root.pem")))
            + Data(contentsOf: URL(fileURLWithPath: mitm.caCert))
        try trusted.write(to: URL(fileURLWithPath: bundle))
        let proxy = "http://127.0.0.1:\(mitm.port)"
        let url = "https://localhost:\(server.port)/"

        let pinned = try client(pins: [try pkiPin("inter.pem"), try pkiPin("root.pem")],
                                caFile: bundle, proxy: proxy)
        do {
            let r = try await pinned.send(Request(url))
            Issue.record("the intercepted connection answered \(r.statusCode)")
        } catch let caught as PincurlError where caught.code == .pinMismatch {
            let detail = caught.detail
            #expect(detail.contains("Certificate pinning failure!"), "\(detail)")
        }
        #expect(server.requestBytes == 0, "a request reached the upstream server")

        // The same request without pinning localhost goes through the proxy.
        let unpinned = try client(host: "other.example",
                                  pins: [try pkiPin("p256.pem"), try pkiPin("p384.pem")],
                                  caFile: bundle, proxy: proxy)
        let r = try await unpinned.send(Request(url))
        #expect(r.statusCode == 200)
        #expect(r.text == "hello from genuine")
        #expect(r.verdict == nil)
        #expect(server.requestBytes > 0)
    }

    @Test func reportOnlyMismatchIsLetThroughAndTheHandlerCalled() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "watched")
        let events = EventLog()
        let c = try client(enforce: false, pins: [try pkiPin("rogue-root.pem")], events: events)
        let r = try await c.send(Request("https://localhost:\(server.port)/"))
        #expect(r.statusCode == 200)
        #expect(r.text == "hello from watched")
        let v = try #require(r.verdict)
        #expect(v.result == .pinMismatch)
        #expect(v.allowed)
        #expect(!v.enforce)
        let seen = events.validations
        #expect(seen.count == 1)
        #expect(seen.first?.verdict?.result == .pinMismatch)
        #expect(seen.first?.verdict?.allowed == true)
        #expect(seen.first?.host == "localhost")
        // Without a spool directory the report cannot be written, and an event says so.
        let queued = events.events.filter { $0.kind == .reportQueued }
        #expect(queued.allSatisfy { $0.error != nil })
    }

    @Test func reportOnlyMismatchIsReportedToTheCollector() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "watched")
        let collector = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key",
                                      name: "collector")
        let spool = try makeTempDir("spool")
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let events = EventLog()
        let policy = try Policy(json: policyJSON(
            host: "localhost", enforce: false, pins: [try pkiPin("rogue-root.pem")],
            reportURIs: ["https://127.0.0.1:\(collector.port)/"]))
        #expect(policy.reportURIs == ["https://127.0.0.1:\(collector.port)/"])
        var options = Options(caFile: try Env.pki("root.pem"), connectTimeout: 10, timeout: 30)
        options.spoolDir = spool + "/reports"
        options.appInfo = .init(bundleID: "org.pincurl.swift-tests", version: "1.0",
                                platform: "linux")
        options.onEvent = { events.add($0) }
        do {
            let c = try Client(policy: policy, options: options)
            let r = try await c.send(Request("https://localhost:\(server.port)/"))
            #expect(r.statusCode == 200)
            let queued = events.events.filter { $0.kind == .reportQueued }
            #expect(queued.count == 1)
            #expect(queued.first?.error == nil, "\(queued.first?.message ?? "")")
            #expect(try await c.flushReports(timeout: 20), "the report was not delivered")
            #expect(collector.requestBytes > 0, "the collector received nothing")
            for _ in 0..<500 where !events.events.contains(where: { $0.kind == .reportSent }) {
                usleep(10_000) // the sender raises REPORT_SENT after the spool emptied
            }
            #expect(events.events.contains { $0.kind == .reportSent && $0.error == nil })
            #expect(c.reportsDropped == 0)
            #expect(c.reportsSuppressed == 0)
        }
        // A new client on the same spool: the same mismatch within the window is
        // deduplicated, not spooled again.
        let again = try Client(policy: policy, options: options)
        #expect(try await again.send(Request("https://localhost:\(server.port)/")).statusCode == 200)
        #expect(again.reportsSuppressed == 1)
        #expect(events.events.filter { $0.kind == .reportQueued }.count == 1)
    }

    @Test func aDomainEntryExpiresOnItsOwn() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "expiry")
        let a = try pkiPin("p256.pem"), b = try pkiPin("p384.pem") // not on the path
        // localhost's own pins expired in 2015 (report_and_allow); the policy's expiry (2099,
        // block) is far away; other.example has no expiry of its own.
        let json = """
            {"pincurl_policy": 1, "expires": "2099-12-31", "on_expiry": "block", "domains": {
              "localhost": {"pins": ["\(a)", "\(b)"], "expires": "2015-01-01",
                            "on_expiry": "report_and_allow"},
              "other.example": {"pins": ["\(a)", "\(b)"]}}}
            """
        let policy = try Policy(json: json)
        let own = Date(timeIntervalSince1970: 1_420_070_400) // 2015-01-01
        #expect(policy.lookup("localhost")?.expires == own)
        #expect(policy.lookup("localhost")?.blocksOnExpiry == false)
        #expect(policy.lookup("other.example")?.expires == nil)
        #expect(policy.lookup("other.example")?.blocksOnExpiry == true)
        let c = try Client(policy: policy,
                           options: Options(caFile: try Env.pki("root.pem"), connectTimeout: 10,
                                            timeout: 30))
        let r = try await c.send(Request("https://localhost:\(server.port)/"))
        #expect(r.statusCode == 200)
        let v = try #require(r.verdict)
        #expect(v.result == .pinMismatch)
        #expect(v.allowed)
        #expect(v.expiry == .valid) // the policy's own
        #expect(v.domainExpires == own)
        #expect(v.effectiveExpires == own)
        #expect(v.effectiveExpiry == .expired)
        #expect(!v.effectiveBlocksOnExpiry)
    }

    @Test func setPolicyStartsANewGeneration() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "gen")
        let events = EventLog()
        let good = [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]
        let bad = [try pkiPin("leaf-backup.pem"), try pkiPin("rogue-root.pem")]
        let c = try client(pins: good, events: events)
        let url = "https://localhost:\(server.port)/"
        #expect(try await c.send(Request(url)).statusCode == 200)

        try c.setPolicy(try Policy(json: policyJSON(host: "localhost", enforce: true, pins: bad)))
        #expect(c.generation == 2)
        #expect(c.policy.domains.first?.pins.map(\.description) == bad)
        #expect(events.events.contains { $0.kind == .policyChanged && $0.generation == 2 })
        // The kept-alive connection of generation 1 is not reused without a new decision.
        do {
            _ = try await c.send(Request(url))
            Issue.record("generation 2 let a mismatching host through")
        } catch let caught as PincurlError where caught.code == .pinMismatch {
            let detail = caught.detail
            #expect(detail.contains("Certificate pinning failure!"), "\(detail)")
        }
        #expect(events.validations.last?.generation == 2)
        #expect(events.validations.last?.verdict?.result == .pinMismatch)

        try c.setPolicy(try Policy(json: policyJSON(host: "localhost", enforce: true, pins: good)))
        #expect(c.generation == 3)
        #expect(try await c.send(Request(url)).statusCode == 200)
    }

    @Test func concurrentSendsOnOneClient() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "many")
        let c = try client(pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")])
        let url = "https://localhost:\(server.port)/bytes?n=1000"
        let codes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask { try await c.send(Request(url)).body.count }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes == Array(repeating: 1000, count: 16))
    }

    @Test func blockedTransfersLeaveTheCooperativePoolFree() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "slow")
        let policy = try Policy(json: policyJSON(
            host: "localhost", enforce: true,
            pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]))
        let c = try Client(policy: policy, options: Options(
            caFile: try Env.pki("root.pem"), connectTimeout: 10, timeout: 3))
        // More hanging transfers than the pool has threads: if send blocked a pool thread,
        // the sleep below could not resume until they timed out.
        let count = max(4, ProcessInfo.processInfo.activeProcessorCount + 2)
        let url = "https://localhost:\(server.port)/hang"
        let start = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        _ = try await c.send(Request(url))
                        Issue.record("/hang answered")
                    } catch let caught as PincurlError where caught.code == .timeout {
                        let detail = caught.detail
                        #expect(!detail.isEmpty)
                    }
                }
            }
            try await Task.sleep(nanoseconds: 200_000_000)
            let resumed = Date().timeIntervalSince(start)
            #expect(resumed < 1.5, "the pool was blocked for \(resumed) s")
            try await group.waitForAll()
        }
        let total = Date().timeIntervalSince(start)
        #expect(total >= 2.5 && total < 20, "\(total) s for \(count) timeouts of 3 s")
    }

    @Test func clientAndHandlerAreReleased() throws {
        final class Token: Sendable {}
        weak var weakToken: Token?
        weak var weakPolicy: Policy?
        do {
            let token = Token()
            weakToken = token
            let policy = try Policy(json: policyJSON(
                host: "localhost", enforce: true,
                pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]))
            weakPolicy = policy
            let c = try Client(policy: policy, options: Options(onEvent: { _ in _ = token }))
            #expect(c.generation == 1)
        }
        #expect(weakToken == nil, "the event handler outlived its client")
        #expect(weakPolicy == nil, "the policy outlived its last reference")
    }

    @Test func tenThousandCreateFreeCyclesDoNotGrowMemory() throws {
        let json = policyJSON(host: "localhost", enforce: true,
                              pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")])
        let ca = try Env.pki("root.pem")
        let counter = EventCounter()
        func cycle() throws {
            let policy = try Policy(json: json)
            let c = try Client(policy: policy, options: Options(
                caFile: ca, connectTimeout: 5, timeout: 10, userAgent: "pincurl-swift-test",
                resolve: ["localhost:443:127.0.0.1"], maxRedirects: 3, maxBodyBytes: 1 << 20,
                appInfo: .init(bundleID: "org.pincurl.test", version: "1"),
                onEvent: { counter.add($0) }))
            try c.setPolicy(policy)
            _ = c.generation
        }
        for _ in 0..<1_000 { try cycle() } // warm up the allocator and libcurl
        let before = try residentKiB()
        for _ in 0..<10_000 { try cycle() }
        let after = try residentKiB()
        let growth = after - before
        #expect(counter.count == 11_000, "one POLICY_CHANGED event per cycle")
        print("RSS before \(before) KiB, after 10000 cycles \(after) KiB, growth \(growth) KiB")
        // A leak of 400 bytes per cycle would be 4000 KiB.
        #expect(growth < 4_000, "RSS grew by \(growth) KiB over 10000 cycles")
    }
}
