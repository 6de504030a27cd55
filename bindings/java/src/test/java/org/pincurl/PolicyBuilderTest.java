package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Date;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Policies made in code: the same rules as documents, and real pinned requests. */
class PolicyBuilderTest {
    private static String pin(String name) {
        return TestPeers.opensslPin(TestPeers.pki(name + ".pem"));
    }

    @Test
    void aBuiltPolicyEqualsItsDocument() throws Exception {
        String a = pin("inter");
        String b = pin("root");
        Date expires = new Date(4102358400000L); // 2099-12-31
        try (Policy built = Policy.builder()
                 .add("**.API.Example.com.", a, b)
                 .exclude("legacy.api.example.com")
                 .reportOnly("beta.example.org", a)
                 .expires(expires, true)
                 .reportUri("https://collector.example.com/r")
                 .build();
             Policy doc = Policy.fromJson("{\"pincurl_policy\": 1, \"expires\": \"2099-12-31\","
                 + " \"on_expiry\": \"block\", \"report_uris\": [\"https://collector.example.com/r\"],"
                 + " \"domains\": {\"api.example.com\": {\"include_subdomains\": true,"
                 + " \"pins\": [\"" + a + "\", \"" + b + "\"]},"
                 + " \"legacy.api.example.com\": {\"exclude\": true},"
                 + " \"beta.example.org\": {\"enforce\": false, \"pins\": [\"" + a + "\"]}}}")) {
            assertEquals(doc.domains().toString(), built.domains().toString());
            assertEquals(doc.expires(), built.expires());
            assertTrue(built.blocksWhenExpired());
            assertEquals(doc.reportUris(), built.reportUris());
            assertEquals("api.example.com", built.lookup("x.api.example.com").host());
            assertTrue(built.lookup("legacy.api.example.com").exclude());
            assertFalse(built.lookup("beta.example.org").enforce());
        }
    }

    @Test
    void theDocumentRulesHoldWithAPath() throws Exception {
        String a = pin("inter");
        PincurlException few = assertThrows(PincurlException.class,
            () -> Policy.builder().add("api.example.com", a).build());
        assertEquals(Status.POLICY_TOO_FEW_PINS, few.status());
        assertEquals("domains[\"api.example.com\"]", few.jsonPath());

        PincurlException bad = assertThrows(PincurlException.class,
            () -> Policy.builder().add("api.example.com", a, "sha256/AAAA").build());
        assertEquals(Status.PIN_BAD_LENGTH, bad.status());
        assertEquals("domains[\"api.example.com\"].pins[1]", bad.jsonPath());

        assertEquals(Status.POLICY_DUPLICATE_PIN, assertThrows(PincurlException.class,
            () -> Policy.builder().add("api.example.com", a, a).build()).status());
        assertEquals(Status.POLICY_PUBLIC_SUFFIX, assertThrows(PincurlException.class,
            () -> Policy.builder().add("**.co.uk", a, pin("root")).build()).status());
        assertEquals(Status.POLICY_EXCLUDE_ORPHAN, assertThrows(PincurlException.class,
            () -> Policy.builder().add("example.com", a, pin("root")).exclude("x.example.com")
                .build()).status());
        assertEquals(Status.POLICY_NO_DOMAINS, assertThrows(PincurlException.class,
            () -> Policy.builder().build()).status());
        assertEquals(Status.POLICY_BAD_URI, assertThrows(PincurlException.class,
            () -> Policy.builder().add("a.example.com", a, pin("root"))
                .reportUri("http://collector.example.com/").build()).status());
        assertThrows(IllegalArgumentException.class,
            () -> Policy.builder().add("*.example.com", a, pin("root")));
    }

    @Test
    void aBuiltPolicyPinsRealConnections() throws Exception {
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "built")) {
            Options o = Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                .resolve("localhost", s.port, "127.0.0.1").build();
            try (Policy p = Policy.builder().add("localhost", pin("inter"), pin("p256")).build();
                 Client c = Client.create(p, o)) {
                Response r = c.send(Request.get(s.url("/")));
                assertEquals(200, r.code());
                assertEquals(pin("inter"), r.verdict().matchedPin());
            }
            long sent = s.requestBytes();
            try (Policy p = Policy.builder().add("localhost", pin("p256"), pin("p384")).build();
                 Client c = Client.create(p, o)) {
                PincurlException e = assertThrows(PincurlException.class,
                    () -> c.send(Request.get(s.url("/"))));
                assertEquals(Status.PIN_MISMATCH, e.status());
                assertEquals(List.of(pin("leaf-ec"), pin("inter"), pin("root")),
                             e.verdict().pathPins());
                assertEquals(sent, s.requestBytes(), "a request byte reached the server");
            }
        }
    }
}
