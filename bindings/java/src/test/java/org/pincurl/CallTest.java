package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Calls: execute, enqueue, cancel and close() against tls_server.py on loopback, whose
 * /hang route never answers. */
class CallTest {
    private static TestPeers.TlsServer server;
    private static String json;

    @BeforeAll
    static void start() throws Exception {
        server = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "calls");
        json = TestPeers.policyJson("localhost", true,
            TestPeers.opensslPin(TestPeers.pki("inter.pem")),
            TestPeers.opensslPin(TestPeers.pki("root.pem")));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Client client() throws PincurlException {
        try (Policy p = Policy.fromJson(json)) {
            return Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                .connectTimeout(5, TimeUnit.SECONDS).timeout(30, TimeUnit.SECONDS)
                .resolve("localhost", server.port, "127.0.0.1").build());
        }
    }

    /** Lines of the server's log with the given event ("accept", "recv", "close"). */
    private static int logged(String event) throws IOException {
        int n = 0;
        for (String line : Files.readAllLines(server.log)) {
            String[] f = line.split(" ");
            if (f.length >= 3 && f[0].equals("conn") && f[2].equals(event)) {
                n++;
            }
        }
        return n;
    }

    /** Waits until the server has received requests on `count` more connections than
     * `before` (the requests are then in flight, waiting for an answer). */
    private static void awaitRequests(int before, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Set<String> conns = new HashSet<String>();
            for (String line : Files.readAllLines(server.log)) {
                String[] f = line.split(" ");
                if (f.length >= 3 && f[0].equals("conn") && f[2].equals("recv")) {
                    conns.add(f[1]);
                }
            }
            if (conns.size() >= before + count) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the server did not receive " + count + " request(s)");
    }

    private static int connectionsWithRequests() throws IOException {
        Set<String> conns = new HashSet<String>();
        for (String line : Files.readAllLines(server.log)) {
            String[] f = line.split(" ");
            if (f.length >= 3 && f[0].equals("conn") && f[2].equals("recv")) {
                conns.add(f[1]);
            }
        }
        return conns.size();
    }

    /** execute() of call on a thread of its own; records the outcome and when it came. */
    private static final class Executing {
        final Thread thread;
        final AtomicReference<Object> outcome = new AtomicReference<Object>();
        final AtomicLong endedNanos = new AtomicLong();

        Executing(final Call call) {
            thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    try {
                        outcome.set(call.execute());
                    } catch (Throwable t) {
                        outcome.set(t);
                    }
                    endedNanos.set(System.nanoTime());
                }
            }, "executing");
            thread.start();
        }

        PincurlException failure() throws InterruptedException {
            thread.join(10_000);
            assertFalse(thread.isAlive(), "execute() did not return");
            Object o = outcome.get();
            assertTrue(o instanceof PincurlException, "execute() gave " + o);
            return (PincurlException) o;
        }
    }

    @Test
    void cancelDuringARequestThatNeverAnswersEndsItWithCancelledAtOnce() throws Exception {
        try (Client c = client()) {
            int before = connectionsWithRequests();
            Call call = c.newCall(Request.get(server.url("/hang")));
            assertFalse(call.isCanceled());
            Executing run = new Executing(call);
            awaitRequests(before, 1);
            Thread.sleep(100); // well inside the wait for an answer
            long t0 = System.nanoTime();
            call.cancel();
            PincurlException e = run.failure();
            long ms = (run.endedNanos.get() - t0) / 1_000_000;
            System.out.println("cancel to CANCELLED: " + ms + " ms");
            assertEquals(Status.CANCELLED, e.status(), e.getMessage());
            assertTrue(e.detail().contains("localhost"), e.detail());
            assertNotNull(e.response());
            assertEquals(0, e.response().code());
            assertTrue(ms < 200, "cancel took " + ms + " ms");
            assertTrue(call.isCanceled());
            assertTrue(call.isExecuted());
            assertThrows(IllegalStateException.class, call::execute);

            // the client goes on, on a new connection
            Response r = c.send(Request.get(server.url("/")));
            assertEquals(200, r.code());
            assertEquals("hello from calls", new String(r.body(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void closeDuringRequestsThatNeverAnswerCancelsThemAndReturnsAtOnce() throws Exception {
        Client c = client();
        int before = connectionsWithRequests();
        Call blocking = c.newCall(Request.get(server.url("/hang")));
        Executing run = new Executing(blocking);
        Call queued = c.newCall(Request.get(server.url("/hang")));
        final AtomicReference<Object> got = new AtomicReference<Object>();
        final AtomicLong gotNanos = new AtomicLong();
        final CountDownLatch done = new CountDownLatch(1);
        queued.enqueue(new Callback() {
            @Override
            public void onResponse(Call call, Response response) {
                got.set(response);
                gotNanos.set(System.nanoTime());
                done.countDown();
            }

            @Override
            public void onFailure(Call call, PincurlException e) {
                got.set(e);
                gotNanos.set(System.nanoTime());
                done.countDown();
            }
        });
        // send() is a call too: close() cancels it as well
        final AtomicReference<Object> sent = new AtomicReference<Object>();
        Thread sender = new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    sent.set(c.send(Request.get(server.url("/hang"))));
                } catch (Throwable t) {
                    sent.set(t);
                }
            }
        });
        sender.start();
        awaitRequests(before, 3);
        Thread.sleep(100);
        long t0 = System.nanoTime();
        c.close();
        long closeMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("close() with three requests in flight: " + closeMs + " ms");
        assertTrue(closeMs < 200, "close() took " + closeMs + " ms");
        assertTrue(c.isClosed());

        PincurlException e = run.failure();
        assertEquals(Status.CANCELLED, e.status(), e.getMessage());
        assertTrue((run.endedNanos.get() - t0) / 1_000_000 < 200);
        assertTrue(blocking.isCanceled());

        assertTrue(done.await(10, TimeUnit.SECONDS), "the enqueued call's callback never ran");
        assertTrue(got.get() instanceof PincurlException, "callback got " + got.get());
        assertEquals(Status.CANCELLED, ((PincurlException) got.get()).status());
        assertTrue((gotNanos.get() - t0) / 1_000_000 < 200);
        assertTrue(queued.isCanceled());

        sender.join(10_000);
        assertTrue(sent.get() instanceof PincurlException, "send gave " + sent.get());
        assertEquals(Status.CANCELLED, ((PincurlException) sent.get()).status());

        // a closed client makes no more calls
        assertThrows(IllegalStateException.class,
                     () -> c.newCall(Request.get(server.url("/"))).execute());
        assertThrows(IllegalStateException.class,
                     () -> c.newCall(Request.get(server.url("/"))).enqueue(new Recorder()));
    }

    @Test
    void aCallCancelledBeforeItRunsNeverConnects() throws Exception {
        try (Client c = client()) {
            int accepted = logged("accept");
            Call call = c.newCall(Request.get(server.url("/")));
            call.cancel();
            call.cancel(); // any number of times
            assertTrue(call.isCanceled());
            PincurlException e = assertThrows(PincurlException.class, call::execute);
            assertEquals(Status.CANCELLED, e.status());

            Call queued = c.newCall(Request.builder(server.url("/echo")).method("POST")
                .body("must not be sent".getBytes(StandardCharsets.UTF_8)).build());
            queued.cancel();
            Recorder rec = new Recorder();
            queued.enqueue(rec);
            assertTrue(rec.done.await(10, TimeUnit.SECONDS));
            assertNull(rec.response.get());
            assertEquals(Status.CANCELLED, rec.failure.get().status());

            Thread.sleep(200); // a connection, had one been made, would be logged by now
            assertEquals(accepted, logged("accept"), "a cancelled call connected");

            // a call cancelled after it ended is left as it is
            Call ok = c.newCall(Request.get(server.url("/")));
            Response r = ok.execute();
            ok.cancel();
            assertEquals(200, r.code());
        }
    }

    /** Records what a callback receives and on which thread. */
    private static final class Recorder implements Callback {
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicReference<Response> response = new AtomicReference<Response>();
        final AtomicReference<PincurlException> failure = new AtomicReference<PincurlException>();
        final AtomicReference<String> thread = new AtomicReference<String>();

        @Override
        public void onResponse(Call call, Response r) {
            thread.set(Thread.currentThread().getName());
            response.set(r);
            done.countDown();
        }

        @Override
        public void onFailure(Call call, PincurlException e) {
            thread.set(Thread.currentThread().getName());
            failure.set(e);
            done.countDown();
        }
    }

    @Test
    void enqueuedCallsReceiveTheirResponsesOnTheBoundedExecutor() throws Exception {
        try (Client c = client()) {
            Recorder one = new Recorder();
            Call call = c.newCall(Request.get(server.url("/")));
            call.enqueue(one);
            assertThrows(IllegalStateException.class, () -> call.enqueue(new Recorder()));
            assertTrue(one.done.await(10, TimeUnit.SECONDS), "no callback");
            assertNull(one.failure.get());
            assertEquals(200, one.response.get().code());
            assertEquals("hello from calls",
                         new String(one.response.get().body(), StandardCharsets.UTF_8));
            assertTrue(one.thread.get().startsWith("pincurl-call-"), one.thread.get());
            assertFalse(call.isCanceled());

            // more calls than the executor has threads: all answered, on at most its threads
            Recorder[] many = new Recorder[3 * Client.CALL_THREADS];
            for (int i = 0; i < many.length; i++) {
                many[i] = new Recorder();
                c.newCall(Request.get(server.url("/bytes?n=" + (1000 + i)))).enqueue(many[i]);
            }
            Set<String> threads = new HashSet<String>();
            for (int i = 0; i < many.length; i++) {
                assertTrue(many[i].done.await(20, TimeUnit.SECONDS), "no callback for " + i);
                assertNull(many[i].failure.get());
                assertEquals(1000 + i, many[i].response.get().body().length);
                threads.add(many[i].thread.get());
            }
            assertTrue(threads.size() <= Client.CALL_THREADS, "threads: " + threads);

            // a failure reaches onFailure
            Recorder refused = new Recorder();
            c.newCall(Request.get("https://localhost:1/")).enqueue(refused);
            assertTrue(refused.done.await(10, TimeUnit.SECONDS));
            assertNotNull(refused.failure.get());
            assertEquals(Status.CONNECT, refused.failure.get().status(),
                         refused.failure.get().getMessage());
        }
    }
}
