package org.pincurl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;

import javax.annotation.Nullable;

/** One client event, copied out of the native event: immutable, may be kept. */
public final class ValidationEvent {
    private final EventKind kind;
    private final String kindName;
    private final String host;
    private final int port;
    @Nullable private final Verdict verdict;
    private final List<String> pathPins;
    private final List<byte[]> pathCertificates;
    private final List<byte[]> servedCertificates;
    @Nullable private final String oldPin;
    private final long expires;
    private final long durationMicros;
    private final long generation;
    private final int status;
    private final String message;

    private ValidationEvent(SWIGTYPE_p_pincurl_event ev) {
        int k = PincurlNative.pincurl_event_get_kind(ev);
        this.kind = EventKind.of(k);
        this.kindName = PincurlNative.pincurl_event_kind_name(k);
        this.host = PincurlNative.pincurl_event_host(ev);
        this.port = (int) PincurlNative.pincurl_event_port(ev);
        this.verdict = Verdict.copy(PincurlNative.pincurl_event_verdict(ev));
        long n = PincurlNative.pincurl_event_path_count(ev);
        List<String> pins = new ArrayList<String>();
        List<byte[]> path = new ArrayList<byte[]>();
        for (long i = 0; i < n; i++) {
            String pin = PincurlNative.pincurl_event_path_pin(ev, i);
            pins.add(pin != null ? pin : "");
            byte[] der = PincurlNative.jni_event_path_cert(ev, i);
            path.add(der != null ? der : new byte[0]);
        }
        this.pathPins = Collections.unmodifiableList(pins);
        this.pathCertificates = Collections.unmodifiableList(path);
        long m = PincurlNative.pincurl_event_served_count(ev);
        List<byte[]> served = new ArrayList<byte[]>();
        for (long i = 0; i < m; i++) {
            byte[] der = PincurlNative.jni_event_served_cert(ev, i);
            served.add(der != null ? der : new byte[0]);
        }
        this.servedCertificates = Collections.unmodifiableList(served);
        this.oldPin = PincurlNative.pincurl_event_old_pin(ev);
        this.expires = PincurlNative.pincurl_event_expires(ev);
        this.durationMicros = PincurlNative.pincurl_event_duration_us(ev);
        this.generation = PincurlNative.pincurl_event_generation(ev);
        this.status = PincurlNative.pincurl_event_status(ev);
        this.message = PincurlNative.pincurl_event_message(ev);
    }

    /** Copies a borrowed native event (valid for the length of the callback). */
    static ValidationEvent copy(SWIGTYPE_p_pincurl_event ev) {
        return new ValidationEvent(ev);
    }

    public EventKind kind() {
        return kind;
    }

    /** The C name of the kind ("VALIDATION", ...), also for kinds this binding lacks. */
    public String kindName() {
        return kindName;
    }

    /** The host (normalised) the event is about, "" when none. */
    public String host() {
        return host;
    }

    /** The port the event is about, 0 when none. */
    public int port() {
        return port;
    }

    /** The verdict of a validation (also of CERT_CHANGED and the expiry warnings), or
     * null. */
    @Nullable
    public Verdict verdict() {
        return verdict;
    }

    /** The validation's result; INVALID_PARAMETERS when the event has no verdict. */
    public Result result() {
        return verdict != null ? verdict.result() : Result.INVALID_PARAMETERS;
    }

    /** The validation's decision; BLOCK when the event has no verdict. */
    public Decision decision() {
        return verdict != null ? verdict.decision() : Decision.BLOCK;
    }

    /** The pin that matched, or null. */
    @Nullable
    public String matchedPin() {
        return verdict != null ? verdict.matchedPin() : null;
    }

    /** The pin of every certificate of the validated path, leaf first. */
    public List<String> pathPins() {
        return pathPins;
    }

    /** The validated path's certificates (DER), leaf first, ending at the trust anchor. */
    public List<byte[]> pathCertificates() {
        List<byte[]> out = new ArrayList<byte[]>();
        for (byte[] b : pathCertificates) {
            out.add(b.clone());
        }
        return out;
    }

    /** The chain the server sent (DER), leaf first. */
    public List<byte[]> servedCertificates() {
        List<byte[]> out = new ArrayList<byte[]>();
        for (byte[] b : servedCertificates) {
            out.add(b.clone());
        }
        return out;
    }

    /** CERT_CHANGED: the pin of the leaf seen before, else null. */
    @Nullable
    public String oldPin() {
        return oldPin;
    }

    /** The expiry the *_EXPIRING warnings are about, else null. */
    @Nullable
    public Date expires() {
        return expires == 0 ? null : new Date(expires * 1000L);
    }

    /** Microseconds the validation took (VALIDATION), else zero. */
    public long durationMicros() {
        return durationMicros;
    }

    /** The policy generation the event belongs to (1 for the client's first policy). */
    public long generation() {
        return generation;
    }

    /** REPORT_*: the outcome. */
    public Status status() {
        return Status.of(status);
    }

    /** A sentence for a person; for a refused validation the failure detail. */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return kindName + " " + host + ":" + port + (verdict != null ? " " + verdict : "")
            + " generation " + generation;
    }
}
