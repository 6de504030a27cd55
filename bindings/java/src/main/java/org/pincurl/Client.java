package org.pincurl;

import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * A pinning HTTPS client: a policy, options and a connection pool. Thread-safe: any
 * number of threads may {@link #send(Request)} at once, also while {@link #setPolicy}
 * runs. The pin decision is made inside the TLS handshake: a refused connection is aborted
 * before a single request byte is sent.
 *
 * <p>Close it when done: {@link #close()} waits for the requests running on it, then frees
 * the native client and releases the listener. A client that is never closed is freed by a
 * {@link java.lang.ref.Cleaner} once unreachable, but a listener that refers to its own
 * client keeps the client reachable: close such clients explicitly.
 */
public final class Client implements AutoCloseable {
    private final Handle<SWIGTYPE_p_pincurl_client> handle;
    /** Open updaters of this client (weakly: an unreachable updater is freed by its own
     * Cleaner, which keeps this client alive until then). Guarded by itself. */
    private final Set<Updater> updaters = Collections.newSetFromMap(new WeakHashMap<>());
    private boolean closing;

    private Client(SWIGTYPE_p_pincurl_client pointer, long listener) {
        this.handle = new Handle<>(this, pointer, new Free(pointer, listener));
    }

    /** Frees the native client, then the listener's global reference (no callback can
     * run after the client is freed). Must not capture the Client. */
    private static final class Free implements Runnable {
        private final SWIGTYPE_p_pincurl_client pointer;
        private final long listener;

        Free(SWIGTYPE_p_pincurl_client pointer, long listener) {
            this.pointer = pointer;
            this.listener = listener;
        }

        @Override
        public void run() {
            PincurlNative.pincurl_client_free(pointer);
            PincurlNative.jni_callback_free(listener);
        }
    }

    /** A client with default options. */
    public static Client create(Policy policy) throws PincurlException {
        return create(policy, Options.defaults());
    }

    /**
     * A client deciding with policy (the client takes its own reference; the policy may be
     * closed afterwards). Statuses: INVALID_ARGUMENT (an option was refused),
     * OUT_OF_MEMORY, BACKEND_UNSUPPORTED, INTERNAL.
     */
    public static Client create(Policy policy, Options options) throws PincurlException {
        if (policy == null || options == null) {
            throw new NullPointerException("policy and options are required");
        }
        SWIGTYPE_p_pincurl_options o = PincurlNative.pincurl_options_new();
        if (o == null) {
            throw PincurlException.of(Status.OUT_OF_MEMORY.number(), "options");
        }
        long listener = 0;
        boolean handedOver = false;
        try {
            options.apply(o);
            if (options.listener() != null) {
                listener = PincurlNative.jni_listener_new(new EventDispatcher(options.listener()));
                PincurlException.check(PincurlNative.jni_options_set_listener(o, listener),
                                       "listener");
            }
            SWIGTYPE_p_pincurl_client[] out = new SWIGTYPE_p_pincurl_client[1];
            int st;
            SWIGTYPE_p_pincurl_policy p = policy.acquire();
            try {
                st = PincurlNative.pincurl_client_new(p, o, out);
            } finally {
                policy.release();
            }
            if (st != Status.OK.number() || out[0] == null) {
                if (out[0] != null) {
                    PincurlNative.pincurl_client_free(out[0]);
                }
                throw PincurlException.of(st != Status.OK.number() ? st
                                          : Status.INTERNAL.number(), "client");
            }
            Client client = new Client(out[0], listener);
            handedOver = true;
            return client;
        } finally {
            PincurlNative.pincurl_options_free(o);
            if (!handedOver) {
                PincurlNative.jni_callback_free(listener);
            }
        }
    }

    /**
     * Performs request, blocking. Returns the response when an HTTP answer arrived (whatever
     * its code); throws {@link PincurlException} otherwise, carrying the status, the
     * failure detail and the response with its verdict. Thread-safe.
     */
    public Response send(Request request) throws PincurlException {
        if (request == null) {
            throw new NullPointerException("request");
        }
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        SWIGTYPE_p_pincurl_request r = null;
        long source = 0;
        long sink = 0;
        BodySource bodySource = null;
        BodySink bodySink = null;
        try {
            r = PincurlNative.pincurl_request_new(request.method(), request.url());
            if (r == null) {
                throw PincurlException.of(Status.OUT_OF_MEMORY.number(), "request");
            }
            for (String line : request.headers()) {
                PincurlException.check(PincurlNative.pincurl_request_add_header(r, line),
                                       "header " + line);
            }
            if (request.body() != null) {
                PincurlException.check(PincurlNative.pincurl_request_set_body(r, request.body()),
                                       "body");
            } else if (request.bodyStream() != null) {
                bodySource = new BodySource(request.bodyStream());
                source = PincurlNative.jni_source_new(bodySource);
                PincurlException.check(
                    PincurlNative.jni_request_set_source(r, source, request.bodyLength()), "body");
            }
            if (request.sink() != null) {
                bodySink = new BodySink(request.sink());
                sink = PincurlNative.jni_sink_new(bodySink);
                PincurlException.check(PincurlNative.jni_request_set_sink(r, sink), "sink");
            }
            SWIGTYPE_p_pincurl_response[] out = new SWIGTYPE_p_pincurl_response[1];
            int st = PincurlNative.pincurl_client_perform(c, r, out);
            Response response = null;
            if (out[0] != null) {
                try {
                    response = Response.copy(out[0]);
                } finally {
                    PincurlNative.pincurl_response_free(out[0]);
                }
            }
            if (st == Status.OK.number() && response != null) {
                return response;
            }
            if (st == Status.OK.number()) {
                st = Status.OUT_OF_MEMORY.number();
            }
            Throwable cause = null;
            if (bodySource != null && bodySource.failure() != null) {
                cause = bodySource.failure();
            } else if (bodySink != null && bodySink.failure() != null) {
                cause = bodySink.failure();
            }
            String detail = response != null ? response.detail() : "";
            String message = request.method() + " " + request.url() + ": "
                + PincurlException.describe(st) + (detail.isEmpty() ? "" : "\n" + detail);
            throw new PincurlException(st, message, detail, response, null, 0, 0, cause);
        } finally {
            if (r != null) {
                PincurlNative.pincurl_request_free(r);
            }
            PincurlNative.jni_callback_free(source);
            PincurlNative.jni_callback_free(sink);
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Puts policy in force as a new generation: requests that start afterwards decide with
     * it; a TLS session or pooled connection verified under an older generation is never
     * reused. Thread-safe, also while requests run. Returns the new generation.
     */
    public long setPolicy(Policy policy) throws PincurlException {
        if (policy == null) {
            throw new NullPointerException("policy");
        }
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            SWIGTYPE_p_pincurl_policy p = policy.acquire();
            try {
                PincurlException.check(PincurlNative.pincurl_client_set_policy(c, p),
                                       "set policy");
            } finally {
                policy.release();
            }
            return PincurlNative.pincurl_client_generation(c);
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /** The generation in force: 1 for the first policy, plus one per setPolicy. */
    public long generation() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_generation(c);
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /** The policy in force now, as a new Policy object (the caller closes it). */
    public Policy policy() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            SWIGTYPE_p_pincurl_policy p = PincurlNative.pincurl_client_policy(c);
            if (p == null) {
                throw new OutOfMemoryError("pincurl_client_policy");
            }
            return Policy.adopt(p);
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Waits until the failure report spool is empty or timeout passed. True when it is
     * empty; false when reports remain (they stay in the spool for later). Thread-safe.
     */
    public boolean flushReports(Duration timeout) throws PincurlException {
        long ms = timeout.toMillis();
        if (ms < 0 || ms > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("timeout out of range: " + timeout);
        }
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            int st = PincurlNative.pincurl_client_flush_reports(c, ms);
            if (st == Status.TIMEOUT.number()) {
                return false;
            }
            PincurlException.check(st, "flush reports");
            return true;
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /** Reports dropped so far because the spool was full. */
    public long reportsDropped() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_reports_dropped(c);
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /** Reports not written because an identical one was spooled within 24 hours. */
    public long reportsSuppressed() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_reports_suppressed(c);
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /** The TLS backend pin decisions run on ("wolfssl", ...). */
    public String tlsBackend() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_tls_backend(c);
        } finally {
            handle.release();
            Reference.reachabilityFence(this);
        }
    }

    /** Waits for running requests, closes the client's updaters, then frees the client.
     * Idempotent. Must not be called from the client's own listener. */
    @Override
    public void close() {
        List<Updater> open;
        synchronized (updaters) {
            closing = true;
            open = new ArrayList<>(updaters);
        }
        for (Updater u : open) {
            u.close();
        }
        handle.close();
    }

    /** Registers an updater made on this client; false once the client is closing. */
    boolean adopt(Updater u) {
        synchronized (updaters) {
            if (closing) {
                return false;
            }
            updaters.add(u);
            return true;
        }
    }

    void forget(Updater u) {
        synchronized (updaters) {
            updaters.remove(u);
        }
    }

    SWIGTYPE_p_pincurl_client acquire() {
        return handle.acquire();
    }

    void release() {
        handle.release();
        Reference.reachabilityFence(this);
    }
}
