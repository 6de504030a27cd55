package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Signed policy updates through the binding: a bundle replaces the base policy of a live
 * client, refusals leave it alone, the state survives a new client. */
class UpdaterTest {
    @Test
    void aSignedBundleReplacesTheBasePolicy() throws Exception {
        String interPin = TestPeers.opensslPin(TestPeers.pki("inter.pem"));
        String rootPin = TestPeers.opensslPin(TestPeers.pki("root.pem"));
        String foreignA = TestPeers.opensslPin(TestPeers.pki("p256.pem"));
        String foreignB = TestPeers.opensslPin(TestPeers.pki("p384.pem"));
        byte[] good = TestPeers.policyJson("localhost", true, interPin, rootPin)
            .getBytes(StandardCharsets.UTF_8);
        Instant now = Instant.now();
        Path state = Files.createTempDirectory("pincurl-java-update");
        PinnedRequestTest.Recorder rec = new PinnedRequestTest.Recorder();
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "updated");
             UpdateSigningKey signer = UpdateSigningKey.generate();
             UpdateSigningKey stranger = UpdateSigningKey.generate()) {
            assertEquals(16, signer.keyId().length());
            assertEquals(signer.keyId(), UpdateKey.of(signer.verificationKey().publicKey()).keyId());
            Options o = Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                .resolve("localhost", s.port, "127.0.0.1").listener(rec).build();
            byte[] bundle1 = signer.sign(good, 1, Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(86400)));
            try (Policy base = Policy.fromJson(TestPeers.policyJson("localhost", true, foreignA, foreignB));
                 Client c = Client.create(base, o);
                 Updater u = Updater.create(c, List.of(signer.verificationKey()), state.resolve("u").toFile())) {
                assertTrue(u.usingBase());
                assertEquals(0, u.sequence());
                assertEquals(Status.PIN_MISMATCH, assertThrows(PincurlException.class,
                    () -> c.send(Request.get(s.url("/")))).status());

                // Refused: another key, a damaged signature. Nothing changes.
                byte[] foreign = stranger.sign(good, 1, Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(86400)));
                assertEquals(Status.UPDATE_UNKNOWN_KEY,
                             assertThrows(PincurlException.class, () -> u.apply(foreign)).status());
                byte[] damaged = bundle1.clone();
                damaged[damaged.length - 1] ^= 1;
                assertEquals(Status.UPDATE_BAD_SIGNATURE,
                             assertThrows(PincurlException.class, () -> u.apply(damaged)).status());
                assertEquals(Status.UPDATE_BAD_SIGNATURE, u.lastErrorStatus());
                assertFalse(u.lastErrorMessage().isEmpty());
                assertEquals(1, c.generation());
                assertTrue(u.usingBase());

                u.apply(bundle1);
                assertEquals(1, u.sequence());
                assertFalse(u.usingBase());
                assertEquals(2, c.generation());
                assertEquals(200, c.send(Request.get(s.url("/"))).code());
                assertEquals(Status.UPDATE_NOT_HIGHER,
                             assertThrows(PincurlException.class, () -> u.apply(bundle1)).status());
                assertEquals(Status.UPDATE_FETCH_FAILED, assertThrows(PincurlException.class,
                    () -> u.fetch(s.url("/status?code=404"))).status());
            }
            // Unknown key, bad signature, not higher: each an UPDATE_REJECTED event.
            assertTrue(rec.of(EventKind.UPDATE_REJECTED).size() >= 3, rec.events.toString());
            assertEquals(1, rec.of(EventKind.UPDATE_APPLIED).size(), rec.events.toString());

            // A new client on the same state directory gets the stored bundle back.
            try (Policy base = Policy.fromJson(TestPeers.policyJson("localhost", true, foreignA, foreignB));
                 Client c = Client.create(base, o);
                 Updater u = Updater.create(c, List.of(signer.verificationKey()), state.resolve("u").toFile())) {
                assertEquals(1, u.sequence());
                assertFalse(u.usingBase());
                assertEquals(2, c.generation());
                assertEquals(200, c.send(Request.get(s.url("/"))).code());
                u.start(s.url("/status?code=404"), 3600, 1, 2, TimeUnit.SECONDS);
                for (int i = 0; i < 500 && u.fetchStats().polls == 0; i++) {
                    Thread.sleep(10);
                }
                Updater.FetchStats st = u.fetchStats();
                assertEquals(1, st.polls);
                assertEquals(Status.UPDATE_FETCH_FAILED, st.lastStatus);
                u.stop();
            }
            // Closing a client closes its updaters first.
            Policy base = Policy.fromJson(TestPeers.policyJson("localhost", true, foreignA, foreignB));
            Client c = Client.create(base, o);
            base.close();
            Updater u = Updater.create(c, List.of(signer.verificationKey()), state.resolve("u").toFile());
            c.close();
            assertThrows(IllegalStateException.class, u::sequence);
            u.close();
        } finally {
            TestPeers.deleteTree(state);
        }
    }
}
