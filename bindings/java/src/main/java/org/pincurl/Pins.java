package org.pincurl;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Pins ("sha256/" + base64 of the SHA-256 of a DER SubjectPublicKeyInfo), computed the way
 * the C library computes them. Thread-safe.
 */
public final class Pins {
    private Pins() {
    }

    /** The pin of every certificate in a PEM bundle (any number of CERTIFICATE blocks) or
     * of a single DER certificate, in order. */
    public static List<String> ofCertificates(byte[] pemOrDer) throws PincurlException {
        List<String> pins = new ArrayList<String>();
        for (byte[] der : certificates(pemOrDer)) {
            pins.add(ofCertificateDer(der));
        }
        return Collections.unmodifiableList(pins);
    }

    /** The DER certificates of a PEM bundle or of a single DER certificate, in order. */
    public static List<byte[]> certificates(byte[] pemOrDer) throws PincurlException {
        if (pemOrDer == null) {
            throw new NullPointerException("pemOrDer");
        }
        SWIGTYPE_p_pincurl_cert_list[] out = new SWIGTYPE_p_pincurl_cert_list[1];
        PincurlException.check(PincurlNative.pincurl_cert_list_load(pemOrDer, out),
                               "certificates");
        SWIGTYPE_p_pincurl_cert_list list = out[0];
        try {
            long n = PincurlNative.pincurl_cert_list_count(list);
            List<byte[]> ders = new ArrayList<byte[]>();
            for (long i = 0; i < n; i++) {
                ders.add(PincurlNative.jni_cert_list_der(list, i));
            }
            return Collections.unmodifiableList(ders);
        } finally {
            PincurlNative.pincurl_cert_list_free(list);
        }
    }

    /** The pins of the certificates in a PEM or DER file. */
    public static List<String> ofCertificateFile(File file) throws IOException {
        return ofCertificates(readFile(file));
    }

    /** The pin of one DER certificate. */
    public static String ofCertificateDer(byte[] der) throws PincurlException {
        if (der == null) {
            throw new NullPointerException("der");
        }
        String[] pin = new String[1];
        PincurlException.check(PincurlNative.pincurl_pin_from_cert_der(der, pin), "certificate");
        return pin[0];
    }

    /** The pin of a public key: PEM ("PUBLIC KEY", "RSA PUBLIC KEY") or DER. */
    public static String ofPublicKey(byte[] key) throws PincurlException {
        if (key == null) {
            throw new NullPointerException("key");
        }
        String[] pin = new String[1];
        PincurlException.check(PincurlNative.pincurl_pin_from_public_key(key, pin), "public key");
        return pin[0];
    }

    /** The pin of a DER SubjectPublicKeyInfo. */
    public static String ofSpki(byte[] spki) throws PincurlException {
        if (spki == null) {
            throw new NullPointerException("spki");
        }
        String[] pin = new String[1];
        PincurlException.check(PincurlNative.pincurl_pin_from_spki_der(spki, pin), "SPKI");
        return pin[0];
    }

    /** The DER SubjectPublicKeyInfo of a public or private key (PEM or DER: SPKI,
     * PKCS#1, PKCS#8, SEC1), as `openssl pkey -pubout -outform der` prints it. */
    public static byte[] spkiOfKey(byte[] key) throws PincurlException {
        if (key == null) {
            throw new NullPointerException("key");
        }
        byte[][] out = new byte[1][];
        PincurlException.check(PincurlNative.jni_spki_from_key(key, out, 0), "key");
        return out[0];
    }

    /** The DER SubjectPublicKeyInfo inside a certificate signing request (PEM or DER):
     * pin a key before its certificate exists. */
    public static byte[] spkiOfCsr(byte[] csr) throws PincurlException {
        if (csr == null) {
            throw new NullPointerException("csr");
        }
        byte[][] out = new byte[1][];
        PincurlException.check(PincurlNative.jni_spki_from_key(csr, out, 1), "CSR");
        return out[0];
    }

    /** Checks a pin's text ("sha256/BASE64" or curl's "sha256//BASE64") and returns its
     * canonical form. */
    public static String parse(String pin) throws PincurlException {
        if (pin == null) {
            throw new NullPointerException("pin");
        }
        String[] out = new String[1];
        PincurlException.check(PincurlNative.pincurl_pin_parse(Jni.utf8(pin), out), "pin");
        return out[0];
    }

    static byte[] readFile(File file) throws IOException {
        InputStream in = new FileInputStream(file);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }
}
