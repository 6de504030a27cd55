package org.pincurl;

import java.io.File;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Signed policy updates for a client (docs/updates.md): the client's policy when the
 * updater is made is the base; verified bundles replace it as new generations, the last one
 * is kept in a state directory across restarts, and a damaged or expired one gives the base
 * back. Events (UPDATE_APPLIED, UPDATE_REJECTED, UPDATE_BASE_RESTORED) go to the client's
 * listener. Thread-safe.
 *
 * <p>Close it before its client; {@link Client#close()} closes the client's updaters first.
 * {@link #apply}, {@link #fetch}, {@link #stop} and {@link #close} are refused with
 * IllegalStateException from inside the client's callbacks (the fetcher thread raises its
 * events there, and waits for nothing but itself).
 */
public final class Updater implements AutoCloseable {
    private final Client client;
    private final Handle<SWIGTYPE_p_pincurl_updater> handle;

    private Updater(Client client, SWIGTYPE_p_pincurl_updater pointer) {
        this.client = client;
        this.handle = new Handle<SWIGTYPE_p_pincurl_updater>(this, pointer, new Free(pointer, client));
    }

    /** Frees the updater. Holds the client so that an unreachable client cannot be freed
     * before the updater that uses it. */
    private static final class Free implements Runnable {
        private final SWIGTYPE_p_pincurl_updater pointer;
        private final Client client;

        Free(SWIGTYPE_p_pincurl_updater pointer, Client client) {
            this.pointer = pointer;
            this.client = client;
        }

        @Override
        public void run() {
            PincurlNative.pincurl_updater_free(pointer);
        }
    }

    /**
     * An updater for client, trusting keys (1-16, distinct key ids), keeping its state in
     * stateDir (created, mode 0700). A stored bundle is verified again and put in force.
     * Statuses: INVALID_ARGUMENT, IO, UPDATE_KEY_INVALID, UPDATE_STATE_DAMAGED, OUT_OF_MEMORY.
     */
    public static Updater create(Client client, List<UpdateKey> keys, File stateDir)
        throws PincurlException {
        if (client == null || keys == null || stateDir == null) {
            throw new NullPointerException("client, keys and stateDir are required");
        }
        Object[] ids = new Object[keys.size()];
        Object[] pubs = new Object[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            ids[i] = Jni.cstr(keys.get(i).keyId());
            pubs[i] = keys.get(i).publicKey();
        }
        SWIGTYPE_p_pincurl_updater[] out = new SWIGTYPE_p_pincurl_updater[1];
        SWIGTYPE_p_pincurl_client c = client.acquire();
        try {
            int st = PincurlNative.jni_updater_new(c, ids, pubs, stateDir.getPath(), out);
            if (st != Status.OK.number() || out[0] == null) {
                PincurlNative.pincurl_updater_free(out[0]);
                throw PincurlException.of(st != Status.OK.number() ? st : Status.INTERNAL.number(),
                                          "updater " + stateDir);
            }
            Updater u = new Updater(client, out[0]);
            if (!client.adopt(u)) {
                u.handle.close();
                throw new IllegalStateException("the client is closing");
            }
            return u;
        } finally {
            client.release();
        }
    }

    /**
     * Applies a bundle: only if its signature verifies under a trusted key, its sequence is
     * higher than the last one, now is inside its validity and its policy is valid. Then it
     * is stored and in force as a new generation. Refusals throw with their UPDATE_* status;
     * the policy in force is then unchanged.
     */
    public void apply(byte[] bundle) throws PincurlException {
        if (bundle == null) {
            throw new NullPointerException("bundle");
        }
        SWIGTYPE_p_pincurl_updater u = enter("apply");
        try {
            int st = PincurlNative.pincurl_updater_apply(u, bundle);
            if (st != Status.OK.number()) {
                throw refusal(u, st, "update");
            }
        } finally {
            handle.release();
        }
    }

    /** Puts the base back in force if the bundle in force expired; true if it just did. */
    public boolean check() throws PincurlException {
        SWIGTYPE_p_pincurl_updater u = enter("check");
        try {
            int st = PincurlNative.pincurl_updater_check(u);
            if (st == Status.UPDATE_EXPIRED.number()) {
                return true;
            }
            PincurlException.check(st, "update check");
            return false;
        } finally {
            handle.release();
        }
    }

    /** Fetches an https:// URL once on the calling thread, over the client (pinned), and
     * applies what it serves. */
    public void fetch(String url) throws PincurlException {
        SWIGTYPE_p_pincurl_updater u = enter("fetch");
        try {
            int st = PincurlNative.jni_updater_fetch(u, url);
            if (st != Status.OK.number()) {
                throw refusal(u, st, "fetch " + url);
            }
        } finally {
            handle.release();
        }
    }

    /** Starts the updater's one thread polling url every interval (after a failure:
     * retry, doubling up to maxBackoff). Events of the polls run on that thread. */
    public void start(String url, long interval, long retry, long maxBackoff, TimeUnit unit)
        throws PincurlException {
        SWIGTYPE_p_pincurl_updater u = enter("start");
        try {
            PincurlException.check(PincurlNative.pincurl_updater_start(u, url,
                unit.toMillis(interval), unit.toMillis(retry), unit.toMillis(maxBackoff)),
                "start fetcher");
        } finally {
            handle.release();
        }
    }

    /** Stops the polling thread and waits for it. No-op if none runs. */
    public void stop() {
        SWIGTYPE_p_pincurl_updater u = enter("stop");
        try {
            PincurlNative.pincurl_updater_stop(u);
        } finally {
            handle.release();
        }
    }

    /** The highest sequence applied so far (persisted; 0 if none). */
    public long sequence() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return PincurlNative.pincurl_updater_sequence(u);
        } finally {
            handle.release();
        }
    }

    /** True if the base policy is in force. */
    public boolean usingBase() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return PincurlNative.pincurl_updater_using_base(u) != 0;
        } finally {
            handle.release();
        }
    }

    /** The status of the last refusal (OK if none yet). */
    public Status lastErrorStatus() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return Status.of(PincurlNative.jni_updater_last_status(u));
        } finally {
            handle.release();
        }
    }

    /** A sentence about the last refusal ("" if none yet). */
    public String lastErrorMessage() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return Jni.str(PincurlNative.jni_updater_last_message(u));
        } finally {
            handle.release();
        }
    }

    /** What the fetcher did so far: {polls, applied, notModified, failures,
     * consecutiveFailures, nextDelayMs, lastStatus}. */
    public FetchStats fetchStats() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            long[] v = new long[7];
            PincurlNative.jni_updater_fetch_stats(u, v);
            return new FetchStats(v);
        } finally {
            handle.release();
        }
    }

    /** Counters of the fetcher (pincurl_update_fetch_stats). */
    public static final class FetchStats {
        public final long polls;
        public final long applied;
        public final long notModified;
        public final long failures;
        public final long consecutiveFailures;
        public final long nextDelayMillis;
        public final Status lastStatus;

        FetchStats(long[] v) {
            polls = v[0];
            applied = v[1];
            notModified = v[2];
            failures = v[3];
            consecutiveFailures = v[4];
            nextDelayMillis = v[5];
            lastStatus = Status.of((int) v[6]);
        }
    }

    /** Stops the fetcher and frees the updater; the client keeps the policy in force. */
    @Override
    public void close() {
        client.refuseInCallback("Updater.close");
        handle.close();
        client.forget(this);
    }

    private SWIGTYPE_p_pincurl_updater enter(String what) {
        client.refuseInCallback("Updater." + what);
        return handle.acquire();
    }

    private static PincurlException refusal(SWIGTYPE_p_pincurl_updater u, int st, String what) {
        String msg = Jni.str(PincurlNative.jni_updater_last_message(u));
        return new PincurlException(st, what + ": " + PincurlException.describe(st)
            + (msg == null || msg.isEmpty() ? "" : ": " + msg), msg, null, null, 0, 0, null);
    }
}
