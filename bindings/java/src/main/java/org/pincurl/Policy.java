package org.pincurl;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * An immutable pinning policy, loaded from a policy document (docs/policy.md). Thread-safe.
 *
 * <p>Holds one reference to the native policy, released by {@link #close()} (or, as a
 * safety net, when the object becomes unreachable). A {@link Client} takes its own
 * reference: the policy may be closed as soon as the client is made.
 */
public final class Policy implements AutoCloseable {
    private final Handle<SWIGTYPE_p_pincurl_policy> handle;

    private Policy(SWIGTYPE_p_pincurl_policy pointer) {
        this.handle = new Handle<>(this, pointer, new Unref(pointer));
    }

    /** Takes over one reference to pointer. */
    static Policy adopt(SWIGTYPE_p_pincurl_policy pointer) {
        return new Policy(pointer);
    }

    private static final class Unref implements Runnable {
        private final SWIGTYPE_p_pincurl_policy pointer;

        Unref(SWIGTYPE_p_pincurl_policy pointer) {
            this.pointer = pointer;
        }

        @Override
        public void run() {
            PincurlNative.pincurl_policy_unref(pointer);
        }
    }

    /** Loads a policy document. Refusals carry the JSON path, line and column. */
    public static Policy fromJson(String json) throws PincurlException {
        if (json == null) {
            throw new NullPointerException("json");
        }
        return fromJson(Jni.utf8(json));
    }

    /** Loads a policy document given as UTF-8 bytes. */
    public static Policy fromJson(byte[] json) throws PincurlException {
        if (json == null) {
            throw new NullPointerException("json");
        }
        SWIGTYPE_p_pincurl_policy[] out = new SWIGTYPE_p_pincurl_policy[1];
        pincurl_diag diag = new pincurl_diag();
        try {
            int st = PincurlNative.pincurl_policy_load_json(json, out, diag);
            return finish(st, out[0], diag, "policy document");
        } finally {
            diag.delete();
        }
    }

    /** Reads and loads a policy document file (at most 1 MiB). */
    public static Policy fromFile(Path path) throws PincurlException {
        if (path == null) {
            throw new NullPointerException("path");
        }
        SWIGTYPE_p_pincurl_policy[] out = new SWIGTYPE_p_pincurl_policy[1];
        pincurl_diag diag = new pincurl_diag();
        try {
            int st = PincurlNative.pincurl_policy_load_file(path.toString(), out, diag);
            return finish(st, out[0], diag, path.toString());
        } finally {
            diag.delete();
        }
    }

    private static Policy finish(int st, SWIGTYPE_p_pincurl_policy p, pincurl_diag diag,
                                 String what) throws PincurlException {
        if (st == Status.OK.number() && p != null) {
            return new Policy(p);
        }
        if (p != null) {
            PincurlNative.pincurl_policy_unref(p);
        }
        String message = PincurlNative.jni_diag_message(diag);
        if (message == null || message.isEmpty()) {
            message = PincurlException.describe(st);
        }
        throw new PincurlException(st, what + " refused: " + message, message, null,
                                   PincurlNative.jni_diag_path(diag), diag.getLine(),
                                   diag.getColumn(), null);
    }

    /** When the policy expires, or empty if it never does. */
    public Optional<Instant> expires() {
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            long t = PincurlNative.pincurl_policy_expires(p);
            return t == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(t));
        } finally {
            release();
        }
    }

    /** True if an expired policy blocks pinned hosts; false if it reports and allows. */
    public boolean blocksWhenExpired() {
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            return PincurlNative.pincurl_policy_on_expiry(p)
                == PincurlNativeConstants.PINCURL_ON_EXPIRY_BLOCK;
        } finally {
            release();
        }
    }

    /** Where failure reports go. */
    public List<String> reportUris() {
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            long n = PincurlNative.pincurl_policy_report_uri_count(p);
            List<String> out = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                out.add(PincurlNative.pincurl_policy_report_uri(p, i));
            }
            return Collections.unmodifiableList(out);
        } finally {
            release();
        }
    }

    /** Every domain entry, in document order. */
    public List<Domain> domains() {
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            long n = PincurlNative.pincurl_policy_domain_count(p);
            List<Domain> out = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                out.add(Domain.copy(PincurlNative.pincurl_policy_domain(p, i)));
            }
            return Collections.unmodifiableList(out);
        } finally {
            release();
        }
    }

    /** The entry that governs host (exact entry first, else the closest parent that
     * includes subdomains or excludes them), or empty when none applies. */
    public Optional<Domain> lookup(String host) {
        if (host == null) {
            throw new NullPointerException("host");
        }
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            SWIGTYPE_p_pincurl_domain d = PincurlNative.pincurl_policy_lookup(p, Jni.utf8(host));
            return d == null ? Optional.empty() : Optional.of(Domain.copy(d));
        } finally {
            release();
        }
    }

    /** Releases this object's reference. Idempotent; clients made from it keep theirs. */
    @Override
    public void close() {
        handle.close();
    }

    SWIGTYPE_p_pincurl_policy acquire() {
        return handle.acquire();
    }

    void release() {
        handle.release();
        Reference.reachabilityFence(this);
    }

    /** A domain entry of a policy (a copy; it outlives the policy). */
    public static final class Domain {
        private final String host;
        private final boolean includeSubdomains;
        private final boolean enforce;
        private final boolean exclude;
        private final boolean excludesSubdomains;
        private final boolean allowsSinglePin;
        private final List<String> pins;
        private final long expires;
        private final boolean blocksOnExpiry;

        private Domain(String host, long flags, List<String> pins, long expires,
                       boolean blocksOnExpiry) {
            this.host = host;
            this.includeSubdomains =
                (flags & PincurlNativeConstants.PINCURL_DOMAIN_INCLUDE_SUBDOMAINS) != 0;
            this.enforce = (flags & PincurlNativeConstants.PINCURL_DOMAIN_ENFORCE) != 0;
            this.exclude = (flags & PincurlNativeConstants.PINCURL_DOMAIN_EXCLUDE) != 0;
            this.excludesSubdomains =
                exclude && (flags & PincurlNativeConstants.PINCURL_DOMAIN_HOST_ONLY) == 0;
            this.allowsSinglePin =
                (flags & PincurlNativeConstants.PINCURL_DOMAIN_ALLOW_SINGLE_PIN) != 0;
            this.pins = Collections.unmodifiableList(pins);
            this.expires = expires;
            this.blocksOnExpiry = blocksOnExpiry;
        }

        static Domain copy(SWIGTYPE_p_pincurl_domain d) {
            long n = PincurlNative.pincurl_domain_pin_count(d);
            List<String> pins = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                pins.add(PincurlNative.pincurl_domain_pin(d, i));
            }
            return new Domain(PincurlNative.pincurl_domain_host(d),
                              PincurlNative.pincurl_domain_flags(d), pins,
                              PincurlNative.pincurl_domain_expires(d),
                              PincurlNative.pincurl_domain_on_expiry(d)
                                  == PincurlNativeConstants.PINCURL_ON_EXPIRY_BLOCK);
        }

        /** The host, normalised (lower case, no trailing dot). */
        public String host() {
            return host;
        }

        public boolean includeSubdomains() {
            return includeSubdomains;
        }

        /** True if a mismatch is refused; false if it is only reported (report-only). */
        public boolean enforce() {
            return enforce;
        }

        /** True for an entry that removes this host from its parent's policy. */
        public boolean exclude() {
            return exclude;
        }

        /** For an exclusion: true if it also removes the names below the host (a subtree
         * exclusion), false if it removes the host alone. False for other entries. */
        public boolean excludesSubdomains() {
            return excludesSubdomains;
        }

        /** True for an enforcing entry allowed a single pin (no backup key). */
        public boolean allowsSinglePin() {
            return allowsSinglePin;
        }

        /** The entry's own expiry, or empty if it has none (the policy's still applies). */
        public Optional<Instant> expires() {
            return expires == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(expires));
        }

        /** True if the entry's own expiry, once passed, refuses connections (its on_expiry,
         * by default the policy's). */
        public boolean blocksOnExpiry() {
            return blocksOnExpiry;
        }

        /** The pins, "sha256/BASE64". */
        public List<String> pins() {
            return pins;
        }

        @Override
        public String toString() {
            return host + (exclude ? " (excluded)" : (enforce ? " enforce " : " report-only ")
                + pins);
        }
    }
}
