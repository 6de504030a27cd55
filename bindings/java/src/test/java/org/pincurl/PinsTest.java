package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The binding's pin functions against openssl's pipeline. */
class PinsTest {
    @Test
    void certificatePinsAreOpensslPins() throws Exception {
        for (String name : List.of("root", "inter", "leaf-ec", "leaf-rsa", "rogue-root", "p384",
                                   "rsa4096", "ed25519", "ed448")) {
            List<String> pins = Pins.ofCertificateFile(TestPeers.pkiFile(name + ".pem"));
            assertEquals(List.of(TestPeers.opensslPin(TestPeers.pki(name + ".pem"))), pins, name);
        }
    }

    @Test
    void chainFileGivesEveryPinInOrder() throws Exception {
        List<String> pins = Pins.ofCertificateFile(TestPeers.pkiFile("leaf-ec-fullchain.pem"));
        assertEquals(List.of(TestPeers.opensslPin(TestPeers.pki("leaf-ec.pem")),
                             TestPeers.opensslPin(TestPeers.pki("inter.pem")),
                             TestPeers.opensslPin(TestPeers.pki("root.pem"))), pins);
        assertEquals(pins.get(0),
                     Pins.ofCertificateDer(Files.readAllBytes(TestPeers.pki("leaf-ec.der"))));
    }

    @Test
    void publicKeyPinEqualsItsCertificatesPin() throws Exception {
        for (String k : List.of("p256", "rsa2048", "ed25519")) {
            assertEquals(TestPeers.opensslPin(TestPeers.pki(k + ".pem")),
                         Pins.ofPublicKey(Files.readAllBytes(TestPeers.pki(k + ".pub.pem"))), k);
            assertEquals(TestPeers.opensslPin(TestPeers.pki(k + ".pem")),
                         Pins.ofPublicKey(Files.readAllBytes(TestPeers.pki(k + ".pub.der"))), k);
        }
    }

    @Test
    void parseCanonicalisesAndRefuses() throws Exception {
        String pin = TestPeers.opensslPin(TestPeers.pki("root.pem"));
        assertEquals(pin, Pins.parse(pin));
        assertEquals(pin, Pins.parse(pin.replace("sha256/", "sha256//")));
        assertEquals(Status.PIN_BAD_PREFIX,
                     assertThrows(PincurlException.class, () -> Pins.parse("sha1/abc")).status());
        assertEquals(Status.PIN_BAD_BASE64,
                     assertThrows(PincurlException.class, () -> Pins.parse("sha256/!!!!")).status());
        assertEquals(Status.PIN_BAD_LENGTH,
                     assertThrows(PincurlException.class, () -> Pins.parse("sha256/AAAA")).status());
        assertEquals(Status.NO_CERTIFICATE, assertThrows(PincurlException.class,
            () -> Pins.ofCertificates("no certificate here".getBytes())).status());
    }
}
