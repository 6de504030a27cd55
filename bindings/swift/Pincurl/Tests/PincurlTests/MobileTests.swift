// What an iOS app relies on beyond a plain request: the bounded executor and its
// per-thread cleanup, errors with the verdict and the response, streamed bodies, events
// as an AsyncStream, policies in code (builder and Codable), the Updater, certificate
// facts. Real peers: tests/servers/tls_server.py on loopback, the test PKI, openssl.
import Foundation
import Pincurl
import Testing
#if canImport(Glibc)
import Glibc
#endif

private func pinnedClient(_ server: TLSServer, pins: [String]? = nil,
                          executor: TransferExecutor? = nil,
                          onEvent: (@Sendable (Event) -> Void)? = nil) throws -> Client {
    let good = try pins ?? [pkiPin("inter.pem"), pkiPin("leaf-backup.pem")]
    var options = Options(caFile: try Env.pki("root.pem"), connectTimeout: 10, timeout: 30,
                          resolve: ["localhost:\(server.port):127.0.0.1"])
    options.executor = executor
    options.onEvent = onEvent
    return try Client(policy: try Policy(json: policyJSON(host: "localhost", enforce: true,
                                                          pins: good)),
                      options: options)
}

/// A value shared with a body handler (which runs on a transfer thread).
private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

@Suite(.serialized) struct MobileTests {
    @Test func transfersRunOnABoundedSetOfThreadsThatCleanUp() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "pool")
        let executor = TransferExecutor(maximumThreads: 2, idleTimeout: 0.5)
        let c = try pinnedClient(server, executor: executor)
        let url = "https://localhost:\(server.port)/bytes?n=100"
        let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<24 {
                group.addTask { try await c.send(Request(url)).body.count }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sizes == Array(repeating: 100, count: 24))
        let busy = executor.statistics
        #expect(busy.started <= 2, "\(busy.started) threads for 24 requests")
        #expect(busy.started >= 1)
        // Idle threads end after 0.5 s, each after pincurl_thread_cleanup().
        for _ in 0..<300 where executor.statistics.alive > 0 {
            usleep(10_000)
        }
        let idle = executor.statistics
        #expect(idle.alive == 0)
        #expect(idle.cleanedUp == idle.started)
        // New work starts threads again.
        #expect(try await c.send(Request(url)).statusCode == 200)
        #expect(executor.statistics.started == idle.started + 1)
    }

    @Test func aTaskCancelledBeforeItsTransferStartsNeverSendsIt() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "cancel")
        let executor = TransferExecutor(maximumThreads: 1, idleTimeout: 5)
        let c = try pinnedClient(server, executor: executor)
        // Occupy the one thread with a request to a server that does not answer for 2 s.
        var slowOptions = Options(caFile: try Env.pki("root.pem"), connectTimeout: 10, timeout: 2,
                                  resolve: ["localhost:\(server.port):127.0.0.1"])
        slowOptions.executor = executor
        let slow = try Client(policy: try Policy(json: policyJSON(
            host: "localhost", enforce: true,
            pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")])), options: slowOptions)
        let hangURL = "https://localhost:\(server.port)/hang"
        let rootURL = "https://localhost:\(server.port)/"
        let hang = Task { _ = try? await slow.send(Request(hangURL)) }
        usleep(200_000)
        let before = server.requestBytes
        let queued = Task { try await c.send(Request(rootURL)) }
        usleep(100_000)
        queued.cancel()
        do {
            _ = try await queued.value
            Issue.record("a cancelled queued request was sent")
        } catch is CancellationError {
        }
        _ = await hang.value
        #expect(server.requestBytes - before <= "GET /hang".count + 200,
                "the cancelled request reached the server")
        #expect(try await c.send(Request("https://localhost:\(server.port)/")).statusCode == 200)
    }

    @Test func aRefusalCarriesItsVerdictAndResponse() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "refused")
        let c = try pinnedClient(server, pins: [try pkiPin("leaf-backup.pem"),
                                                try pkiPin("rogue-root.pem")])
        do {
            _ = try await c.send(Request("https://localhost:\(server.port)/"))
            Issue.record("a mismatching host answered")
        } catch let e as PincurlError where e.code == .pinMismatch {
            let v = try #require(e.verdict)
            #expect(v.result == .pinMismatch && !v.allowed)
            #expect(v.pathPins.map(\.description)
                    == [try pkiPin("leaf-ec.pem"), try pkiPin("inter.pem"), try pkiPin("root.pem")])
            let r = try #require(e.response)
            #expect(r.statusCode == 0)
            #expect(r.transfer.curlCode != 0)
            #expect(e.localizedDescription.hasPrefix("PIN_MISMATCH: "))
            #expect(e.localizedDescription.contains("Certificate pinning failure!"))
        }
        #expect(server.requestBytes == 0)
        let ok = try pinnedClient(server)
        let r = try await ok.send(Request("https://localhost:\(server.port)/"))
        #expect(r.transfer.remoteIP == "127.0.0.1")
        #expect(r.transfer.remotePort == server.port)
        #expect(r.transfer.tlsHandshakeMicros > 0)
        #expect(r.transfer.connects == 1)
    }

    @Test func bodiesStreamBothWays() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "stream")
        let c = try pinnedClient(server)
        let payload = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for length in [Int64(payload.count), nil] {
            var up = Request("https://localhost:\(server.port)/echo", method: "POST")
            up.bodyStream = { InputStream(data: payload) }
            up.bodyLength = length
            let echoed = try await c.send(up)
            #expect(echoed.body == payload, "streamed body of length \(String(describing: length))")
        }
        let chunks = Locked<[Int]>([])
        let received = Locked<Data>(Data())
        let r = try await c.send(Request("https://localhost:\(server.port)/bytes?n=200000")) { data in
            chunks.withLock { $0.append(data.count) }
            received.withLock { $0.append(data) }
        }
        #expect(r.statusCode == 200)
        #expect(r.body.isEmpty)
        #expect(received.withLock { $0.count } == 200_000)
        #expect(chunks.withLock { $0.count } > 1, "the body came in one piece")
        #expect(received.withLock { $0.prefix(3) } == Data("abc".utf8))
        // Throwing from the handler aborts the request.
        struct Full: Error {}
        do {
            _ = try await c.send(Request("https://localhost:\(server.port)/bytes?n=200000")) { _ in
                throw Full()
            }
            Issue.record("a throwing body handler did not abort")
        } catch let e as PincurlError where e.code == .abortedByCallback {
            #expect(e.detail.contains("Full"), "\(e.detail)")
        }
        // To a file.
        let dir = try makeTempDir("out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var toFile = Request("https://localhost:\(server.port)/bytes?n=70000")
        toFile.outputFile = dir + "/body"
        #expect(try await c.send(toFile).body.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/body")).count == 70_000)
    }

    @Test func eventsArriveAsAnAsyncStream() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "events")
        let c = try pinnedClient(server)
        let stream = c.events()
        let reader = Task { () -> [Event] in
            var seen: [Event] = []
            for await e in stream {
                seen.append(e)
                if seen.count == 2 { break }
            }
            return seen
        }
        #expect(try await c.send(Request("https://localhost:\(server.port)/")).statusCode == 200)
        try c.setPolicy(c.policy)
        let seen = await reader.value
        #expect(seen.map(\.kind) == [.validation, .policyChanged])
        #expect(seen.first?.verdict?.result == .success)
        #expect(seen.last?.generation == 2)
    }

    @Test func policiesInCodeHaveTheDocumentsRules() throws {
        let a = try pkiPin("inter.pem"), b = try pkiPin("leaf-backup.pem")
        let built = try Policy.Builder()
            .add("**.API.example.com.", pins: [a, b])
            .exclude("legacy.api.example.com")
            .reportOnly("beta.example.org", pins: [a])
            .expires(Date(timeIntervalSince1970: 4_102_358_400), block: true)
            .reportURI("https://collector.example.com/r")
            .build()
        var doc = PolicyDocument(domains: [
            "api.example.com": .init(pins: [a, b], includeSubdomains: true),
            "legacy.api.example.com": .excluded,
            "beta.example.org": .init(pins: [a], enforce: false),
        ], expires: "2099-12-31", onExpiry: .block, reportURIs: ["https://collector.example.com/r"])
        let fromDoc = try Policy(document: doc)
        for p in [built, fromDoc] {
            #expect(p.expires == Date(timeIntervalSince1970: 4_102_358_400))
            #expect(p.blocksOnExpiry)
            #expect(p.reportURIs == ["https://collector.example.com/r"])
            #expect(p.lookup("x.api.example.com")?.pins.map(\.description) == [a, b])
            #expect(p.lookup("legacy.api.example.com")?.exclude == true)
            #expect(p.lookup("beta.example.org")?.enforce == false)
        }
        // The document round-trips through JSON.
        let json = try JSONEncoder().encode(doc)
        #expect(try JSONDecoder().decode(PolicyDocument.self, from: json) == doc)
        // Refusals name the entry.
        do {
            _ = try Policy.Builder().add("api.example.com", pins: [a]).build()
            Issue.record("one pin was enough")
        } catch let e as PincurlError where e.code == .policyTooFewPins {
            #expect(e.detail.hasPrefix("domains[\"api.example.com\"]"), "\(e.detail)")
        }
        do {
            _ = try Policy.Builder().add("api.example.com", pins: [a, "sha256/AAAA"]).build()
            Issue.record("a short pin was accepted")
        } catch let e as PincurlError where e.code == .pinBadLength {
            #expect(e.detail.hasPrefix("domains[\"api.example.com\"].pins[1]"), "\(e.detail)")
        }
        #expect(throws: PincurlError.self) {
            try Policy.Builder().add("**.co.uk", pins: [a, b]).build()
        }
        #expect(throws: PincurlError.self) {
            try Policy.Builder().add("*.example.com", pins: [a, b]).build()
        }
        doc.domains["api.example.com"]?.pins = [a]
        do {
            _ = try Policy(document: doc)
            Issue.record("a document with one pin was accepted")
        } catch let e as PincurlError where e.code == .policyTooFewPins {
            #expect(e.detail.contains("api.example.com"), "\(e.detail)")
        }
    }

    @Test func theUpdaterAppliesSignedBundles() async throws {
        let server = try TLSServer(chain: "leaf-ec-chain.pem", key: "leaf-ec.key", name: "upd")
        let signer = try UpdateSigningKey.generate()
        let stranger = try UpdateSigningKey.generate()
        #expect(signer.keyID.count == 16)
        let key = signer.verificationKey
        #expect(try UpdateKey(text: key.text) == key)
        let good = Data(policyJSON(host: "localhost", enforce: true,
                                   pins: [try pkiPin("inter.pem"), try pkiPin("leaf-backup.pem")]).utf8)
        let now = Date()
        let bundle = try signer.sign(policy: good, sequence: 1, notBefore: now - 3600,
                                     expires: now + 86_400)
        let state = try makeTempDir("update")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let events = EventLog()
        let c = try pinnedClient(server, pins: [try pkiPin("p256.pem"), try pkiPin("p384.pem")],
                                 onEvent: { events.add($0) })
        let u = try Updater(client: c, keys: [key], stateDirectory: state + "/u")
        #expect(u.usingBase && u.sequence == 0)
        do {
            _ = try await c.send(Request("https://localhost:\(server.port)/"))
            Issue.record("the base policy let the host through")
        } catch let e as PincurlError where e.code == .pinMismatch {
            #expect(e.verdict != nil)
        }
        let foreign = try stranger.sign(policy: good, sequence: 1, notBefore: now - 3600,
                                        expires: now + 86_400)
        do {
            try u.apply(foreign)
            Issue.record("a bundle of an unknown key was applied")
        } catch let e as PincurlError where e.code == .updateUnknownKey {
            #expect(e.detail == u.lastError.message)
            #expect(u.lastError.status == PincurlError.Code.updateUnknownKey.rawValue)
        }
        var damaged = bundle
        damaged[damaged.count - 1] ^= 1
        do {
            try u.apply(damaged)
            Issue.record("a damaged bundle was applied")
        } catch let e as PincurlError where e.code == .updateBadSignature {
            #expect(!e.detail.isEmpty)
        }
        try u.apply(bundle)
        #expect(u.sequence == 1 && !u.usingBase)
        #expect(c.generation == 2)
        #expect(try await c.send(Request("https://localhost:\(server.port)/")).statusCode == 200)
        do {
            try await u.fetch("https://localhost:\(server.port)/status?code=404")
            Issue.record("a 404 was a bundle")
        } catch let e as PincurlError where e.code == .updateFetchFailed {
            #expect(!e.detail.isEmpty)
        }
        #expect(u.fetchStats.polls == 1 && u.fetchStats.failures == 1)
        try u.start(url: "https://localhost:\(server.port)/status?code=404", interval: 3600,
                    retry: 1, maxBackoff: 2)
        for _ in 0..<500 where u.fetchStats.polls < 2 {
            usleep(10_000)
        }
        u.stop()
        #expect(u.fetchStats.polls >= 2)
        #expect(events.events.contains { $0.kind == .updateApplied })
        #expect(events.events.filter { $0.kind == .updateRejected }.count >= 2)
        // A new client on the same state gets the stored bundle back.
        let again = try pinnedClient(server, pins: [try pkiPin("p256.pem"), try pkiPin("p384.pem")])
        let u2 = try Updater(client: again, keys: [key], stateDirectory: state + "/u")
        #expect(u2.sequence == 1 && !u2.usingBase)
        #expect(try await again.send(Request("https://localhost:\(server.port)/")).statusCode == 200)
    }

    @Test func certificateFactsAgreeWithOpenssl() throws {
        let pem = try Data(contentsOf: URL(fileURLWithPath: try Env.pki("leaf-ec.pem")))
        let ders = try Pin.certificates(pem)
        #expect(ders.count == 1)
        let info = try CertificateInfo(der: ders[0])
        #expect(info.pin.description == (try pkiPin("leaf-ec.pem")))
        #expect(info.keyType == "EC" && info.keyBits == 256)
        let subject = try run(["openssl", "x509", "-in", try Env.pki("leaf-ec.pem"), "-noout",
                               "-subject", "-nameopt", "RFC2253"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect("subject=" + info.subject == subject)
        let key = try Data(contentsOf: URL(fileURLWithPath: try Env.pki("leaf-ec.key")))
        let spki = try Pin.spki(ofKey: key)
        #expect(try Pin.ofSPKI(spki) == info.pin)
        #expect(try Pin.keyType(ofSPKI: spki).type == "EC")
        #expect(Pincurl.httpLibrary.hasPrefix("libcurl/"))
        #expect(["wolfssl", "openssl"].contains(Pincurl.runtime.backend))
        #expect(Pincurl.runtime.backend == Pincurl.runtime.backendExpected)
    }
}
