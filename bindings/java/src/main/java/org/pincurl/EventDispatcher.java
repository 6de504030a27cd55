package org.pincurl;

import java.util.ArrayList;

import javax.annotation.Nullable;

/**
 * What the native callbacks of one client call (through a JNI global reference, deleted
 * when the client is freed): the listener for events, the clock. Holds the application's
 * objects and nothing of the client, so that the reference does not keep the client
 * reachable.
 *
 * <p>Nothing thrown ever leaves {@link #dispatch} or {@link #now}: the native caller may be
 * a thread the JVM attached only for the call, where an uncaught exception would reach the
 * default handler (which ends the process on Android). What the application's code throws
 * goes to the error handler, or is logged.
 *
 * <p>While a callback runs, the dispatcher is on the calling thread's stack of active
 * dispatchers, so that the client can refuse what must not happen from inside its own
 * callbacks (close, send, setPolicy: the C library forbids calling back into the client).
 */
final class EventDispatcher {
    private static final ThreadLocal<ArrayList<Object>> ACTIVE =
        new ThreadLocal<ArrayList<Object>>() {
            @Override
            protected ArrayList<Object> initialValue() {
                return new ArrayList<Object>(2);
            }
        };

    /** Names this dispatcher on the threads' stacks; the client keeps only this, not the
     * dispatcher, so that a closed client does not keep the listener reachable. */
    final Object token = new Object();
    @Nullable private final ValidationListener listener;
    @Nullable private final PincurlClock clock;
    @Nullable private final ListenerErrorHandler errorHandler;

    EventDispatcher(@Nullable ValidationListener listener, @Nullable PincurlClock clock,
                    @Nullable ListenerErrorHandler errorHandler) {
        this.listener = listener;
        this.clock = clock;
        this.errorHandler = errorHandler;
    }

    /** True if the calling thread is inside a callback of the dispatcher of token. */
    static boolean activeOnCurrentThread(Object token) {
        return ACTIVE.get().contains(token);
    }

    /** Called by the JNI glue with a borrowed pincurl_event pointer. */
    void dispatch(long eventPointer) {
        ArrayList<Object> active = null;
        ValidationEvent event = null;
        try {
            active = ACTIVE.get();
            active.add(token);
            event = ValidationEvent.copy(new SWIGTYPE_p_pincurl_event(eventPointer, false));
            if (listener != null) {
                listener.onEvent(event);
            }
        } catch (Throwable t) {
            failed(event, t);
        } finally {
            if (active != null) {
                active.remove(active.size() - 1);
            }
        }
    }

    /** Called by the JNI glue for the client's clock. When the application's clock throws,
     * the system's time stands in for that call (as if no clock were set). */
    long now() {
        ArrayList<Object> active = null;
        try {
            active = ACTIVE.get();
            active.add(token);
            if (clock == null) {
                return System.currentTimeMillis() / 1000L;
            }
            return clock.nowEpochSeconds();
        } catch (Throwable t) {
            failed(null, t);
            return System.currentTimeMillis() / 1000L;
        } finally {
            if (active != null) {
                active.remove(active.size() - 1);
            }
        }
    }

    private void failed(@Nullable ValidationEvent event, Throwable t) {
        try {
            if (errorHandler != null) {
                errorHandler.onListenerError(event, t);
                return;
            }
        } catch (Throwable again) {
            t = again;
        }
        try {
            Log.warn("a pincurl callback threw" + (event != null ? " on " + event : ""), t);
        } catch (Throwable ignored) {
            // Nothing may escape into the native caller.
        }
    }
}
