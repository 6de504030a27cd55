import CPincurl
import Foundation

/// A verification key an Updater trusts: a key id and an Ed25519 public key.
public struct UpdateKey: Sendable, Hashable {
    public let keyID: String
    public let publicKey: Data

    /// keyID: 1-64 characters of A-Z a-z 0-9 . _ - as in the bundles it signs.
    public init(keyID: String, publicKey: Data) throws {
        guard publicKey.count == Int(PINCURL_UPDATE_PUBLIC_KEY_SIZE) else {
            throw PincurlError(.updateKeyInvalid, "an Ed25519 public key has 32 bytes")
        }
        self.keyID = try cArgument(keyID, "key id")
        self.publicKey = publicKey
    }

    /// A key named by its default key id (16 hex digits of its SHA-256).
    public init(publicKey: Data) throws {
        try self.init(keyID: try UpdateKey.defaultKeyID(publicKey), publicKey: publicKey)
    }

    /// The key's one-line text form, as the CLI writes key files
    /// ("pincurl-ed25519-public KEYID BASE64").
    public init(text: String) throws {
        var isPrivate: Int32 = 0
        var id = [CChar](repeating: 0, count: Int(PINCURL_UPDATE_KEY_ID_MAX) + 1)
        var key = [UInt8](repeating: 0, count: 32)
        let status = text.withCString { pincurl_update_key_parse($0, text.utf8.count, &isPrivate, &id, &key) }
        try check(status)
        guard isPrivate == 0 else {
            throw PincurlError(.updateKeyInvalid, "a private key where a public key belongs")
        }
        try self.init(keyID: id.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
                      publicKey: Data(key))
    }

    /// The text form: "pincurl-ed25519-public KEYID BASE64\n".
    public var text: String {
        var out = [CChar](repeating: 0, count: Int(PINCURL_UPDATE_KEY_TEXT_SIZE))
        let bytes = [UInt8](publicKey)
        guard pincurl_update_key_format(0, keyID, bytes, &out, out.count) == PINCURL_OK else {
            return ""
        }
        return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The default key id of a public key: the first 8 bytes of its SHA-256, in hex.
    public static func defaultKeyID(_ publicKey: Data) throws -> String {
        guard publicKey.count == 32 else {
            throw PincurlError(.updateKeyInvalid, "an Ed25519 public key has 32 bytes")
        }
        var out = [CChar](repeating: 0, count: 32)
        let bytes = [UInt8](publicKey)
        try check(pincurl_update_key_id_default(bytes, &out, out.count))
        return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// An Ed25519 signing key for policy update bundles: the publisher's side (docs/updates.md).
public struct UpdateSigningKey: Sendable {
    public let keyID: String
    public let privateKey: Data
    public let publicKey: Data

    /// A new key pair from wolfCrypt's random number generator, with its default key id.
    public static func generate() throws -> UpdateSigningKey {
        var priv = [UInt8](repeating: 0, count: 32)
        var pub = [UInt8](repeating: 0, count: 32)
        try check(pincurl_update_keygen(&priv, &pub))
        return UpdateSigningKey(keyID: try UpdateKey.defaultKeyID(Data(pub)),
                                privateKey: Data(priv), publicKey: Data(pub))
    }

    /// A key from its 32 private bytes; keyID nil: the default key id.
    public init(privateKey: Data, keyID: String? = nil) throws {
        guard privateKey.count == 32 else {
            throw PincurlError(.updateKeyInvalid, "an Ed25519 private key has 32 bytes")
        }
        var pub = [UInt8](repeating: 0, count: 32)
        try check(pincurl_update_public_key([UInt8](privateKey), &pub))
        self.init(keyID: try keyID ?? UpdateKey.defaultKeyID(Data(pub)), privateKey: privateKey,
                  publicKey: Data(pub))
    }

    private init(keyID: String, privateKey: Data, publicKey: Data) {
        self.keyID = keyID
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// The verification key applications ship.
    public var verificationKey: UpdateKey {
        // swiftlint:disable:next force_try
        try! UpdateKey(keyID: keyID, publicKey: publicKey)
    }

    /// Signs a policy document (its bytes are kept exactly: load it with Policy(json:)
    /// first to validate it) into a bundle valid from notBefore to expires. sequence must
    /// grow with every bundle.
    public func sign(policy: Data, sequence: UInt64, notBefore: Date, expires: Date) throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        let status = withBytes(policy) { p, n in
            pincurl_update_bundle_sign(p, n, keyID, sequence, Int64(notBefore.timeIntervalSince1970),
                                       Int64(expires.timeIntervalSince1970), [UInt8](privateKey),
                                       &out, &len)
        }
        try check(status)
        defer { pincurl_update_buffer_free(out) }
        return Data(bytes: out!, count: len)
    }
}

/// Signed policy updates for a client (docs/updates.md): the client's policy when the
/// updater is made is the base; verified bundles replace it as new generations, the last
/// one is kept in a state directory across restarts, and a damaged or expired one gives
/// the base back. Events (updateApplied, updateRejected, updateBaseRestored) go to the
/// client's handler and event streams. Thread-safe.
public final class Updater: @unchecked Sendable {
    private let raw: OpaquePointer
    /// The updater uses its client: it keeps it alive.
    public let client: Client

    /// An updater for client trusting keys (1-16, distinct key ids), keeping its state in
    /// stateDirectory (created, mode 0700). A stored bundle is verified again and put in
    /// force. Throws invalidArgument, io, updateKeyInvalid, updateStateDamaged.
    public init(client: Client, keys: [UpdateKey], stateDirectory: String) throws {
        let ids = keys.map { strdup($0.keyID) }
        defer { ids.forEach { free($0) } }
        var cKeys = [pincurl_update_key](repeating: pincurl_update_key(), count: keys.count)
        for (i, k) in keys.enumerated() {
            cKeys[i].key_id = UnsafePointer(ids[i])
            withUnsafeMutableBytes(of: &cKeys[i].public_key) { dst in
                dst.copyBytes(from: k.publicKey.prefix(dst.count))
            }
        }
        var out: OpaquePointer?
        let status = pincurl_updater_new(client.pointer, cKeys, cKeys.count,
                                         try cArgument(stateDirectory, "state directory"), &out)
        try check(status)
        guard let out else { throw PincurlError.internalError("pincurl_updater_new returned nothing") }
        raw = out
        self.client = client
    }

    deinit {
        pincurl_updater_free(raw) // stops the fetcher first
    }

    /// Applies a bundle: only if its signature verifies under a trusted key, its sequence
    /// is higher than the last one, now is inside its validity and its policy is valid.
    /// A refusal throws a PincurlError with its update code (`.updateMalformed`,
    /// `.updateTooLarge`, `.updateUnsupported`, ...); the policy in force is then unchanged.
    public func apply(_ bundle: Data) throws {
        let status = withBytes(bundle) { p, n in pincurl_updater_apply(raw, p, n) }
        if status != PINCURL_OK {
            throw makeError(status, detail: lastError.message)
        }
    }

    /// Puts the base back in force if the bundle in force expired; true if it just did.
    @discardableResult
    public func checkExpiry() throws -> Bool {
        let status = pincurl_updater_check(raw)
        if status == PINCURL_UPDATE_EXPIRED {
            return true
        }
        try CPincurlCheck(status)
        return false
    }

    /// Fetches an https:// URL once over the client (pinned) and applies what it serves.
    /// Runs on the client's executor.
    public func fetch(_ url: String) async throws {
        let u = UncheckedBox(self)
        _ = try await client.executor.run { try u.value.fetchBlocking(url) }
    }

    /// fetch(_:) on the calling thread.
    public func fetchBlocking(_ url: String) throws {
        let status = pincurl_updater_fetch(raw, try cArgument(url, "URL"))
        if status != PINCURL_OK {
            throw makeError(status, detail: lastError.message)
        }
    }

    /// Starts the updater's one thread polling url every interval seconds (after a failure
    /// retry, doubling up to maxBackoff). Events of the polls run on that thread.
    public func start(url: String, interval: TimeInterval, retry: TimeInterval,
                      maxBackoff: TimeInterval) throws {
        try CPincurlCheck(pincurl_updater_start(raw, try cArgument(url, "URL"),
                                                try milliseconds(interval, "interval"),
                                                try milliseconds(retry, "retry"),
                                                try milliseconds(maxBackoff, "max backoff")))
    }

    /// Stops the polling thread and waits for it. Not from an event handler.
    public func stop() {
        pincurl_updater_stop(raw)
    }

    /// The highest sequence applied so far (persisted; 0 if none).
    public var sequence: UInt64 {
        pincurl_updater_sequence(raw)
    }

    /// True if the base policy is in force.
    public var usingBase: Bool {
        pincurl_updater_using_base(raw) != 0
    }

    /// The status of the last refusal (0 if none yet) and a sentence about it.
    public var lastError: (status: Int32, message: String) {
        var msg = [CChar](repeating: 0, count: 1024)
        let status = pincurl_updater_last_error(raw, &msg, msg.count)
        return (statusCode(status), msg.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    /// What the fetcher did so far.
    public struct FetchStats: Sendable {
        public let polls: UInt64
        public let applied: UInt64
        public let notModified: UInt64
        public let failures: UInt64
        public let consecutiveFailures: UInt64
        public let nextDelay: TimeInterval
        /// The status of the last fetch (0: OK).
        public let lastStatus: Int32
    }

    public var fetchStats: FetchStats {
        var s = pincurl_update_fetch_stats()
        _ = pincurl_updater_fetch_stats(raw, &s)
        return FetchStats(polls: s.polls, applied: s.applied, notModified: s.not_modified,
                          failures: s.failures, consecutiveFailures: s.consecutive_failures,
                          nextDelay: TimeInterval(s.next_delay_ms) / 1000,
                          lastStatus: statusCode(s.last_status))
    }
}

/// check(_:) under a name that Updater.check() does not shadow.
func CPincurlCheck(_ status: pincurl_status) throws {
    try check(status)
}

/// Carries a reference into a @Sendable closure (the class itself is thread-safe).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
