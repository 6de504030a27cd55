package org.pincurl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;

import javax.annotation.Nullable;

/** The outcome of one pin validation: a copy, immutable, thread-safe. */
public final class Verdict {
    private final Result result;
    private final Decision decision;
    private final ExpiryState expiry;
    private final long expires;
    private final boolean pinned;
    private final boolean enforce;
    private final boolean includeSubdomains;
    private final boolean servedDiffers;
    @Nullable private final String notedHost;
    private final int matchedDepth;
    @Nullable private final String matchedPin;
    private final List<String> pathPins;
    private final long domainExpires;
    private final long effectiveExpires;
    private final ExpiryState effectiveExpiry;
    private final boolean effectiveBlocks;

    private Verdict(pincurl_verdict v) {
        this.result = Result.of(v.getResult());
        this.decision = Decision.of(v.getDecision());
        this.expiry = ExpiryState.of(v.getExpiry());
        this.expires = v.getExpires();
        this.pinned = v.getPinned() != 0;
        this.enforce = v.getEnforce() != 0;
        this.includeSubdomains = v.getInclude_subdomains() != 0;
        this.servedDiffers = v.getServed_differs() != 0;
        this.notedHost = v.getNoted_host();
        this.matchedDepth = v.getMatched_depth();
        this.matchedPin = PincurlNative.jni_verdict_matched_pin(v);
        long n = v.getPath_len();
        List<String> pins = new ArrayList<String>();
        for (long i = 0; i < n; i++) {
            String pin = PincurlNative.jni_verdict_path_pin(v, i);
            if (pin != null) {
                pins.add(pin);
            }
        }
        this.pathPins = Collections.unmodifiableList(pins);
        this.domainExpires = v.getDomain_expires();
        this.effectiveExpires = v.getEffective_expires();
        this.effectiveExpiry = ExpiryState.of(v.getEffective_expiry());
        this.effectiveBlocks =
            v.getEffective_on_expiry() == PincurlNativeConstants.PINCURL_ON_EXPIRY_BLOCK;
    }

    /** A copy of a borrowed native verdict, or null for null. */
    @Nullable
    static Verdict copy(@Nullable pincurl_verdict v) {
        return v == null ? null : new Verdict(v);
    }

    public Result result() {
        return result;
    }

    public Decision decision() {
        return decision;
    }

    /** The state of the policy's expiry at validation time. */
    public ExpiryState expiry() {
        return expiry;
    }

    /** The policy's expiry, or null if it has none. */
    @Nullable
    public Date expires() {
        return expires == 0 ? null : new Date(expires * 1000L);
    }

    /** The governing domain entry's own expiry, or null if it has none. */
    @Nullable
    public Date domainExpires() {
        return domainExpires == 0 ? null : new Date(domainExpires * 1000L);
    }

    /** When the pins of this host stop (or stopped) being in force: the earlier of the
     * entry's own expiry and the policy's; null when neither is set. */
    @Nullable
    public Date effectiveExpires() {
        return effectiveExpires == 0 ? null : new Date(effectiveExpires * 1000L);
    }

    /** The state of {@link #effectiveExpires()} at validation time. */
    public ExpiryState effectiveExpiry() {
        return effectiveExpiry;
    }

    /** True if the expiry in effect refuses connections once passed (on_expiry block);
     * false if it reports and allows. */
    public boolean effectiveBlocksOnExpiry() {
        return effectiveBlocks;
    }

    /** True if an enforcing or report-only entry applied. */
    public boolean pinned() {
        return pinned;
    }

    /** The governing entry's enforce flag (false: report-only). */
    public boolean enforce() {
        return enforce;
    }

    public boolean includeSubdomains() {
        return includeSubdomains;
    }

    /** True if the chain the server sent is not the path validation built. */
    public boolean servedDiffers() {
        return servedDiffers;
    }

    /** The host of the governing policy entry, or null. */
    @Nullable
    public String notedHost() {
        return notedHost;
    }

    /** Path index of the certificate whose key matched (0 = leaf), or -1. */
    public int matchedDepth() {
        return matchedDepth;
    }

    /** The pin that matched, or null. */
    @Nullable
    public String matchedPin() {
        return matchedPin;
    }

    /** The pin of every certificate of the validated path, leaf first. */
    public List<String> pathPins() {
        return pathPins;
    }

    @Override
    public String toString() {
        return result + "/" + decision + (matchedPin != null ? " matched " + matchedPin : "")
            + " path " + pathPins;
    }
}
