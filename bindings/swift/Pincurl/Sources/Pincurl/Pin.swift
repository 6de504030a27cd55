import CPincurl
import Foundation

/// A pin: the SHA-256 digest of a DER SubjectPublicKeyInfo, written "sha256/BASE64" (the
/// value OkHttp, TrustKit and `openssl pkey -pubin -outform der | openssl dgst -sha256
/// -binary | base64` produce).
public struct Pin: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let sha256: [UInt8]

    /// Parses "sha256/BASE64" (also curl's "sha256//BASE64").
    /// Throws pinBadPrefix, pinBadBase64, pinBadLength, invalidArgument.
    public init(_ text: String) throws {
        var pin = pincurl_pin()
        // Every byte counts, an embedded NUL included (the parser then refuses it).
        let status = text.withCString { pincurl_pin_parse($0, text.utf8.count, &pin) }
        try check(status, detail: "\(statusMessage(status)): \(text)")
        self.init(raw: pin)
    }

    init(raw: pincurl_pin) {
        sha256 = withUnsafeBytes(of: raw.sha256) { Array($0) }
    }

    var raw: pincurl_pin {
        var pin = pincurl_pin()
        withUnsafeMutableBytes(of: &pin.sha256) { dst in
            dst.copyBytes(from: sha256.prefix(dst.count))
        }
        return pin
    }

    /// "sha256/BASE64".
    public var description: String {
        var pin = raw
        var buf = [CChar](repeating: 0, count: Int(PINCURL_PIN_TEXT_SIZE))
        guard pincurl_pin_format(&pin, &buf, buf.count) == PINCURL_OK else {
            return "sha256/?"
        }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// The pin of one DER X.509 certificate.
    /// Throws derMalformed, derTruncated, invalidArgument.
    public static func ofCertificate(der: Data) throws -> Pin {
        var pin = pincurl_pin()
        let status = der.withUnsafeBytes { buf in
            pincurl_pin_from_cert_der(buf.bindMemory(to: UInt8.self).baseAddress, buf.count, &pin)
        }
        try check(status)
        return Pin(raw: pin)
    }

    /// The pins of every certificate in a PEM file's contents (or of one DER certificate),
    /// in file order. Throws noCertificate, pemMalformed, derMalformed, derTruncated,
    /// outOfMemory, limitExceeded.
    public static func ofCertificates(_ pemOrDER: Data) throws -> [Pin] {
        var list: OpaquePointer?
        let status = pemOrDER.withUnsafeBytes { buf in
            pincurl_cert_list_load(buf.bindMemory(to: UInt8.self).baseAddress, buf.count, nil,
                                   &list)
        }
        defer { pincurl_cert_list_free(list) }
        try check(status)
        var pins: [Pin] = []
        for i in 0..<pincurl_cert_list_count(list) {
            var len = 0
            guard let der = pincurl_cert_list_der(list, i, &len) else {
                throw PincurlError.internalError("certificate \(i) of the list is missing")
            }
            var pin = pincurl_pin()
            try check(pincurl_pin_from_cert_der(der, len, &pin))
            pins.append(Pin(raw: pin))
        }
        return pins
    }

    /// The pin of a public key: PEM ("PUBLIC KEY", "RSA PUBLIC KEY") or DER
    /// (SubjectPublicKeyInfo, PKCS#1 RSAPublicKey). Throws noKey, keyUnsupported,
    /// pemMalformed, derMalformed, derTruncated.
    public static func ofPublicKey(_ data: Data) throws -> Pin {
        var pin = pincurl_pin()
        let status = data.withUnsafeBytes { buf in
            pincurl_pin_from_public_key(buf.bindMemory(to: UInt8.self).baseAddress, buf.count,
                                        &pin)
        }
        try check(status)
        return Pin(raw: pin)
    }
}

extension Pin {
    /// The pin of a DER SubjectPublicKeyInfo.
    public static func ofSPKI(_ spki: Data) throws -> Pin {
        var pin = pincurl_pin()
        let status = withBytes(spki) { p, n in pincurl_pin_from_spki_der(p, n, &pin) }
        try check(status)
        return Pin(raw: pin)
    }

    /// The DER SubjectPublicKeyInfo of a public or private key (PEM or DER: SPKI, PKCS#1,
    /// PKCS#8, SEC1), as `openssl pkey -pubout -outform der` prints it.
    public static func spki(ofKey key: Data) throws -> Data {
        try spki(key, pincurl_spki_from_key)
    }

    /// The DER SubjectPublicKeyInfo inside a certificate signing request (PEM or DER): pin
    /// a key before its certificate exists.
    public static func spki(ofCSR csr: Data) throws -> Data {
        try spki(csr, pincurl_spki_from_csr)
    }

    private static func spki(
        _ input: Data,
        _ f: (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?, Int,
              UnsafeMutablePointer<Int>?) -> pincurl_status) throws -> Data {
        var out = [UInt8](repeating: 0, count: Int(PINCURL_SPKI_MAX))
        var len = 0
        let status = withBytes(input) { p, n in f(p, n, &out, out.count, &len) }
        try check(status)
        return Data(out.prefix(len))
    }

    /// The key type of a DER SubjectPublicKeyInfo ("RSA", "EC", "Ed25519", ... or the
    /// algorithm's dotted OID) and its size in bits (0 if unknown).
    public static func keyType(ofSPKI spki: Data) throws -> (type: String, bits: Int) {
        var name = [CChar](repeating: 0, count: Int(PINCURL_KEY_TYPE_MAX))
        var bits: UInt32 = 0
        let status = withBytes(spki) { p, n in
            pincurl_spki_key_type(p, n, &name, name.count, &bits)
        }
        try check(status)
        return (name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, Int(bits))
    }
}

/// What a person needs to see about a certificate when choosing pins (pincurl/cert.h):
/// subject, issuer, validity, key type and size, and its pin.
public struct CertificateInfo: Sendable, Hashable {
    /// RFC 2253, most specific RDN first.
    public let subject: String
    public let issuer: String
    public let notBefore: Date
    public let notAfter: Date
    /// "RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS" or the algorithm's dotted OID.
    public let keyType: String
    public let keyBits: Int
    public let pin: Pin

    /// The facts of one DER certificate (Pin.certificates(_:) splits a PEM bundle).
    /// Throws derMalformed, derTruncated, bufferTooSmall.
    public init(der: Data) throws {
        let info = UnsafeMutablePointer<pincurl_cert_info>.allocate(capacity: 1)
        defer { info.deallocate() }
        let status = withBytes(der) { p, n in pincurl_cert_info_get(p, n, info) }
        try check(status)
        let c = info.pointee
        subject = tupleString(c.subject)
        issuer = tupleString(c.issuer)
        notBefore = Date(timeIntervalSince1970: TimeInterval(c.not_before))
        notAfter = Date(timeIntervalSince1970: TimeInterval(c.not_after))
        keyType = tupleString(c.key_type)
        keyBits = Int(c.key_bits)
        pin = Pin(raw: c.pin)
    }
}

extension Pin {
    /// The DER certificates of a PEM bundle (or of one DER certificate), in order.
    public static func certificates(_ pemOrDER: Data) throws -> [Data] {
        var list: OpaquePointer?
        let status = withBytes(pemOrDER) { p, n in pincurl_cert_list_load(p, n, nil, &list) }
        defer { pincurl_cert_list_free(list) }
        try check(status)
        return (0..<pincurl_cert_list_count(list)).compactMap { i in
            var len = 0
            return pincurl_cert_list_der(list, i, &len).map { Data(bytes: $0, count: len) }
        }
    }
}
