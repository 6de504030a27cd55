package org.pincurl;

import javax.annotation.Nullable;

/**
 * Receives what an application callback of a client threw: its {@link ValidationListener}
 * or its {@link PincurlClock}. Set with {@link Options.Builder#listenerErrorHandler}.
 *
 * <p>Callbacks run on native threads too (the client's report sender, an updater's
 * fetcher), where an exception must never reach the thread's uncaught-exception handler
 * (on Android that ends the process). So the binding catches every Throwable at the native
 * boundary and hands it here; without a handler it is logged through java.util.logging
 * (logcat on Android). A handler that throws is logged the same way; nothing ever leaves
 * the callback.
 */
public interface ListenerErrorHandler {
    /**
     * Called on the thread of the callback, right after it threw.
     *
     * @param event the event the listener was given, or null when the clock threw
     * @param error what was thrown
     */
    void onListenerError(@Nullable ValidationEvent event, Throwable error);
}
