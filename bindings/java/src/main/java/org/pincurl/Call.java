package org.pincurl;

import javax.annotation.Nullable;

/**
 * One run of a request on a client ({@link Client#newCall}): blocking with
 * {@link #execute()}, or on the client's call executor with {@link #enqueue}. A call runs
 * once; make a new call (or {@link #copy()}) to send the request again.
 *
 * <p>{@link #cancel()} works from any thread, at any time: a call not yet started never
 * connects; a running one stops within milliseconds, its connection closed, whatever it
 * waits for (the TLS handshake, an answer that never comes, a body being sent), and ends
 * with status {@link Status#CANCELLED}; a call that already ended is left as it is.
 * {@link Client#close()} cancels every call of the client that has not ended.
 *
 * <p>Thread-safe. The native call (pincurl_call) exists only while the call runs.
 */
public final class Call {
    private final Client client;
    private final Request request;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private boolean executed;
    private boolean canceled;
    @Nullable private SWIGTYPE_p_pincurl_call running;

    Call(Client client, Request request) {
        this.client = client;
        this.request = request;
    }

    /** The request this call sends. */
    public Request request() {
        return request;
    }

    /** A new, not yet executed call of the same request on the same client. */
    public Call copy() {
        return new Call(client, request);
    }

    /**
     * Runs the call on the calling thread, blocking, and returns the response when an HTTP
     * answer arrived (whatever its code). Throws {@link PincurlException} otherwise,
     * carrying the status, the failure detail and the response with its verdict; status
     * CANCELLED when the call was cancelled (before or while it ran) or its client closed.
     * IllegalStateException when the call was executed or enqueued already, the client is
     * closed, or from one of the client's own callbacks.
     */
    public Response execute() throws PincurlException {
        claim();
        return client.run(this);
    }

    /**
     * Runs the call on the client's call executor (a bounded set of threads the client
     * owns; no thread per call) and hands the outcome to callback there. Returns at once.
     * IllegalStateException when the call was executed or enqueued already or the client
     * is closed.
     */
    public void enqueue(Callback callback) {
        if (callback == null) {
            throw new NullPointerException("callback");
        }
        claim();
        client.enqueue(this, callback);
    }

    /** Cancels the call (see the class description). From any thread, any number of
     * times; never blocks for longer than a native wakeup. */
    public void cancel() {
        synchronized (lock) {
            canceled = true;
            if (running != null) {
                PincurlNative.pincurl_call_cancel(running);
            }
        }
    }

    /** True once {@link #cancel()} was called or the client's close cancelled the call. */
    public boolean isCanceled() {
        synchronized (lock) {
            return canceled
                || (running != null && PincurlNative.pincurl_call_is_cancelled(running) != 0);
        }
    }

    /** True once {@link #execute()} or {@link #enqueue} was called. */
    public boolean isExecuted() {
        synchronized (lock) {
            return executed;
        }
    }

    private void claim() {
        synchronized (lock) {
            if (executed) {
                throw new IllegalStateException("the call was executed already");
            }
            executed = true;
        }
    }

    /** The call on native client c (held by the caller), on the calling thread. */
    Response perform(SWIGTYPE_p_pincurl_client c) throws PincurlException {
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
            int st = execute(c, r, out);
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

    /** Runs the native call of request r; cancel() reaches it while it runs. */
    private int execute(SWIGTYPE_p_pincurl_client c, SWIGTYPE_p_pincurl_request r,
                        SWIGTYPE_p_pincurl_response[] out) throws PincurlException {
        SWIGTYPE_p_pincurl_call[] made = new SWIGTYPE_p_pincurl_call[1];
        int st = PincurlNative.pincurl_call_new(c, r, made);
        if (st != Status.OK.number() || made[0] == null) {
            if (st == Status.CANCELLED.number()) {
                markCanceled();
            }
            throw PincurlException.of(st != Status.OK.number() ? st : Status.INTERNAL.number(),
                                      request.method() + " " + request.url());
        }
        SWIGTYPE_p_pincurl_call call = made[0];
        synchronized (lock) {
            running = call;
            if (canceled) {
                PincurlNative.pincurl_call_cancel(call); // it never starts
            }
        }
        try {
            st = PincurlNative.jni_call_execute(call, out);
        } finally {
            synchronized (lock) {
                if (PincurlNative.pincurl_call_is_cancelled(call) != 0) {
                    canceled = true;
                }
                running = null;
            }
            PincurlNative.pincurl_call_free(call);
        }
        return st;
    }

    void markCanceled() {
        synchronized (lock) {
            canceled = true;
        }
    }
}
