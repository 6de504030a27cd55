package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;

import org.junit.jupiter.api.Test;

/** Native lifetimes: close, the Cleaner safety net, the listener's global reference, and
 * memory over many create/close cycles. */
class LifecycleTest {
    private static String policyJson() {
        return TestPeers.policyJson("localhost", true,
            TestPeers.opensslPin(TestPeers.pki("inter.pem")),
            TestPeers.opensslPin(TestPeers.pki("root.pem")));
    }

    private static final class Quiet implements ValidationListener {
        @Override
        public void onEvent(ValidationEvent event) {
        }
    }

    /** Resident set size of this process in KiB. */
    private static long rssKib() throws IOException {
        for (String line : Files.readAllLines(java.nio.file.Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    private static void cycles(String json, Options options, int n) throws PincurlException {
        for (int i = 0; i < n; i++) {
            try (Policy p = Policy.fromJson(json); Client c = Client.create(p, options)) {
                if (c.generation() != 1) {
                    throw new AssertionError("generation " + c.generation());
                }
            }
        }
    }

    @Test
    void tenThousandCreateCloseCyclesDoNotGrowMemory() throws Exception {
        String json = policyJson();
        Options options = Options.builder().caFile(TestPeers.pkiFile("root.pem"))
            .userAgent("pincurl-java-test").resolve("localhost:1:127.0.0.1")
            .listener(ev -> { }).build();
        cycles(json, options, 1000); // warm-up: allocator pools, JIT, class loading
        settle();
        long before = rssKib();
        long t0 = System.nanoTime();
        cycles(json, options, 10_000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        settle();
        long after = rssKib();
        long growth = after - before;
        System.out.println("10000 client+policy cycles: " + ms + " ms, RSS " + before + " KiB -> "
            + after + " KiB (" + growth + " KiB)");
        // A leak of 1 KiB per cycle would be ~10 MiB.
        assertTrue(growth < 4096, "RSS grew by " + growth + " KiB over 10000 cycles");
    }

    @Test
    void closeIsIdempotentAndAClosedClientRefusesUse() throws Exception {
        Policy p = Policy.fromJson(policyJson());
        Client c = Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem")).build());
        p.close(); // the client keeps its own reference
        assertEquals(1, c.generation());
        try (Policy inForce = c.policy()) {
            assertEquals("localhost", inForce.domains().get(0).host());
        }
        c.close();
        c.close();
        assertThrows(IllegalStateException.class, c::generation);
        assertThrows(IllegalStateException.class, () -> c.send(Request.get("https://localhost/")));
    }

    @Test
    void closeReleasesTheListener() throws Exception {
        WeakReference<ValidationListener> ref;
        try (Policy p = Policy.fromJson(policyJson())) {
            ValidationListener l = new Quiet(); // a new object (a lambda may be cached)
            ref = new WeakReference<>(l);
            Client c = Client.create(p, Options.builder().listener(l).build());
            l = null;
            settle();
            assertTrue(ref.get() != null, "the client must hold its listener");
            c.close();
        }
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            settle();
        }
        assertNull(ref.get(), "the listener's global reference was not deleted");
    }

    @Test
    void thePhantomReferenceFreesAnUnclosedClient() throws Exception {
        WeakReference<ValidationListener> listener = makeAndDrop();
        for (int i = 0; i < 100 && listener.get() != null; i++) {
            settle();
        }
        assertNull(listener.get(), "an unreachable client was not freed");
    }

    private static WeakReference<ValidationListener> makeAndDrop() throws PincurlException {
        ValidationListener l = new Quiet();
        Policy p = Policy.fromJson(policyJson());
        Client.create(p, Options.builder().listener(l).build()); // never closed
        return new WeakReference<>(l);
    }

    @Test
    void badOptionsAreRefusedWithTheirStatus() throws Exception {
        try (Policy p = Policy.fromJson(policyJson())) {
            PincurlException e = assertThrows(PincurlException.class,
                () -> Client.create(p, Options.builder().resolve("not a resolve entry").build()));
            assertEquals(Status.INVALID_ARGUMENT, e.status());
            assertThrows(IllegalArgumentException.class,
                () -> Options.builder().userAgent("a\0b").build().apply(null));
        }
    }
}
