package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * What a callback may do to its own client: close, send and setPolicy from the listener are
 * refused with IllegalStateException, on the requesting thread and on the client's native
 * sender thread (closing there used to free the callback record under the running
 * callback: a SIGSEGV). Runs under -Xcheck:jni like every binding test.
 */
class CallbackTest {
    private static String pin(String name) {
        return TestPeers.opensslPin(TestPeers.pki(name + ".pem"));
    }

    /** Runs op inside the listener, for events of kind, and keeps what it threw. */
    static final class Reentrant implements ValidationListener {
        final EventKind kind;
        final AtomicReference<Client> client = new AtomicReference<Client>();
        final List<Throwable> thrown = Collections.synchronizedList(new ArrayList<Throwable>());
        final List<Thread> threads = Collections.synchronizedList(new ArrayList<Thread>());
        final ThrowingOp op;

        interface ThrowingOp {
            void run(Client c) throws Exception;
        }

        Reentrant(EventKind kind, ThrowingOp op) {
            this.kind = kind;
            this.op = op;
        }

        @Override
        public void onEvent(ValidationEvent event) {
            Client c = client.get();
            if (event.kind() != kind || c == null) {
                return;
            }
            threads.add(Thread.currentThread());
            try {
                op.run(c);
                thrown.add(null);
            } catch (Throwable t) {
                thrown.add(t);
            }
        }
    }

    @Test
    void closeSendAndSetPolicyFromTheListenerAreRefused() throws Exception {
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "cb")) {
            List<Reentrant.ThrowingOp> ops = new ArrayList<Reentrant.ThrowingOp>();
            ops.add(Client::close);
            ops.add(c -> c.send(Request.get(s.url("/"))));
            ops.add(c -> {
                try (Policy p = Policy.fromJson(TestPeers.policyJson("localhost", true,
                                                                     pin("inter"), pin("root")))) {
                    c.setPolicy(p);
                }
            });
            ops.add(c -> c.flushReports(1, TimeUnit.SECONDS));
            for (Reentrant.ThrowingOp op : ops) {
                Reentrant l = new Reentrant(EventKind.VALIDATION, op);
                try (Policy p = Policy.fromJson(TestPeers.policyJson("localhost", true,
                                                                     pin("inter"), pin("root")));
                     Client c = Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                         .resolve("localhost", s.port, "127.0.0.1").listener(l).build())) {
                    l.client.set(c);
                    assertEquals(200, c.send(Request.get(s.url("/"))).code());
                    assertEquals(1, l.thrown.size());
                    assertTrue(l.thrown.get(0) instanceof IllegalStateException,
                               String.valueOf(l.thrown.get(0)));
                    assertEquals(Thread.currentThread(), l.threads.get(0));
                    assertFalse(c.isClosed());
                    assertEquals(1, c.generation());
                    assertEquals(200, c.send(Request.get(s.url("/"))).code()); // still usable
                }
            }
        }
    }

    @Test
    void closeFromTheSenderThreadIsRefusedAndTheClientClosesLater() throws Exception {
        String foreignA = pin("p256");
        String foreignB = pin("p384");
        Path spool = Files.createTempDirectory("pincurl-java-cb-spool");
        Reentrant l = new Reentrant(EventKind.REPORT_SENT, Client::close);
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "site");
             TestPeers.TlsServer collector = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "collector")) {
            String json = "{\"pincurl_policy\": 1, \"report_uris\": [\"https://127.0.0.1:"
                + collector.port + "/echo\"], \"domains\": {\"localhost\": {\"pins\": [\""
                + foreignA + "\", \"" + foreignB + "\"]}}}";
            Client c;
            try (Policy p = Policy.fromJson(json)) {
                c = Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                    .resolve("localhost", s.port, "127.0.0.1").spoolDir(spool.resolve("r").toFile())
                    .listener(l).build());
            }
            l.client.set(c);
            assertEquals(Status.PIN_MISMATCH, assertThrows(PincurlException.class,
                () -> c.send(Request.get(s.url("/")))).status());
            assertTrue(c.flushReports(30, TimeUnit.SECONDS));
            for (int i = 0; i < 1000 && l.thrown.isEmpty(); i++) {
                Thread.sleep(10); // REPORT_SENT follows the spool emptying
            }
            assertEquals(1, l.thrown.size(), "REPORT_SENT did not arrive");
            assertTrue(l.thrown.get(0) instanceof IllegalStateException, String.valueOf(l.thrown.get(0)));
            assertEquals("pincurl-native", l.threads.get(0).getName());
            assertFalse(c.isClosed());
            c.close(); // from the application's thread: waits for the sender, then frees
            assertTrue(c.isClosed());
            assertThrows(IllegalStateException.class, c::generation);
        } finally {
            TestPeers.deleteTree(spool);
        }
    }

    @Test
    void anotherClientMayBeClosedFromAListener() throws Exception {
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "cb");
             Policy p = Policy.fromJson(TestPeers.policyJson("localhost", true, pin("inter"), pin("root")))) {
            Client other = Client.create(p);
            Reentrant l = new Reentrant(EventKind.VALIDATION, c -> other.close());
            try (Client c = Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                     .resolve("localhost", s.port, "127.0.0.1").listener(l).build())) {
                l.client.set(c);
                assertEquals(200, c.send(Request.get(s.url("/"))).code());
            }
            assertNull(l.thrown.get(0));
            assertTrue(other.isClosed());
        }
    }
}
