package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.junit.jupiter.api.Test;

class PolicyTest {
    private static String pin(String name) {
        return TestPeers.opensslPin(TestPeers.pki(name + ".pem"));
    }

    @Test
    void documentIsReadBack() throws Exception {
        String a = pin("inter");
        String b = pin("root");
        String json = "{\"pincurl_policy\": 1, \"expires\": \"2099-12-31\", \"on_expiry\": \"block\","
            + " \"report_uris\": [\"https://collector.example.com/r\"],"
            + " \"domains\": {\"API.Example.com.\": {\"include_subdomains\": true, \"enforce\": true,"
            + " \"pins\": [\"" + a + "\", \"" + b + "\"]},"
            + " \"legacy.api.example.com\": {\"exclude\": true}}}";
        try (Policy p = Policy.fromJson(json)) {
            assertEquals(Date.from(Instant.parse("2099-12-31T00:00:00Z")), p.expires());
            assertTrue(p.blocksWhenExpired());
            assertEquals(List.of("https://collector.example.com/r"), p.reportUris());
            List<Policy.Domain> ds = p.domains();
            assertEquals(2, ds.size());
            assertEquals("api.example.com", ds.get(0).host());
            assertTrue(ds.get(0).enforce());
            assertTrue(ds.get(0).includeSubdomains());
            assertEquals(List.of(a, b), ds.get(0).pins());
            assertTrue(ds.get(1).exclude());
            assertEquals("api.example.com", p.lookup("x.y.API.example.com").host());
            assertTrue(p.lookup("legacy.api.example.com").exclude());
            assertNull(p.lookup("example.com"));
        }
    }

    @Test
    void exclusionsSayTheirReachAndSinglePinsAreExplicit() throws Exception {
        String a = pin("inter");
        String b = pin("root");
        String json = "{\"pincurl_policy\": 1, \"domains\": {"
            + "\"example.com\": {\"include_subdomains\": true, \"pins\": [\"" + a + "\", \"" + b
            + "\"]}, \"host.example.com\": {\"exclude\": true, \"include_subdomains\": false},"
            + " \"tree.example.com\": {\"exclude\": true},"
            + " \"one.example.org\": {\"allow_single_pin\": true, \"pins\": [\"" + a + "\"]}}}";
        try (Policy p = Policy.fromJson(json)) {
            Policy.Domain host = p.lookup("host.example.com");
            assertTrue(host.exclude());
            assertFalse(host.excludesSubdomains());
            assertEquals("example.com", p.lookup("x.host.example.com").host());
            assertTrue(p.lookup("tree.example.com").excludesSubdomains());
            assertEquals("tree.example.com", p.lookup("x.tree.example.com").host());
            Policy.Domain one = p.lookup("one.example.org");
            assertTrue(one.allowsSinglePin());
            assertEquals(List.of(a), one.pins());
            assertFalse(p.lookup("example.com").allowsSinglePin());
        }
    }

    @Test
    void refusalNamesTheJsonPath() {
        String json = TestPeers.policyJson("a.example.com", true, pin("inter"), "sha256/AAAA");
        PincurlException e = assertThrows(PincurlException.class, () -> Policy.fromJson(json));
        assertEquals(Status.PIN_BAD_LENGTH, e.status());
        assertEquals("domains[\"a.example.com\"].pins[1]", e.jsonPath());
        assertTrue(e.detail().startsWith("domains[\"a.example.com\"].pins[1]: "), e.detail());

        PincurlException few = assertThrows(PincurlException.class,
            () -> Policy.fromJson(TestPeers.policyJson("a.example.com", true, pin("inter"))));
        assertEquals(Status.POLICY_TOO_FEW_PINS, few.status());

        PincurlException syntax = assertThrows(PincurlException.class,
            () -> Policy.fromJson("{\n  \"pincurl_policy\": 1,\n  oops\n}"));
        assertEquals(Status.POLICY_SYNTAX, syntax.status());
        assertEquals(3, syntax.line());
        assertTrue(syntax.column() > 0);
    }

    @Test
    void fileIsLoadedAndMissingFileIsIo() throws Exception {
        Path dir = Files.createTempDirectory("pincurl-java-policy");
        try {
            Path f = dir.resolve("policy.json");
            Files.writeString(f, TestPeers.policyJson("localhost", true, pin("inter"), pin("root")));
            try (Policy p = Policy.fromFile(f.toFile())) {
                assertEquals("localhost", p.domains().get(0).host());
            }
            PincurlException e = assertThrows(PincurlException.class,
                () -> Policy.fromFile(dir.resolve("missing.json").toFile()));
            assertEquals(Status.IO, e.status());
            assertTrue(e.getMessage().contains("missing.json"), e.getMessage());
        } finally {
            TestPeers.deleteTree(dir);
        }
    }

    @Test
    void closedPolicyRefusesUse() throws Exception {
        Policy p = Policy.fromJson(TestPeers.policyJson("localhost", true, pin("inter"), pin("root")));
        p.close();
        p.close();
        assertThrows(IllegalStateException.class, p::domains);
    }
}
