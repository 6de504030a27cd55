package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Failure reports: spooled on the requesting thread, delivered by the client's sender
 * thread (a native thread: its events reach the listener through an attached thread). */
class ReportsTest {
    @Test
    void aRefusalIsSpooledAndDeliveredFromTheSenderThread() throws Exception {
        String foreignA = TestPeers.opensslPin(TestPeers.pki("p256.pem"));
        String foreignB = TestPeers.opensslPin(TestPeers.pki("p384.pem"));
        PinnedRequestTest.Recorder rec = new PinnedRequestTest.Recorder();
        Path spool = Files.createTempDirectory("pincurl-java-spool");
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "site");
             TestPeers.TlsServer collector = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "collector")) {
            // The collector is reached by address, which the policy does not pin.
            String json = "{\"pincurl_policy\": 1, \"expires\": \"2099-12-31\", \"on_expiry\": \"block\","
                + " \"report_uris\": [\"https://127.0.0.1:" + collector.port + "/echo\"],"
                + " \"domains\": {\"localhost\": {\"enforce\": true, \"pins\": [\"" + foreignA
                + "\", \"" + foreignB + "\"]}}}";
            Options o = Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                .resolve("localhost", s.port, "127.0.0.1").timeout(20, TimeUnit.SECONDS)
                .spoolDir(spool.resolve("reports").toFile())
                .appInfo("org.pincurl.test", "1.0", null, "linux", null)
                .listener(rec).build();
            try (Policy p = Policy.fromJson(json); Client c = Client.create(p, o)) {
                for (int i = 0; i < 2; i++) {
                    assertEquals(Status.PIN_MISMATCH, assertThrows(PincurlException.class,
                        () -> c.send(Request.get(s.url("/")))).status());
                }
                assertTrue(c.flushReports(30, TimeUnit.SECONDS), "the spool did not empty");
                assertEquals(0, c.reportsDropped());
                assertEquals(1, c.reportsSuppressed(), "the identical second report is suppressed");
            }
            assertTrue(collector.requestBytes() > 0, "the collector received nothing");
            assertEquals(0, s.requestBytes());
        } finally {
            TestPeers.deleteTree(spool);
        }
        List<ValidationEvent> queued = rec.of(EventKind.REPORT_QUEUED);
        assertEquals(1, queued.size(), rec.events.toString());
        assertEquals(Status.OK, queued.get(0).status());
        List<ValidationEvent> sent = rec.of(EventKind.REPORT_SENT);
        assertEquals(1, sent.size(), rec.events.toString());
        assertEquals(Status.OK, sent.get(0).status());
        Thread sender = rec.threads.get(rec.events.indexOf(sent.get(0)));
        assertNotEquals(Thread.currentThread(), sender);
        assertEquals("pincurl-native", sender.getName());
        assertFalse(sender.isAlive(), "the sender thread was left attached");
        Thread queuer = rec.threads.get(rec.events.indexOf(queued.get(0)));
        assertEquals(Thread.currentThread(), queuer);
    }
}
