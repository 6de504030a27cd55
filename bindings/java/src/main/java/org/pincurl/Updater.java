package org.pincurl;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Signed policy updates for a client (docs/updates.md): the client's policy when the
 * updater is made is the base; verified bundles replace it as new generations, the last one
 * is kept in a state directory across restarts, and a damaged or expired one gives the base
 * back. Events (UPDATE_APPLIED, UPDATE_REJECTED, UPDATE_BASE_RESTORED) go to the client's
 * listener. Thread-safe.
 *
 * <p>Close it before its client; {@link Client#close()} closes the client's updaters first.
 */
public final class Updater implements AutoCloseable {
    private final Client client;
    private final Handle<SWIGTYPE_p_pincurl_updater> handle;

    private Updater(Client client, SWIGTYPE_p_pincurl_updater pointer) {
        this.client = client;
        this.handle = new Handle<>(this, pointer, new Free(pointer, client));
    }

    /** Frees the updater. Holds the client so that an unreachable client cannot be freed
     * by its Cleaner before the updater that uses it. */
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
            Reference.reachabilityFence(client);
        }
    }

    /**
     * An updater for client, trusting keys (1-16, distinct key ids), keeping its state in
     * stateDir (created, mode 0700). A stored bundle is verified again and put in force.
     * Statuses: INVALID_ARGUMENT, IO, UPDATE_KEY_INVALID, UPDATE_STATE_DAMAGED, OUT_OF_MEMORY.
     */
    public static Updater create(Client client, List<UpdateKey> keys, Path stateDir)
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
            int st = PincurlNative.jni_updater_new(c, ids, pubs, stateDir.toString(), out);
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
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            int st = PincurlNative.pincurl_updater_apply(u, bundle);
            if (st != Status.OK.number()) {
                throw refusal(u, st, "update");
            }
        } finally {
            release();
        }
    }

    /** Puts the base back in force if the bundle in force expired; true if it just did. */
    public boolean check() throws PincurlException {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            int st = PincurlNative.pincurl_updater_check(u);
            if (st == Status.UPDATE_EXPIRED.number()) {
                return true;
            }
            PincurlException.check(st, "update check");
            return false;
        } finally {
            release();
        }
    }

    /** Fetches an https:// URL once, over the client (pinned), and applies what it serves. */
    public void fetch(String url) throws PincurlException {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            int st = PincurlNative.pincurl_updater_fetch(u, url);
            if (st != Status.OK.number()) {
                throw refusal(u, st, "fetch " + url);
            }
        } finally {
            release();
        }
    }

    /** Starts a thread polling url every interval (after a failure: retry, doubling up to
     * maxBackoff). Events of the polls run on that thread. */
    public void start(String url, Duration interval, Duration retry, Duration maxBackoff)
        throws PincurlException {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            PincurlException.check(PincurlNative.pincurl_updater_start(u, url, interval.toMillis(),
                retry.toMillis(), maxBackoff.toMillis()), "start fetcher");
        } finally {
            release();
        }
    }

    /** Stops the polling thread and waits for it. No-op if none runs. */
    public void stop() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            PincurlNative.pincurl_updater_stop(u);
        } finally {
            release();
        }
    }

    /** The highest sequence applied so far (persisted; 0 if none). */
    public long sequence() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return PincurlNative.pincurl_updater_sequence(u);
        } finally {
            release();
        }
    }

    /** True if the base policy is in force. */
    public boolean usingBase() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return PincurlNative.pincurl_updater_using_base(u) != 0;
        } finally {
            release();
        }
    }

    /** The status of the last refusal (OK if none yet). */
    public Status lastErrorStatus() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return Status.of(PincurlNative.jni_updater_last_status(u));
        } finally {
            release();
        }
    }

    /** A sentence about the last refusal ("" if none yet). */
    public String lastErrorMessage() {
        SWIGTYPE_p_pincurl_updater u = handle.acquire();
        try {
            return Jni.str(PincurlNative.jni_updater_last_message(u));
        } finally {
            release();
        }
    }

    /** Stops the fetcher and frees the updater; the client keeps the policy in force. */
    @Override
    public void close() {
        handle.close();
        client.forget(this);
    }

    private static PincurlException refusal(SWIGTYPE_p_pincurl_updater u, int st, String what) {
        String msg = Jni.str(PincurlNative.jni_updater_last_message(u));
        return new PincurlException(st, what + ": " + PincurlException.describe(st)
            + (msg == null || msg.isEmpty() ? "" : ": " + msg), msg, null, null, 0, 0, null);
    }

    private void release() {
        handle.release();
        Reference.reachabilityFence(this);
    }
}
