package org.pincurl;

/**
 * Receives a client's events (set with {@link Options.Builder#listener}): every validation
 * of a host the policy names, certificate changes, expiry warnings, policy changes and
 * failure reports.
 *
 * <p>Called on the thread that raised the event: for validations the thread performing the
 * request, inside the TLS handshake; for report deliveries the client's sender thread; for
 * polled updates the updater's thread. It must return quickly. A native thread the JVM
 * does not know is attached for the call and detached afterwards.
 *
 * <p>What the listener throws is caught at the native boundary and handed to the client's
 * {@link ListenerErrorHandler} (default: logged); it never reaches a thread's
 * uncaught-exception handler and never affects the request. From inside the listener, the
 * client's {@code close}, {@code send}, {@code setPolicy} and {@code flushReports} (and its
 * updaters' {@code apply}, {@code fetch}, {@code stop} and {@code close}) throw
 * IllegalStateException.
 */
public interface ValidationListener {
    void onEvent(ValidationEvent event);
}
