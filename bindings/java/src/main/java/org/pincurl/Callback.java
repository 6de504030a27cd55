package org.pincurl;

/**
 * Receives the outcome of a call run with {@link Call#enqueue}: exactly one of the two
 * methods is called once, on a thread of the client's call executor (never the thread that
 * enqueued it). An exception the callback throws is logged (java.util.logging, logcat on
 * Android) and does not end that thread.
 */
public interface Callback {
    /** An HTTP answer arrived (whatever its code), as {@link Call#execute} returns it. */
    void onResponse(Call call, Response response);

    /**
     * The call failed as {@link Call#execute} throws: the status says why; CANCELLED when
     * {@link Call#cancel} or {@link Client#close} cancelled it (also before it started).
     */
    void onFailure(Call call, PincurlException e);
}
