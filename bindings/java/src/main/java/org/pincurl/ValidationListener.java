package org.pincurl;

/**
 * Receives a client's events (set with {@link Options.Builder#listener}): every validation
 * of a host the policy names, certificate changes, expiry warnings, policy changes and
 * failure reports.
 *
 * <p>Called on the thread that raised the event: for validations the thread performing the
 * request, inside the TLS handshake, so it must return quickly and must not call back into
 * the client (no send, setPolicy or close). A native thread the JVM does not know is
 * attached for the call and detached afterwards. What the listener throws is caught and
 * handed to the thread's uncaught-exception handler; it never affects the request.
 */
@FunctionalInterface
public interface ValidationListener {
    void onEvent(ValidationEvent event);
}
