package org.pincurl;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;

import javax.annotation.Nullable;

/**
 * An immutable pinning policy (docs/policy.md): loaded from a policy document, or made in
 * code with {@link #builder()}. Thread-safe.
 *
 * <p>Holds one reference to the native policy, released by {@link #close()} (or, as a
 * safety net, when the object becomes unreachable). A {@link Client} takes its own
 * reference: the policy may be closed as soon as the client is made.
 */
public final class Policy implements AutoCloseable {
    private final Handle<SWIGTYPE_p_pincurl_policy> handle;

    private Policy(SWIGTYPE_p_pincurl_policy pointer) {
        this.handle = new Handle<SWIGTYPE_p_pincurl_policy>(this, pointer, new Unref(pointer));
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
    public static Policy fromFile(File file) throws PincurlException {
        if (file == null) {
            throw new NullPointerException("file");
        }
        SWIGTYPE_p_pincurl_policy[] out = new SWIGTYPE_p_pincurl_policy[1];
        pincurl_diag diag = new pincurl_diag();
        try {
            int st = PincurlNative.pincurl_policy_load_file(file.getPath(), out, diag);
            return finish(st, out[0], diag, file.getPath());
        } finally {
            diag.delete();
        }
    }

    /** A builder for a policy made in code, in the manner of OkHttp's
     * CertificatePinner.Builder. */
    public static Builder builder() {
        return new Builder();
    }

    private static Policy finish(int st, @Nullable SWIGTYPE_p_pincurl_policy p, pincurl_diag diag,
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

    /** When the policy expires, or null if it never does. */
    @Nullable
    public Date expires() {
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            long t = PincurlNative.pincurl_policy_expires(p);
            return t == 0 ? null : new Date(t * 1000L);
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
            List<String> out = new ArrayList<String>();
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
            List<Domain> out = new ArrayList<Domain>();
            for (long i = 0; i < n; i++) {
                out.add(Domain.copy(PincurlNative.pincurl_policy_domain(p, i)));
            }
            return Collections.unmodifiableList(out);
        } finally {
            release();
        }
    }

    /** The entry that governs host (exact entry first, else the closest parent that
     * includes subdomains or excludes them), or null when none applies. */
    @Nullable
    public Domain lookup(String host) {
        if (host == null) {
            throw new NullPointerException("host");
        }
        SWIGTYPE_p_pincurl_policy p = acquire();
        try {
            SWIGTYPE_p_pincurl_domain d = PincurlNative.pincurl_policy_lookup(p, Jni.utf8(host));
            return d == null ? null : Domain.copy(d);
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
            List<String> pins = new ArrayList<String>();
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

        /** The entry's own expiry, or null if it has none (the policy's still applies). */
        @Nullable
        public Date expires() {
            return expires == 0 ? null : new Date(expires * 1000L);
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

    /**
     * Builds a {@link Policy} in code, with the same rules as a policy document: enforcing
     * domains need two distinct pins (a backup), report-only ones one; a public suffix
     * cannot include subdomains; an excluded host must sit under an including parent.
     * Not thread-safe.
     *
     * <pre>{@code
     * Policy policy = Policy.builder()
     *     .add("api.example.com", "sha256/AAAA...=", "sha256/BBBB...=")
     *     .add("**.cdn.example.com", "sha256/CCCC...=", "sha256/DDDD...=")
     *     .reportOnly("beta.example.com", "sha256/EEEE...=")
     *     .expires(new Date(...), false)
     *     .reportUri("https://collector.example.com/pin-report")
     *     .build();
     * }</pre>
     */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<Entry>();
        private final List<String> reportUris = new ArrayList<String>();
        private long expires;
        private boolean blockWhenExpired;

        private Builder() {
        }

        /**
         * Pins pattern, enforcing: a host ("api.example.com") or "**." and a host for the
         * host and every name under it (OkHttp's any-depth wildcard). OkHttp's one-label
         * "*." pattern has no equivalent and is refused.
         */
        public Builder add(String pattern, String... pins) {
            if (pattern == null) {
                throw new NullPointerException("pattern");
            }
            if (pattern.startsWith("**.")) {
                return domain(pattern.substring(3), true, true, pins);
            }
            if (pattern.startsWith("*.")) {
                throw new IllegalArgumentException("one-label wildcards are not supported: "
                    + pattern + " (use **." + pattern.substring(2) + " for every subdomain)");
            }
            return domain(pattern, false, true, pins);
        }

        /** A report-only entry: a mismatch is reported and let through. Same patterns as
         * {@link #add}. */
        public Builder reportOnly(String pattern, String... pins) {
            if (pattern == null) {
                throw new NullPointerException("pattern");
            }
            if (pattern.startsWith("**.")) {
                return domain(pattern.substring(3), true, false, pins);
            }
            return domain(pattern, false, false, pins);
        }

        /** A domain entry with every flag spelled out. */
        public Builder domain(String host, boolean includeSubdomains, boolean enforce,
                              String... pins) {
            if (host == null || pins == null) {
                throw new NullPointerException("host and pins are required");
            }
            long flags = (includeSubdomains ? PincurlNativeConstants.PINCURL_DOMAIN_INCLUDE_SUBDOMAINS : 0)
                | (enforce ? PincurlNativeConstants.PINCURL_DOMAIN_ENFORCE : 0);
            entries.add(new Entry(host, flags, pins.clone()));
            return this;
        }

        /** Removes host from the policy of an including parent. */
        public Builder exclude(String host) {
            if (host == null) {
                throw new NullPointerException("host");
            }
            entries.add(new Entry(host, PincurlNativeConstants.PINCURL_DOMAIN_EXCLUDE,
                                  new String[0]));
            return this;
        }

        /** When the policy stops being in force (null: never), and what happens then:
         * block refuses pinned hosts, otherwise pins are no longer enforced but every
         * mismatch is reported. */
        public Builder expires(@Nullable Date when, boolean block) {
            this.expires = when == null ? 0 : Math.max(1, when.getTime() / 1000L);
            this.blockWhenExpired = block;
            return this;
        }

        /** Where failure reports are sent (an absolute https:// URL). */
        public Builder reportUri(String uri) {
            if (uri == null) {
                throw new NullPointerException("uri");
            }
            reportUris.add(uri);
            return this;
        }

        /** Validates the whole and makes the policy. Refusals carry the status and a path
         * in the manner of a document's (domains["api.example.com"].pins[1]). */
        public Policy build() throws PincurlException {
            SWIGTYPE_p_pincurl_policy_builder b = PincurlNative.pincurl_policy_builder_new();
            if (b == null) {
                throw PincurlException.of(Status.OUT_OF_MEMORY.number(), "policy builder");
            }
            try {
                check(PincurlNative.pincurl_policy_builder_set_expiry(b, expires,
                    blockWhenExpired ? PincurlNativeConstants.PINCURL_ON_EXPIRY_BLOCK
                                     : PincurlNativeConstants.PINCURL_ON_EXPIRY_REPORT_AND_ALLOW),
                      "expires");
                for (int i = 0; i < reportUris.size(); i++) {
                    check(PincurlNative.pincurl_policy_builder_add_report_uri(b, reportUris.get(i)),
                          "report_uris[" + i + "]");
                }
                for (Entry e : entries) {
                    String path = "domains[\"" + e.host + "\"]";
                    long index = PincurlNative.jni_policy_builder_add_domain(b, e.host, e.flags);
                    if (index < 0) {
                        check((int) -index, path);
                    }
                    for (int i = 0; i < e.pins.length; i++) {
                        if (e.pins[i] == null) {
                            throw new NullPointerException(path + ".pins[" + i + "]");
                        }
                        check(PincurlNative.jni_policy_builder_add_pin(b, index, e.pins[i]),
                              path + ".pins[" + i + "]");
                    }
                }
                SWIGTYPE_p_pincurl_policy[] out = new SWIGTYPE_p_pincurl_policy[1];
                long[] bad = new long[1];
                int st = PincurlNative.jni_policy_builder_finish(b, out, bad);
                if (st != Status.OK.number() || out[0] == null) {
                    if (out[0] != null) {
                        PincurlNative.pincurl_policy_unref(out[0]);
                    }
                    String path = bad[0] >= 0 && bad[0] < entries.size()
                        ? "domains[\"" + entries.get((int) bad[0]).host + "\"]" : "policy";
                    check(st != Status.OK.number() ? st : Status.INTERNAL.number(), path);
                }
                return new Policy(out[0]);
            } finally {
                PincurlNative.pincurl_policy_builder_free(b);
            }
        }

        private static void check(int st, String path) throws PincurlException {
            if (st != Status.OK.number()) {
                String message = path + ": " + PincurlException.describe(st);
                throw new PincurlException(st, "policy refused: " + message, message, null,
                                           path, 0, 0, null);
            }
        }

        private static final class Entry {
            final String host;
            final long flags;
            final String[] pins;

            Entry(String host, long flags, String[] pins) {
                this.host = host;
                this.flags = flags;
                this.pins = pins;
            }
        }
    }
}
