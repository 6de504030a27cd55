package org.pincurl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

import javax.annotation.Nullable;

/**
 * A pinning HTTPS client: a policy, options and a connection pool. Thread-safe: any
 * number of threads may {@link #send(Request)} at once, also while {@link #setPolicy}
 * runs. The pin decision is made inside the TLS handshake: a refused connection is aborted
 * before a single request byte is sent.
 *
 * <p>Threads: a request runs on the thread that calls {@link #send}; the binding starts no
 * thread per request. What the TLS library keeps for a thread that made requests is freed
 * when that thread ends (the JNI library calls pincurl_thread_cleanup() from a thread-exit
 * hook), so applications may use short-lived threads or their own pools.
 *
 * <p>Close it when done: {@link #close()} waits for the requests running on it, then frees
 * the native client and releases the listener. A client that is never closed is freed once
 * unreachable (a phantom reference, see {@link Handle}), but a listener that refers to its
 * own client keeps the client reachable: close such clients explicitly.
 *
 * <p>From inside the client's own callbacks (its listener, its clock, a request body
 * stream) the calls that re-enter the client are refused with IllegalStateException:
 * {@link #close()}, {@link #send}, {@link #setPolicy} and {@link #flushReports}.
 */
public final class Client implements AutoCloseable {
    private final Handle<SWIGTYPE_p_pincurl_client> handle;
    /** The token of the client's callback dispatcher (EventDispatcher), or null. */
    @Nullable private final Object callbackToken;
    /** Open updaters of this client (weakly: an unreachable updater is freed by its own
     * phantom reference, which keeps this client alive until then). Guarded by itself. */
    private final Set<Updater> updaters = Collections.newSetFromMap(new WeakHashMap<Updater, Boolean>());
    private boolean closing;

    private Client(SWIGTYPE_p_pincurl_client pointer, @Nullable EventDispatcher dispatcher,
                   long callbacks) {
        this.callbackToken = dispatcher != null ? dispatcher.token : null;
        this.handle = new Handle<SWIGTYPE_p_pincurl_client>(this, pointer, new Free(pointer, callbacks));
    }

    /** Frees the native client, then the callbacks' global reference (no callback can
     * run after the client is freed). Must not capture the Client. */
    private static final class Free implements Runnable {
        private final SWIGTYPE_p_pincurl_client pointer;
        private final long callbacks;

        Free(SWIGTYPE_p_pincurl_client pointer, long callbacks) {
            this.pointer = pointer;
            this.callbacks = callbacks;
        }

        @Override
        public void run() {
            PincurlNative.pincurl_client_free(pointer);
            PincurlNative.jni_callback_free(callbacks);
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
        long callbacks = 0;
        boolean handedOver = false;
        try {
            options.apply(o);
            EventDispatcher dispatcher = options.dispatcher();
            if (dispatcher != null) {
                callbacks = PincurlNative.jni_dispatcher_new(dispatcher);
                if (options.hasListener()) {
                    PincurlException.check(PincurlNative.jni_options_set_listener(o, callbacks),
                                           "listener");
                }
                if (options.hasClock()) {
                    PincurlException.check(PincurlNative.jni_options_set_clock(o, callbacks),
                                           "clock");
                }
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
            Client client = new Client(out[0], dispatcher, callbacks);
            handedOver = true;
            return client;
        } finally {
            PincurlNative.pincurl_options_free(o);
            if (!handedOver) {
                PincurlNative.jni_callback_free(callbacks);
            }
        }
    }

    /**
     * Performs request on the calling thread, blocking. Returns the response when an HTTP
     * answer arrived (whatever its code); throws {@link PincurlException} otherwise,
     * carrying the status, the failure detail and the response with its verdict.
     * Thread-safe. Not from this client's own callbacks (IllegalStateException).
     */
    public Response send(Request request) throws PincurlException {
        if (request == null) {
            throw new NullPointerException("request");
        }
        SWIGTYPE_p_pincurl_client c = enter("send");
        try {
            return perform(c, request);
        } finally {
            handle.release();
        }
    }

    /** One request on the native client c (held by the caller). */
    private static Response perform(SWIGTYPE_p_pincurl_client c, Request request)
        throws PincurlException {
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
            request.apply(r);
            if (request.bodyStream() != null) {
                bodySource = new BodySource(request.bodyStream());
                source = PincurlNative.jni_source_new(bodySource);
                PincurlException.check(PincurlNative.jni_request_set_source(
                    r, source, request.bodyLength(), request.upload() ? 1 : 0), "body");
            }
            if (request.sink() != null) {
                bodySink = new BodySink(request.sink());
                sink = PincurlNative.jni_sink_new(bodySink);
                PincurlException.check(PincurlNative.jni_request_set_sink(r, sink), "sink");
            }
            SWIGTYPE_p_pincurl_response[] out = new SWIGTYPE_p_pincurl_response[1];
            int st = PincurlNative.jni_client_perform(c, r, out);
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
        SWIGTYPE_p_pincurl_client c = enter("setPolicy");
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
        }
    }

    /** The generation in force: 1 for the first policy, plus one per setPolicy. */
    public long generation() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_generation(c);
        } finally {
            handle.release();
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
        }
    }

    /**
     * Waits until the failure report spool is empty or timeout passed. True when it is
     * empty; false when reports remain (they stay in the spool for later). Thread-safe.
     */
    public boolean flushReports(long timeout, TimeUnit unit) throws PincurlException {
        long ms = Options.Builder.millis(timeout, unit);
        SWIGTYPE_p_pincurl_client c = enter("flushReports");
        try {
            int st = PincurlNative.pincurl_client_flush_reports(c, ms);
            if (st == Status.TIMEOUT.number()) {
                return false;
            }
            PincurlException.check(st, "flush reports");
            return true;
        } finally {
            handle.release();
        }
    }

    /** Writes the cookie store to the save file of {@link Options.Builder#cookieEngine}. */
    public void saveCookies() throws PincurlException {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            PincurlException.check(PincurlNative.pincurl_client_save_cookies(c), "save cookies");
        } finally {
            handle.release();
        }
    }

    /** Reports dropped so far because the spool was full. */
    public long reportsDropped() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_reports_dropped(c);
        } finally {
            handle.release();
        }
    }

    /** Reports not written because an identical one was spooled within 24 hours. */
    public long reportsSuppressed() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_reports_suppressed(c);
        } finally {
            handle.release();
        }
    }

    /** The TLS backend pin decisions run on ("wolfssl", ...). */
    public String tlsBackend() {
        SWIGTYPE_p_pincurl_client c = handle.acquire();
        try {
            return PincurlNative.pincurl_client_tls_backend(c);
        } finally {
            handle.release();
        }
    }

    /**
     * Waits for running requests, closes the client's updaters, then frees the client.
     * Idempotent. From inside one of this client's callbacks (its listener, on any thread,
     * or a body stream of one of its requests) it is refused with IllegalStateException:
     * the native callback that is running belongs to the client.
     */
    @Override
    public void close() {
        refuseInCallback("close");
        List<Updater> open;
        synchronized (updaters) {
            closing = true;
            open = new ArrayList<Updater>(updaters);
        }
        for (Updater u : open) {
            u.close();
        }
        handle.close();
    }

    /** True once {@link #close()} finished or began freeing the client. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Throws IllegalStateException when the calling thread is inside one of this
     * client's callbacks (or a call on it), where what is named must not run. */
    void refuseInCallback(String what) {
        if ((callbackToken != null && EventDispatcher.activeOnCurrentThread(callbackToken))
            || handle.heldByCurrentThread()) {
            throw new IllegalStateException(what + " is not allowed from inside a callback"
                + " of the same client (its listener, clock or a request body stream)");
        }
    }

    private SWIGTYPE_p_pincurl_client enter(String what) {
        refuseInCallback(what);
        return handle.acquire();
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
    }
}
