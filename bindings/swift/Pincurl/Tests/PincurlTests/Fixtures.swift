// Real peers for the tests: tests/servers/tls_server.py serving the test PKI, mitmdump
// intercepting, openssl computing pins. Every process started here is stopped by its PID.
import Foundation
import Pincurl
#if canImport(Glibc)
import Glibc
#endif

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum Env {
    /// The source tree: PINCURL_SOURCE_DIR, else five levels above this file's directory.
    static let sourceDir: String = {
        if let d = ProcessInfo.processInfo.environment["PINCURL_SOURCE_DIR"], !d.isEmpty {
            return d
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// The test PKI (tests/pki/make-pki.sh OUTDIR; ctest's fixture `pki`).
    static func pki(_ name: String) throws -> String {
        guard let dir = ProcessInfo.processInfo.environment["PINCURL_TEST_PKI"], !dir.isEmpty else {
            throw FixtureError("PINCURL_TEST_PKI is not set (run tests/pki/make-pki.sh DIR)")
        }
        let path = dir + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            throw FixtureError("\(path) does not exist")
        }
        return path
    }

    static var python: String {
        ProcessInfo.processInfo.environment["PINCURL_PYTHON"] ?? "python3"
    }

    static func hasProgram(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }
}

/// A fresh directory under the temporary directory; removed by the caller.
func makeTempDir(_ prefix: String) throws -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? NSTemporaryDirectory()
    let path = base + "/pincurl-swift-\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs a program to its end and returns its standard output; throws on a non-zero exit.
@discardableResult
func run(_ argv: [String], input: Data? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    let out = Pipe()
    p.standardOutput = out
    if let input {
        let inPipe = Pipe()
        p.standardInput = inPipe
        try p.run()
        inPipe.fileHandleForWriting.write(input)
        try inPipe.fileHandleForWriting.close()
    } else {
        try p.run()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw FixtureError("\(argv.joined(separator: " ")) exited with \(p.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// The pin of a certificate file as users compute it:
/// openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256
/// -binary | base64.
func opensslPin(certificate path: String) throws -> String {
    let pub = try run(["openssl", "x509", "-in", path, "-pubkey", "-noout"])
    let derPipe = Process()
    derPipe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    derPipe.arguments = ["openssl", "pkey", "-pubin", "-outform", "der"]
    let inPipe = Pipe(), outPipe = Pipe()
    derPipe.standardInput = inPipe
    derPipe.standardOutput = outPipe
    try derPipe.run()
    inPipe.fileHandleForWriting.write(Data(pub.utf8))
    try inPipe.fileHandleForWriting.close()
    let der = outPipe.fileHandleForReading.readDataToEndOfFile()
    derPipe.waitUntilExit()
    guard derPipe.terminationStatus == 0, !der.isEmpty else {
        throw FixtureError("openssl pkey failed for \(path)")
    }
    let digest = try runBinary(["openssl", "dgst", "-sha256", "-binary"], input: der)
    guard digest.count == 32 else { throw FixtureError("openssl dgst gave \(digest.count) bytes") }
    return "sha256/" + digest.base64EncodedString()
}

private func runBinary(_ argv: [String], input: Data) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    let inPipe = Pipe(), outPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    try p.run()
    inPipe.fileHandleForWriting.write(input)
    try inPipe.fileHandleForWriting.close()
    let data = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw FixtureError("\(argv) failed") }
    return data
}

/// The openssl pin of a PKI certificate ("inter.pem").
func pkiPin(_ name: String) throws -> String {
    try opensslPin(certificate: try Env.pki(name))
}

/// A policy document pinning host to pins.
func policyJSON(host: String, enforce: Bool, pins: [String], reportURIs: [String] = []) -> String {
    let list = pins.map { "\"\($0)\"" }.joined(separator: ", ")
    let uris = reportURIs.map { "\"\($0)\"" }.joined(separator: ", ")
    return """
    {
      "pincurl_policy": 1,
      "expires": "2099-12-31",
      "on_expiry": "block",
      "report_uris": [\(uris)],
      "domains": {
        "\(host)": { "enforce": \(enforce), "pins": [\(list)] }
      }
    }
    """
}

/// A port nobody listens on right now (bound to 127.0.0.1:0, then released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
        }
    }
    guard ok else { throw FixtureError("bind failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// True when something accepts TCP connections on 127.0.0.1:port.
func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// Resident set size of this process in KiB (/proc/self/status VmRSS).
func residentKiB() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.dropFirst(6).filter(\.isNumber)
        if let kib = Int(digits) { return kib }
    }
    throw FixtureError("no VmRSS in /proc/self/status")
}

/// A child process started with posix_spawnp and a clear signal mask (the test runner's
/// threads block SIGTERM, and a spawned child would inherit that), stopped by its PID.
final class Child {
    let pid: pid_t
    private var reaped = false

    init(_ argv: [String], output: String) throws {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, argv[0], &actions, &attr, cargs, environ)
        guard rc == 0 else {
            throw FixtureError("cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        stop()
    }

    /// True while the child has not exited.
    var isRunning: Bool {
        if reaped { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid || (r < 0 && errno == ECHILD) {
            reaped = true
            return false
        }
        return true
    }

    /// SIGTERM, up to 5 s to exit, then SIGKILL; always reaped.
    func stop() {
        guard !reaped else { return }
        kill(pid, SIGTERM)
        for _ in 0..<500 {
            if !isRunning { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        reaped = true
    }
}

/// tests/servers/tls_server.py on 127.0.0.1, serving a chain of the test PKI.
final class TLSServer {
    let port: Int
    private let process: Child
    private let dir: String
    private let logPath: String

    init(chain: String, key: String, name: String) throws {
        dir = try makeTempDir("server")
        logPath = dir + "/server.log"
        let portFile = dir + "/port"
        process = try Child([Env.python, Env.sourceDir + "/tests/servers/tls_server.py",
                             "--cert", try Env.pki(chain), "--key", try Env.pki(key),
                             "--port", "0", "--port-file", portFile, "--log", logPath,
                             "--name", name, "--lifetime", "300",
                             "--parent-pid", String(getpid())],
                            output: dir + "/server.out")
        var found: Int?
        for _ in 0..<1000 { // 10 s
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
               let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                found = p
                break
            }
            if !process.isRunning { break }
            usleep(10_000)
        }
        guard let found else {
            process.stop()
            let out = (try? String(contentsOfFile: dir + "/server.out", encoding: .utf8)) ?? ""
            throw FixtureError("tls_server.py did not listen within 10 s:\n\(out)")
        }
        port = found
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func stop() {
        process.stop()
    }

    private func logLines() -> [Substring] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    /// Decrypted bytes the server received from clients, over every connection.
    var requestBytes: Int {
        logLines().reduce(0) { sum, line in
            let f = line.split(separator: " ")
            return f.count >= 4 && f[0] == "conn" && f[2] == "recv" ? sum + (Int(f[3]) ?? 0) : sum
        }
    }

    /// TCP connections accepted.
    var connections: Int {
        logLines().filter { $0.split(separator: " ").dropFirst(2).first == "accept" }.count
    }

    /// Waits until every accepted connection was closed (at most timeout seconds).
    func waitClosed(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let lines = logLines()
            let accepted = lines.filter { $0.split(separator: " ").dropFirst(2).first == "accept" }
            let closed = lines.filter {
                let f = $0.split(separator: " ").dropFirst(2).first
                return f == "close" || f == "handshake-failed"
            }
            if closed.count >= accepted.count { return true }
            usleep(10_000)
        } while Date() < deadline
        return false
    }
}

/// mitmdump on 127.0.0.1, verifying upstream servers against upstreamCA.
final class Mitmproxy {
    let port: Int
    let confdir: String
    private let process: Child

    static var available: Bool { Env.hasProgram("mitmdump") }

    init(upstreamCA: String) throws {
        confdir = try makeTempDir("mitm")
        port = try freePort()
        let outFile = confdir + "/mitmdump.out"
        process = try Child(["mitmdump", "--listen-host", "127.0.0.1", "--listen-port",
                             String(port), "--set", "confdir=\(confdir)",
                             "--set", "ssl_verify_upstream_trusted_ca=\(upstreamCA)"],
                            output: outFile)
        for _ in 0..<3000 { // 30 s: the first start generates the CA
            if canConnect(port) && FileManager.default.fileExists(atPath: caCert) { return }
            if !process.isRunning { break }
            usleep(10_000)
        }
        process.stop()
        let log = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
        throw FixtureError("mitmdump did not listen on 127.0.0.1:\(port):\n\(log)")
    }

    /// The interception CA a device would have to trust.
    var caCert: String { confdir + "/mitmproxy-ca-cert.pem" }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(atPath: confdir)
    }
}

/// Collects events from the client's handler (which runs on request threads).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Event] = []

    func add(_ e: Event) {
        lock.lock()
        items.append(e)
        lock.unlock()
    }

    var events: [Event] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }

    var validations: [Event] { events.filter { $0.kind == .validation } }
}

/// Counts events without keeping them.
final class EventCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0

    func add(_ e: Event) {
        lock.lock()
        n += 1
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return n
    }
}
