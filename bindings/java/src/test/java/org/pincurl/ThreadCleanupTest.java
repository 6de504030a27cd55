package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** Every thread that made a request runs pincurl_thread_cleanup() when it ends; a thread
 * that made none does not need to. */
class ThreadCleanupTest {
    @Test
    void threadsThatMadeRequestsAreCleanedUpWhenTheyEnd() throws Exception {
        String inter = TestPeers.opensslPin(TestPeers.pki("inter.pem"));
        String root = TestPeers.opensslPin(TestPeers.pki("root.pem"));
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "t");
             Policy p = Policy.fromJson(TestPeers.policyJson("localhost", true, inter, root));
             Client c = Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                 .resolve("localhost", s.port, "127.0.0.1").build())) {
            long before = PincurlNative.jni_thread_cleanups();
            AtomicInteger ok = new AtomicInteger();
            for (int i = 0; i < 5; i++) {
                Thread t = new Thread(() -> {
                    try {
                        if (c.send(Request.get(s.url("/"))).code() == 200) {
                            ok.incrementAndGet();
                        }
                        c.send(Request.get(s.url("/"))); // one mark per thread, not per request
                    } catch (PincurlException e) {
                        throw new AssertionError(e);
                    }
                });
                t.start();
                t.join();
            }
            Thread idle = new Thread(() -> { });
            idle.start();
            idle.join();
            assertEquals(5, ok.get());
            long ran = 0;
            for (int i = 0; i < 200 && ran < 5; i++) { // the hook runs as the thread exits
                ran = PincurlNative.jni_thread_cleanups() - before;
                Thread.sleep(5);
            }
            assertEquals(5, ran, "one cleanup per thread that made requests");
            assertTrue(PincurlNative.jni_thread_cleanups() - before == 5);
        }
    }
}
