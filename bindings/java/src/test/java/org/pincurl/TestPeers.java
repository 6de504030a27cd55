package org.pincurl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real peers of the tests: the loopback HTTPS server tests/servers/tls_server.py and
 * mitmproxy, each a child process stopped by its PID; the test PKI ($PINCURL_TEST_PKI) and
 * pins computed by openssl.
 */
final class TestPeers {
    private TestPeers() {
    }

    static Path pki(String name) {
        String dir = System.getenv("PINCURL_TEST_PKI");
        if (dir == null || dir.isEmpty()) {
            throw new IllegalStateException("PINCURL_TEST_PKI is not set");
        }
        return Path.of(dir, name);
    }

    /** A file of the test PKI, as java.io.File (the binding's API type). */
    static java.io.File pkiFile(String name) {
        return pki(name).toFile();
    }

    static Path sourceDir() {
        String dir = System.getenv("PINCURL_SOURCE_DIR");
        if (dir == null || dir.isEmpty()) {
            throw new IllegalStateException("PINCURL_SOURCE_DIR is not set");
        }
        return Path.of(dir);
    }

    static String python() {
        String py = System.getenv("PINCURL_PYTHON");
        return py != null && !py.isEmpty() ? py : "python3";
    }

    /** The pin of a PEM certificate as the openssl pipeline users run computes it. */
    static String opensslPin(Path cert) {
        String script = "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der"
            + " | openssl dgst -sha256 -binary | base64";
        String out = run(List.of("bash", "-c", script, "pin", cert.toString())).trim();
        if (out.length() != 44) {
            throw new IllegalStateException("openssl gave no pin for " + cert + ": " + out);
        }
        return "sha256/" + out;
    }

    static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + ": " + command);
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A policy document with one domain: enforcing (two pins or more) or report-only. */
    static String policyJson(String host, boolean enforce, String... pins) {
        StringBuilder b = new StringBuilder();
        for (String pin : pins) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append('"').append(pin).append('"');
        }
        return "{\n  \"pincurl_policy\": 1,\n  \"expires\": \"2099-12-31\",\n"
            + "  \"on_expiry\": \"block\",\n  \"domains\": {\n    \"" + host + "\": { \"enforce\": "
            + enforce + ", \"pins\": [" + b + "] }\n  }\n}\n";
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    static boolean canConnect(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy(); // SIGTERM to that PID
        try {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** tls_server.py on 127.0.0.1 serving a chain of the test PKI. */
    static final class TlsServer implements AutoCloseable {
        final Process process;
        final int port;
        final Path dir;
        final Path log;

        TlsServer(String chain, String key, String name) throws IOException, InterruptedException {
            dir = Files.createTempDirectory("pincurl-java-server");
            log = dir.resolve("server.log");
            Path portFile = dir.resolve("port");
            List<String> cmd = new ArrayList<>(List.of(python(),
                sourceDir().resolve("tests/servers/tls_server.py").toString(),
                "--cert", pki(chain).toString(), "--key", pki(key).toString(),
                "--port", "0", "--port-file", portFile.toString(), "--log", log.toString(),
                "--name", name, "--parent-pid", Long.toString(ProcessHandle.current().pid()),
                "--lifetime", "3600")); // the full stress run takes 10 min
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.out").toFile()).start();
            int p = 0;
            for (int i = 0; i < 1000 && p == 0; i++) {
                if (Files.exists(portFile)) {
                    String text = Files.readString(portFile).trim();
                    if (!text.isEmpty()) {
                        p = Integer.parseInt(text);
                    }
                }
                if (p == 0) {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("tls_server.py exited: "
                            + Files.readString(dir.resolve("server.out")));
                    }
                    Thread.sleep(10);
                }
            }
            if (p == 0) {
                stop(process);
                throw new IllegalStateException("tls_server.py did not listen within 10 s");
            }
            port = p;
        }

        String url(String path) {
            return "https://localhost:" + port + path;
        }

        /** Decrypted request bytes the server has received, over all its connections. */
        long requestBytes() throws IOException {
            long total = 0;
            for (String line : Files.readAllLines(log)) {
                String[] f = line.split(" ");
                if (f.length >= 4 && f[0].equals("conn") && f[2].equals("recv")) {
                    total += Long.parseLong(f[3]);
                }
            }
            return total;
        }

        @Override
        public void close() {
            stop(process);
            deleteTree(dir);
        }
    }

    /** mitmdump on 127.0.0.1, verifying upstream servers against a CA of the test PKI. */
    static final class Mitm implements AutoCloseable {
        final Process process;
        final int port;
        final Path confdir;
        final Path caPem;

        static boolean available() {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "mitmdump"))) {
                    return true;
                }
            }
            return false;
        }

        Mitm(String upstreamCa) throws IOException, InterruptedException {
            confdir = Files.createTempDirectory("pincurl-java-mitm");
            caPem = confdir.resolve("mitmproxy-ca-cert.pem");
            port = freePort();
            process = new ProcessBuilder("mitmdump", "--listen-host", "127.0.0.1",
                "--listen-port", Integer.toString(port), "--set", "confdir=" + confdir,
                "--set", "ssl_verify_upstream_trusted_ca=" + pki(upstreamCa))
                .redirectErrorStream(true).redirectOutput(confdir.resolve("mitmdump.out").toFile())
                .start();
            for (int i = 0; i < 3000; i++) { // 30 s: the first start makes its CA
                if (Files.isReadable(caPem) && canConnect(port)) {
                    return;
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("mitmdump exited: "
                        + Files.readString(confdir.resolve("mitmdump.out")));
                }
                Thread.sleep(10);
            }
            stop(process);
            throw new IllegalStateException("mitmdump did not listen within 30 s");
        }

        String proxyUrl() {
            return "http://127.0.0.1:" + port;
        }

        @Override
        public void close() {
            stop(process);
            deleteTree(confdir);
        }
    }
}
