package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real pinned requests against tls_server.py (and mitmproxy) on loopback. */
class PinnedRequestTest {
    private static TestPeers.TlsServer genuine;
    private static String leafPin;
    private static String interPin;
    private static String rootPin;
    private static String foreignA;
    private static String foreignB;

    @BeforeAll
    static void start() throws Exception {
        genuine = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "genuine");
        leafPin = TestPeers.opensslPin(TestPeers.pki("leaf-ec.pem"));
        interPin = TestPeers.opensslPin(TestPeers.pki("inter.pem"));
        rootPin = TestPeers.opensslPin(TestPeers.pki("root.pem"));
        foreignA = TestPeers.opensslPin(TestPeers.pki("p256.pem"));
        foreignB = TestPeers.opensslPin(TestPeers.pki("p384.pem"));
    }

    @AfterAll
    static void stop() {
        if (genuine != null) {
            genuine.close();
        }
    }

    /** Options trusting the genuine root, localhost mapped to 127.0.0.1 for port. */
    private static Options.Builder options(int port) {
        return Options.builder().caFile(TestPeers.pkiFile("root.pem"))
            .connectTimeout(5, TimeUnit.SECONDS).timeout(20, TimeUnit.SECONDS)
            .resolve("localhost", port, "127.0.0.1");
    }

    private static Policy policy(boolean enforce, String... pins) throws PincurlException {
        return Policy.fromJson(TestPeers.policyJson("localhost", enforce, pins));
    }

    /** A listener keeping every event. */
    static final class Recorder implements ValidationListener {
        final List<ValidationEvent> events = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onEvent(ValidationEvent event) {
            events.add(event);
            threads.add(Thread.currentThread());
        }

        List<ValidationEvent> of(EventKind kind) {
            List<ValidationEvent> out = new ArrayList<>();
            synchronized (events) {
                for (ValidationEvent e : events) {
                    if (e.kind() == kind) {
                        out.add(e);
                    }
                }
            }
            return out;
        }
    }

    @Test
    void pinnedHostSucceedsAndReportsTheMatchedPin() throws Exception {
        Recorder rec = new Recorder();
        try (Policy p = policy(true, interPin, foreignA);
             Client c = Client.create(p, options(genuine.port).listener(rec).build())) {
            Response r = c.send(Request.get(genuine.url("/")));
            assertEquals(Status.OK, r.status());
            assertEquals(200, r.code());
            assertEquals("hello from genuine", r.bodyString());
            assertEquals(genuine.url("/"), r.effectiveUrl());
            assertEquals("", r.detail());
            Verdict v = r.verdict();
            assertEquals(Result.SUCCESS, v.result());
            assertEquals(Decision.ALLOW, v.decision());
            assertEquals(interPin, v.matchedPin());
            assertEquals(1, v.matchedDepth());
            assertEquals(List.of(leafPin, interPin, rootPin), v.pathPins());
            assertTrue(v.pinned());
            assertTrue(v.enforce());
            assertEquals("localhost", v.notedHost());
            TransferInfo info = r.info();
            assertEquals(0, info.curlCode());
            assertEquals("127.0.0.1", info.remoteIp());
            assertEquals(genuine.port, info.remotePort());
            assertEquals(1, info.connects());
            assertTrue(info.tlsHandshakeMicros() > 0 && info.totalMicros() >= info.tlsHandshakeMicros(),
                       info.tlsHandshakeMicros() + " / " + info.totalMicros());
            assertEquals("hello from genuine".length(), info.bytesDownloaded());
            assertEquals(1, c.generation());
            // wolfSSL's backend, or OpenSSL's on the distribution's libcurl
            assertTrue(c.tlsBackend().equals("wolfssl") || c.tlsBackend().equals("openssl"),
                       c.tlsBackend());
        }
        List<ValidationEvent> vs = rec.of(EventKind.VALIDATION);
        assertEquals(1, vs.size(), rec.events.toString());
        ValidationEvent e = vs.get(0);
        assertEquals("localhost", e.host());
        assertEquals(genuine.port, e.port());
        assertEquals(Result.SUCCESS, e.result());
        assertEquals(Decision.ALLOW, e.decision());
        assertEquals(interPin, e.matchedPin());
        assertEquals(List.of(leafPin, interPin, rootPin), e.pathPins());
        assertEquals(1, e.generation());
        assertTrue(e.durationMicros() >= 0);
        assertNotNull(e.message());
        assertEquals(3, e.pathCertificates().size());
        assertEquals(leafPin, Pins.ofCertificateDer(e.pathCertificates().get(0)));
        assertEquals(2, e.servedCertificates().size());
        // Called on the thread that performed the request.
        assertEquals(Thread.currentThread(), rec.threads.get(0));
    }

    @Test
    void pinMismatchIsRefusedWithStatusAndDetail() throws Exception {
        TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "victim");
        try (s; Policy p = policy(true, foreignA, foreignB);
             Client c = Client.create(p, options(s.port).build())) {
            PincurlException e = assertThrows(PincurlException.class,
                () -> c.send(Request.get(s.url("/"))));
            assertEquals(Status.PIN_MISMATCH, e.status());
            assertEquals(Status.PIN_MISMATCH.number(), e.statusNumber());
            String d = e.detail();
            assertTrue(d.contains("localhost:" + s.port), d);
            for (String pin : List.of(leafPin, interPin, rootPin, foreignA, foreignB)) {
                assertTrue(d.contains(pin), "detail lacks " + pin + ":\n" + d);
            }
            assertTrue(e.getMessage().contains("PIN_MISMATCH"), e.getMessage());
            Response r = e.response();
            assertEquals(Status.PIN_MISMATCH, r.status());
            assertEquals(0, r.code());
            assertTrue(r.info().curlCode() != 0, "a refused handshake has a libcurl error");
            Verdict v = r.verdict();
            assertEquals(v.toString(), e.verdict().toString());
            assertEquals(Result.PIN_MISMATCH, v.result());
            assertEquals(Decision.BLOCK, v.decision());
            assertNull(v.matchedPin());
            assertEquals(List.of(leafPin, interPin, rootPin), v.pathPins());
            assertEquals(0, s.requestBytes(), "a request byte reached the server");
        }
    }

    @Test
    void rogueChainIsACertificateFailure() throws Exception {
        TestPeers.TlsServer s = new TestPeers.TlsServer("rogue-leaf.pem", "rogue-leaf.key", "rogue");
        try (s; Policy p = policy(true, interPin, rootPin);
             Client c = Client.create(p, options(s.port).build())) {
            PincurlException e = assertThrows(PincurlException.class,
                () -> c.send(Request.get(s.url("/"))));
            assertEquals(Status.CERT_INVALID, e.status());
            assertEquals(0, s.requestBytes());
        }
    }

    @Test
    void mitmproxyInterceptionIsRefusedButWorksUnpinned() throws Exception {
        assumeTrue(TestPeers.Mitm.available(), "mitmdump is not installed");
        TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "upstream");
        try (s; TestPeers.Mitm mitm = new TestPeers.Mitm("root.pem")) {
            // The device trusts the genuine root and the interception CA.
            Path bundle = mitm.confdir.resolve("bundle.pem");
            Files.write(bundle, concat(Files.readAllBytes(TestPeers.pki("root.pem")),
                                       Files.readAllBytes(mitm.caPem)));
            Options o = Options.builder().caFile(bundle.toFile()).proxy(mitm.proxyUrl())
                .connectTimeout(5, TimeUnit.SECONDS).timeout(20, TimeUnit.SECONDS).build();
            try (Policy p = policy(true, interPin, rootPin); Client c = Client.create(p, o)) {
                PincurlException e = assertThrows(PincurlException.class,
                    () -> c.send(Request.get(s.url("/"))));
                assertEquals(Status.PIN_MISMATCH, e.status(), e.getMessage());
                Verdict v = e.response().verdict();
                assertEquals(Result.PIN_MISMATCH, v.result());
                assertFalse(v.pathPins().contains(interPin), "the proxy's path is not the genuine one");
            }
            assertEquals(0, s.requestBytes(), "a request reached the upstream server");

            // Control: the same request with the host not pinned goes through the proxy.
            try (Policy p = Policy.fromJson(TestPeers.policyJson("other.example", true, foreignA, foreignB));
                 Client c = Client.create(p, o)) {
                Response r = c.send(Request.get(s.url("/")));
                assertEquals(200, r.code());
                assertEquals("hello from upstream", r.bodyString());
                assertNull(r.verdict());
            }
            assertTrue(s.requestBytes() > 0);
        }
    }

    @Test
    void reportOnlyMismatchIsLetThroughAndTheListenerCalled() throws Exception {
        Recorder rec = new Recorder();
        try (Policy p = policy(false, foreignA);
             Client c = Client.create(p, options(genuine.port).listener(rec).build())) {
            Response r = c.send(Request.get(genuine.url("/")));
            assertEquals(200, r.code());
            assertEquals("hello from genuine", r.bodyString());
            Verdict v = r.verdict();
            assertEquals(Result.PIN_MISMATCH, v.result());
            assertEquals(Decision.ALLOW, v.decision());
            assertFalse(v.enforce());
        }
        List<ValidationEvent> vs = rec.of(EventKind.VALIDATION);
        assertEquals(1, vs.size(), rec.events.toString());
        ValidationEvent e = vs.get(0);
        assertEquals(Result.PIN_MISMATCH, e.result());
        assertEquals(Decision.ALLOW, e.decision());
        assertEquals("localhost", e.host());
        assertEquals(genuine.port, e.port());
        assertTrue(e.verdict().pinned());
        assertFalse(e.verdict().enforce());
        assertNull(e.matchedPin());
    }

    @Test
    void aDomainEntryExpiresOnItsOwn() throws Exception {
        // localhost's own pins (which do not match) expired in 2015, report_and_allow; the
        // policy's expiry (2099, block) is far away; other.example has no expiry of its own.
        String json = "{\"pincurl_policy\": 1, \"expires\": \"2099-12-31\", "
            + "\"on_expiry\": \"block\", \"domains\": {"
            + "\"localhost\": {\"pins\": [\"" + foreignA + "\", \"" + foreignB + "\"], "
            + "\"expires\": \"2015-01-01\", \"on_expiry\": \"report_and_allow\"}, "
            + "\"other.example\": {\"pins\": [\"" + foreignA + "\", \"" + foreignB + "\"]}}}";
        try (Policy p = Policy.fromJson(json);
             Client c = Client.create(p, options(genuine.port).build())) {
            Policy.Domain d = p.lookup("localhost");
            assertNotNull(d);
            assertEquals(java.util.Date.from(java.time.Instant.parse("2015-01-01T00:00:00Z")),
                         d.expires());
            assertFalse(d.blocksOnExpiry());
            assertTrue(p.lookup("other.example").blocksOnExpiry());
            assertNull(p.lookup("other.example").expires());
            Response r = c.send(Request.get(genuine.url("/")));
            assertEquals(Status.OK, r.status(), r.detail());
            Verdict v = r.verdict();
            assertNotNull(v);
            assertEquals(Result.PIN_MISMATCH, v.result());
            assertEquals(Decision.ALLOW, v.decision());
            assertEquals(ExpiryState.VALID, v.expiry()); // the policy's own
            assertEquals(java.util.Date.from(java.time.Instant.parse("2015-01-01T00:00:00Z")),
                         v.domainExpires());
            assertEquals(v.domainExpires(), v.effectiveExpires());
            assertEquals(ExpiryState.EXPIRED, v.effectiveExpiry());
            assertFalse(v.effectiveBlocksOnExpiry());
        }
    }

    @Test
    void setPolicyStartsANewGeneration() throws Exception {
        Recorder rec = new Recorder();
        try (Policy foreign = policy(true, foreignA, foreignB);
             Policy good = policy(true, interPin, rootPin);
             Client c = Client.create(foreign, options(genuine.port).listener(rec).build())) {
            assertEquals(1, c.generation());
            assertEquals(Status.PIN_MISMATCH, assertThrows(PincurlException.class,
                () -> c.send(Request.get(genuine.url("/")))).status());
            assertEquals(2, c.setPolicy(good));
            assertEquals(2, c.generation());
            assertEquals(200, c.send(Request.get(genuine.url("/"))).code());
            try (Policy inForce = c.policy()) {
                assertEquals(List.of(interPin, rootPin), inForce.domains().get(0).pins());
            }
            assertEquals(3, c.setPolicy(foreign));
            assertEquals(Status.PIN_MISMATCH, assertThrows(PincurlException.class,
                () -> c.send(Request.get(genuine.url("/")))).status());
        }
        List<ValidationEvent> vs = rec.of(EventKind.VALIDATION);
        assertEquals(3, vs.size(), rec.events.toString());
        assertEquals(List.of(1L, 2L, 3L), List.of(vs.get(0).generation(), vs.get(1).generation(),
                                                 vs.get(2).generation()));
        assertEquals(List.of(Decision.BLOCK, Decision.ALLOW, Decision.BLOCK),
                     List.of(vs.get(0).decision(), vs.get(1).decision(), vs.get(2).decision()));
        assertEquals(2, rec.of(EventKind.POLICY_CHANGED).size(), rec.events.toString());
    }

    @Test
    void bodiesAndHeadersTravel() throws Exception {
        try (Policy p = policy(true, interPin, rootPin);
             Client c = Client.create(p, options(genuine.port).build())) {
            byte[] payload = "ping \u00e9\u4e2d".getBytes(StandardCharsets.UTF_8);
            Response echo = c.send(Request.builder(genuine.url("/echo")).method("POST")
                .body(payload).build());
            assertArrayEquals(payload, echo.body());

            byte[] big = new byte[300_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31);
            }
            Response streamed = c.send(Request.builder(genuine.url("/echo")).method("PUT")
                .body(new ByteArrayInputStream(big), big.length).build());
            assertArrayEquals(big, streamed.body());
            Response chunked = c.send(Request.builder(genuine.url("/echo")).method("POST")
                .body(new ByteArrayInputStream(big), -1).build());
            assertArrayEquals(big, chunked.body());

            ByteArrayOutputStream sink = new ByteArrayOutputStream();
            Response r = c.send(Request.builder(genuine.url("/bytes?n=200000")).writeTo(sink).build());
            assertEquals(200, r.code());
            assertEquals(0, r.body().length);
            assertEquals(200_000, sink.size());
            assertEquals('a', sink.toByteArray()[0]);
            assertEquals('z', sink.toByteArray()[25]);

            Response h = c.send(Request.builder(genuine.url("/headers"))
                .header("X-Pincurl-Test", "yes \u00fc").build());
            assertTrue(h.bodyString().contains("X-Pincurl-Test: yes \u00fc"), h.bodyString());
            assertEquals(String.valueOf(h.body().length), h.header("content-length"));
            assertEquals(404, c.send(Request.get(genuine.url("/status?code=404"))).code());
        }
        assertThrows(IllegalArgumentException.class,
            () -> Request.builder("https://localhost/").header("X", "a\r\nInjected: 1"));
    }

    @Test
    void streamFailuresAbortTheRequest() throws Exception {
        try (Policy p = policy(true, interPin, rootPin);
             Client c = Client.create(p, options(genuine.port).build())) {
            IOException boom = new IOException("disk gone");
            OutputStream failing = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    throw boom;
                }
            };
            PincurlException e = assertThrows(PincurlException.class,
                () -> c.send(Request.builder(genuine.url("/bytes?n=100000")).writeTo(failing).build()));
            assertEquals(Status.ABORTED_BY_CALLBACK, e.status());
            assertEquals(boom, e.getCause());

            InputStream broken = new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("read failed");
                }
            };
            PincurlException e2 = assertThrows(PincurlException.class,
                () -> c.send(Request.builder(genuine.url("/echo")).method("POST")
                    .body(broken, 10).build()));
            assertEquals(Status.ABORTED_BY_CALLBACK, e2.status());
            assertEquals("read failed", e2.getCause().getMessage());
        }
    }

    @Test
    void aThrowingListenerGoesToTheErrorHandlerNotTheThread() throws Exception {
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<Throwable>());
        List<ValidationEvent> during = Collections.synchronizedList(new ArrayList<ValidationEvent>());
        List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<Throwable>());
        Thread self = Thread.currentThread();
        Thread.UncaughtExceptionHandler old = self.getUncaughtExceptionHandler();
        self.setUncaughtExceptionHandler((t, ex) -> uncaught.add(ex));
        try (Policy p = policy(true, interPin, rootPin);
             Client c = Client.create(p, options(genuine.port).listener(ev -> {
                 throw new IllegalStateException("listener bug");
             }).listenerErrorHandler((ev, ex) -> {
                 during.add(ev);
                 handled.add(ex);
             }).build())) {
            assertEquals(200, c.send(Request.get(genuine.url("/"))).code());
        } finally {
            self.setUncaughtExceptionHandler(old);
        }
        assertTrue(uncaught.isEmpty(), "the thread's handler was called: " + uncaught);
        assertEquals(1, handled.size(), handled.toString());
        assertEquals("listener bug", handled.get(0).getMessage());
        assertEquals(EventKind.VALIDATION, during.get(0).kind());

        // A handler that throws too, and an Error: both stay inside the callback.
        try (Policy p = policy(true, interPin, rootPin);
             Client c = Client.create(p, options(genuine.port).listener(ev -> {
                 throw new StackOverflowError("deep");
             }).listenerErrorHandler((ev, ex) -> {
                 throw new IllegalArgumentException("handler bug");
             }).build())) {
            assertEquals(200, c.send(Request.get(genuine.url("/"))).code());
            assertEquals(200, c.send(Request.get(genuine.url("/"))).code());
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
