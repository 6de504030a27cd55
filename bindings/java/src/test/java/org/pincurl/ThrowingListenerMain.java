package org.pincurl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A process whose default uncaught-exception handler ends it at once (as Android's does),
 * with a listener that throws on every event: on the requesting thread (VALIDATION,
 * REPORT_QUEUED) and on the client's native sender thread (REPORT_SENT). The process must
 * survive, every throw must be logged by the default error handler, and the requests
 * must have their normal outcomes. Exit status 0 only then; 99 if the handler ran.
 *
 *   java -Xcheck:jni -cp pincurl.jar:test-classes org.pincurl.ThrowingListenerMain
 */
public final class ThrowingListenerMain {
    private ThrowingListenerMain() {
    }

    public static void main(String[] args) throws Exception {
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            System.err.println("uncaught on " + t.getName() + ": " + e);
            Runtime.getRuntime().halt(99);
        });
        List<LogRecord> logged = Collections.synchronizedList(new ArrayList<LogRecord>());
        Logger.getLogger("org.pincurl").addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        List<String> threads = Collections.synchronizedList(new ArrayList<String>());
        String foreign = TestPeers.opensslPin(TestPeers.pki("p256.pem"));
        Path spool = Files.createTempDirectory("pincurl-java-throwing");
        try (TestPeers.TlsServer s = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "t");
             TestPeers.TlsServer collector = new TestPeers.TlsServer("leaf-ec-chain.pem", "leaf-ec.key", "c")) {
            // Report-only: the mismatch is let through and reported.
            String json = "{\"pincurl_policy\": 1, \"report_uris\": [\"https://127.0.0.1:"
                + collector.port + "/echo\"], \"domains\": {\"localhost\": {\"enforce\": false,"
                + " \"pins\": [\"" + foreign + "\"]}}}";
            try (Policy p = Policy.fromJson(json);
                 Client c = Client.create(p, Options.builder().caFile(TestPeers.pkiFile("root.pem"))
                     .resolve("localhost", s.port, "127.0.0.1").spoolDir(spool.resolve("r").toFile())
                     .listener(ev -> {
                         threads.add(ev.kind() + "@" + Thread.currentThread().getName());
                         throw new IllegalStateException("listener bug on " + ev.kind());
                     }).build())) {
                for (int i = 0; i < 3; i++) {
                    int code = c.send(Request.get(s.url("/"))).code();
                    if (code != 200) {
                        throw new AssertionError("HTTP " + code);
                    }
                }
                if (!c.flushReports(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("the report was not delivered");
                }
                for (int i = 0; i < 1000 && !contains(threads, "REPORT_SENT@pincurl-native"); i++) {
                    Thread.sleep(10);
                }
            }
        } finally {
            TestPeers.deleteTree(spool);
        }
        System.out.println("events: " + threads);
        if (!contains(threads, "VALIDATION@main") || !contains(threads, "REPORT_SENT@pincurl-native")) {
            throw new AssertionError("the listener did not run on both threads: " + threads);
        }
        if (logged.size() != threads.size()) {
            throw new AssertionError(threads.size() + " throws but " + logged.size() + " log records");
        }
        System.out.println("survived " + threads.size() + " throwing callbacks, each logged");
    }

    private static boolean contains(List<String> l, String s) {
        synchronized (l) {
            return l.contains(s);
        }
    }
}
