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
                throw PincurlError.internal("certificate \(i) of the list is missing")
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
