package org.pincurl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.annotation.Nullable;

/**
 * A pinning HTTPS client: a policy, options and a connection pool. Thread-safe: any
 * number of threads may {@link #send(Request)} at once, also while {@link #setPolicy}
 * runs. The pin decision is made inside the TLS handshake: a refused connection is aborted
 * before a single request byte is sent.
 *
 * <p>Threads: a request runs on the thread that calls {@link #send} or {@link Call#execute};
 * an enqueued call ({@link Call#enqueue}) on the client's call executor, at most
 * {@value #CALL_THREADS} threads made with the first enqueued call, which end after
 * {@value #CALL_THREAD_IDLE_SECONDS} s without work. The binding starts no thread per
 * request. What the TLS library keeps for a thread that made requests is freed when that
 * thread ends (the JNI library calls pincurl_thread_cleanup() from a thread-exit hook), so
 * applications may use short-lived threads or their own pools.
 *
 * <p>Close it when done: {@link #close()} cancels the requests running on it (they end with
 * status CANCELLED), then frees the native client and releases the listener. A client that
 * is never closed is freed once unreachable (a phantom reference, see {@link Handle}), but
 * a listener that refers to its own client keeps the client reachable: close such clients
 * explicitly.
 *
 * <p>From inside the client's own callbacks (its listener, its clock, a request body
 * stream) the calls that re-enter the client are refused with IllegalStateException:
 * {@link #close()}, {@link #send}, {@link Call#execute}, {@link #setPolicy} and
 * {@link #flushReports}.
 */
public final class Client implements AutoCloseable {
    private final Handle<SWIGTYPE_p_pincurl_client> handle;
    /** The token of the client's callback dispatcher (EventDispatcher), or null. */
    @Nullable private final Object callbackToken;
    /** Open updaters of this client (weakly: an unreachable updater is freed by its own
     * phantom reference, which keeps this client alive until then). Guarded by itself. */
    private final Set<Updater> updaters = Collections.newSetFromMap(new WeakHashMap<Updater, Boolean>());
    private boolean closing;
    /** Calls that have not ended (running, or enqueued and waiting): close() cancels them.
     * Guarded by updaters. */
    private final Set<Call> calls = new HashSet<Call>();
    /** The call executor (Call#enqueue), made with the first enqueued call. Guarded by
     * updaters. */
    @Nullable private ThreadPoolExecutor executor;
    /** Threads of the call executor: at most this many enqueued calls run at once, the
     * others wait in order. */
    static final int CALL_THREADS = 4;
    /** An idle thread of the call executor ends after this long. */
    static final long CALL_THREAD_IDLE_SECONDS = 10;

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
     * Performs request on the calling thread, blocking: {@code newCall(request).execute()}.
     * Returns the response when an HTTP answer arrived (whatever its code); throws
     * {@link PincurlException} otherwise, carrying the status, the failure detail and the
     * response with its verdict (CANCELLED when {@link #close()} cancelled it).
     * Thread-safe. Not from this client's own callbacks (IllegalStateException).
     */
    public Response send(Request request) throws PincurlException {
        return newCall(request).execute();
    }

    /**
     * A call of request on this client, to execute (blocking), enqueue (on the client's
     * call executor) and cancel from any thread. Nothing runs until then.
     */
    public Call newCall(Request request) {
        if (request == null) {
            throw new NullPointerException("request");
        }
        return new Call(this, request);
    }

    /** Runs call on the calling thread (Call#execute). */
    Response run(Call call) throws PincurlException {
        SWIGTYPE_p_pincurl_client c = enter("execute");
        try {
            track(call);
            try {
                return call.perform(c);
            } finally {
                untrack(call);
            }
        } finally {
            handle.release();
        }
    }

    /** Queues call on the call executor (Call#enqueue). */
    void enqueue(Call call, Callback callback) {
        synchronized (updaters) {
            if (closing) {
                throw new IllegalStateException("already closed");
            }
            if (executor == null) {
                executor = new ThreadPoolExecutor(CALL_THREADS, CALL_THREADS,
                    CALL_THREAD_IDLE_SECONDS, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<Runnable>(), new CallThreads());
                executor.allowCoreThreadTimeOut(true);
            }
            calls.add(call); // close() cancels it from now on, also while it waits
            executor.execute(new AsyncCall(this, call, callback));
        }
    }

    /** Registers a running call, so that close() cancels it; cancels it at once when the
     * client is closing. */
    private void track(Call call) {
        boolean cancel;
        synchronized (updaters) {
            cancel = closing;
            if (!cancel) {
                calls.add(call);
            }
        }
        if (cancel) {
            call.cancel();
        }
    }

    private void untrack(Call call) {
        synchronized (updaters) {
            calls.remove(call);
        }
    }

    /** An enqueued call on a thread of the call executor. Holds the client until it ran. */
    private static final class AsyncCall implements Runnable {
        private final Client client;
        private final Call call;
        private final Callback callback;

        AsyncCall(Client client, Call call, Callback callback) {
            this.client = client;
            this.call = call;
            this.callback = callback;
        }

        @Override
        public void run() {
            Response response = null;
            PincurlException failure = null;
            try {
                response = client.run(call);
            } catch (PincurlException e) {
                failure = e;
            } catch (IllegalStateException e) {
                if (!client.isClosed()) {
                    throw e;
                }
                // closed while the call waited: close() cancelled it
                call.markCanceled();
                failure = PincurlException.of(Status.CANCELLED.number(),
                    call.request().method() + " " + call.request().url()
                    + " (the client was closed)");
            } finally {
                client.untrack(call);
            }
            try {
                if (response != null) {
                    callback.onResponse(call, response);
                } else {
                    callback.onFailure(call, failure);
                }
            } catch (RuntimeException e) {
                Log.warn("a call's callback threw", e);
            }
        }
    }

    /** The threads of the call executor: daemons named pincurl-call-N. Must not capture
     * the Client. */
    private static final class CallThreads implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "pincurl-call-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
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
     * Cancels the calls of the client that have not ended (they end at once with status
     * CANCELLED, enqueued ones through their callback), closes the client's updaters, waits
     * for what still runs on the client (a {@link #flushReports} until its timeout), then
     * frees it and stops the call executor. Requests do not hold it up: it returns within
     * milliseconds also while they wait for answers that never come.
     * Idempotent. From inside one of this client's callbacks (its listener, on any thread,
     * or a body stream of one of its requests) it is refused with IllegalStateException:
     * the native callback that is running belongs to the client.
     */
    @Override
    public void close() {
        refuseInCallback("close");
        List<Updater> open;
        List<Call> running;
        ThreadPoolExecutor calls;
        synchronized (updaters) {
            closing = true;
            open = new ArrayList<Updater>(updaters);
            running = new ArrayList<Call>(this.calls);
            calls = executor;
        }
        for (Call call : running) {
            call.cancel();
        }
        for (Updater u : open) {
            u.close();
        }
        handle.close();
        if (calls != null) {
            calls.shutdown(); // the calls still queued end with CANCELLED, then its threads
        }
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
