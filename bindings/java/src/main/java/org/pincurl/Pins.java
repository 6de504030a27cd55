package org.pincurl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        if (pemOrDer == null) {
            throw new NullPointerException("pemOrDer");
        }
        SWIGTYPE_p_pincurl_cert_list[] out = new SWIGTYPE_p_pincurl_cert_list[1];
        PincurlException.check(PincurlNative.pincurl_cert_list_load(pemOrDer, out),
                               "certificates");
        SWIGTYPE_p_pincurl_cert_list list = out[0];
        try {
            long n = PincurlNative.pincurl_cert_list_count(list);
            List<String> pins = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                pins.add(ofCertificateDer(PincurlNative.jni_cert_list_der(list, i)));
            }
            return Collections.unmodifiableList(pins);
        } finally {
            PincurlNative.pincurl_cert_list_free(list);
        }
    }

    /** The pins of the certificates in a PEM or DER file. */
    public static List<String> ofCertificateFile(Path file) throws IOException {
        return ofCertificates(Files.readAllBytes(file));
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
}
