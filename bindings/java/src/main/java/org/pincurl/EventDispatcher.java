package org.pincurl;

/**
 * What the native event callback calls (through a JNI global reference, deleted when the
 * client is freed). Holds the application's listener and nothing of the client, so that
 * the reference does not keep the client reachable.
 */
final class EventDispatcher {
    private final ValidationListener listener;

    EventDispatcher(ValidationListener listener) {
        this.listener = listener;
    }

    /** Called by the JNI glue with a borrowed pincurl_event pointer. */
    void dispatch(long eventPointer) {
        try {
            ValidationEvent event = ValidationEvent.copy(new SWIGTYPE_p_pincurl_event(eventPointer, false));
            listener.onEvent(event);
        } catch (Throwable t) {
            Thread self = Thread.currentThread();
            Thread.UncaughtExceptionHandler h = self.getUncaughtExceptionHandler();
            if (h != null) {
                try {
                    h.uncaughtException(self, t);
                } catch (Throwable ignored) {
                    // Nothing may escape into the native caller.
                }
            }
        }
    }
}
