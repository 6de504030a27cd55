package org.pincurl;

import java.util.Date;

/**
 * What a person needs to see about a certificate when choosing pins (pincurl/cert.h):
 * subject, issuer, validity, key type and size, and its pin. Immutable.
 */
public final class CertificateInfo {
    private final String subject;
    private final String issuer;
    private final long notBefore;
    private final long notAfter;
    private final String keyType;
    private final int keyBits;
    private final String pin;

    private CertificateInfo(Object[] text, long[] numbers) {
        this.subject = Jni.str((byte[]) text[0]);
        this.issuer = Jni.str((byte[]) text[1]);
        this.keyType = Jni.str((byte[]) text[2]);
        this.pin = Jni.str((byte[]) text[3]);
        this.notBefore = numbers[0];
        this.notAfter = numbers[1];
        this.keyBits = (int) numbers[2];
    }

    /** The facts of one DER certificate (see {@link Pins#certificates} for PEM).
     * Statuses: DER_MALFORMED, DER_TRUNCATED, BUFFER_TOO_SMALL. */
    public static CertificateInfo of(byte[] der) throws PincurlException {
        if (der == null) {
            throw new NullPointerException("der");
        }
        Object[] text = new Object[4];
        long[] numbers = new long[3];
        PincurlException.check(PincurlNative.jni_cert_info(der, text, numbers), "certificate");
        return new CertificateInfo(text, numbers);
    }

    /** RFC 2253, most specific RDN first. */
    public String subject() {
        return subject;
    }

    public String issuer() {
        return issuer;
    }

    public Date notBefore() {
        return new Date(notBefore * 1000L);
    }

    public Date notAfter() {
        return new Date(notAfter * 1000L);
    }

    /** "RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS" or the algorithm's dotted OID. */
    public String keyType() {
        return keyType;
    }

    /** The key size in bits (the curve's field size for EC), 0 if unknown. */
    public int keyBits() {
        return keyBits;
    }

    /** "sha256/BASE64" of the certificate's SubjectPublicKeyInfo. */
    public String pin() {
        return pin;
    }

    @Override
    public String toString() {
        return subject + " (issuer " + issuer + ", " + keyType + " " + keyBits + ", " + pin + ")";
    }
}
