package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The clock, the body written to a file, certificate facts, the runtime. */
class OptionsTest {
    private static TestPeers.TlsServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "opts");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String pin(String name) {
        return TestPeers.opensslPin(TestPeers.pki(name + ".pem"));
    }

    private static Options.Builder options() {
        return Options.builder().caFile(TestPeers.pkiFile("root.pem"))
            .resolve("localhost", server.port, "127.0.0.1").timeout(20, TimeUnit.SECONDS);
    }

    @Test
    void theClockDecidesExpiry() throws Exception {
        // The policy expires 2099-12-31 and blocks then: a clock in 2100 makes it expired.
        String json = TestPeers.policyJson("localhost", true, pin("inter"), pin("root"));
        try (Policy p = Policy.fromJson(json);
             Client now = Client.create(p, options().build());
             Client later = Client.create(p, options().clock(() -> 4133980800L).build())) {
            assertEquals(200, now.send(Request.get(server.url("/"))).code());
            PincurlException e = assertThrows(PincurlException.class,
                () -> later.send(Request.get(server.url("/"))));
            assertEquals(Status.POLICY_EXPIRED, e.status(), e.getMessage());
        }
        // A clock that throws: the handler hears of it, the system's time stands in, and
        // the pins are enforced as ever.
        List<Throwable> handled = Collections.synchronizedList(new ArrayList<Throwable>());
        try (Policy p = Policy.fromJson(json);
             Policy foreign = Policy.fromJson(TestPeers.policyJson("localhost", true,
                 pin("p256"), pin("p384")));
             Client broken = Client.create(p, options().clock(() -> {
                 throw new IllegalStateException("no time");
             }).listenerErrorHandler((ev, t) -> handled.add(t)).build())) {
            assertEquals(200, broken.send(Request.get(server.url("/"))).code());
            broken.setPolicy(foreign);
            assertEquals(Status.PIN_MISMATCH, assertThrows(PincurlException.class,
                () -> broken.send(Request.get(server.url("/")))).status());
        }
        assertTrue(!handled.isEmpty() && "no time".equals(handled.get(0).getMessage()),
                   handled.toString());
    }

    @Test
    void theBodyIsWrittenToAFile() throws Exception {
        Path dir = Files.createTempDirectory("pincurl-java-out");
        try (Policy p = Policy.fromJson(TestPeers.policyJson("localhost", true, pin("inter"), pin("root")));
             Client c = Client.create(p, options().reportTiming(1, 2, 1, TimeUnit.SECONDS).build())) {
            Path out = dir.resolve("body.bin");
            Response r = c.send(Request.builder(server.url("/bytes?n=70000"))
                .outputFile(out.toFile()).build());
            assertEquals(200, r.code());
            assertEquals(0, r.body().length);
            byte[] got = Files.readAllBytes(out);
            assertEquals(70000, got.length);
            assertEquals('a', got[0]);
            Response echo = c.send(Request.builder(server.url("/echo")).method("POST")
                .formData("field", "value".getBytes("UTF-8"), null, null).build());
            assertTrue(echo.bodyString().contains("name=\"field\""), echo.bodyString());
            assertTrue(echo.bodyString().contains("value"), echo.bodyString());
        } finally {
            TestPeers.deleteTree(dir);
        }
    }

    @Test
    void certificateFactsAgreeWithOpenssl() throws Exception {
        byte[] pem = Files.readAllBytes(TestPeers.pki("leaf-ec.pem"));
        List<byte[]> ders = Pins.certificates(pem);
        assertEquals(1, ders.size());
        CertificateInfo info = CertificateInfo.of(ders.get(0));
        assertEquals(pin("leaf-ec"), info.pin());
        assertEquals("EC", info.keyType());
        assertEquals(256, info.keyBits());
        String subject = TestPeers.run(List.of("openssl", "x509", "-in",
            TestPeers.pki("leaf-ec.pem").toString(), "-noout", "-subject", "-nameopt", "RFC2253"))
            .trim().replaceFirst("^subject=", "");
        assertEquals(subject, info.subject());
        String end = TestPeers.run(List.of("openssl", "x509", "-in",
            TestPeers.pki("leaf-ec.pem").toString(), "-noout", "-enddate")).trim();
        long endEpoch = Long.parseLong(TestPeers.run(List.of("date", "-u", "-d",
            end.replaceFirst("^notAfter=", ""), "+%s")).trim());
        assertEquals(new Date(endEpoch * 1000L), info.notAfter());
        assertTrue(info.notBefore().before(info.notAfter()));
        assertEquals(Status.DER_TRUNCATED, assertThrows(PincurlException.class,
            () -> CertificateInfo.of(new byte[] {0x30, 0x05, 1, 2})).status());

        byte[] spki = Pins.spkiOfKey(Files.readAllBytes(TestPeers.pki("leaf-ec.key")));
        assertEquals(pin("leaf-ec"), Pins.ofSpki(spki));
    }

    @Test
    void runtimeNamesTheStack() {
        String rt = Pincurl.runtime();
        assertTrue(rt.contains("wolfssl") || rt.contains("openssl"), rt);
        assertTrue(Pincurl.httpLibrary().startsWith("libcurl/"), Pincurl.httpLibrary());
        assertEquals(Pincurl.version(), Pincurl.bindingVersion());
        assertArrayEquals(new int[] {0x01, 0x20}, new int[] {Pincurl.FEATURE_HTTP2, Pincurl.FEATURE_CA_PATH});
    }
}
