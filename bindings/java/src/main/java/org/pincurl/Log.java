package org.pincurl;

import java.util.logging.Level;
import java.util.logging.Logger;

/** The binding's own messages: java.util.logging, which Android forwards to logcat. */
final class Log {
    private static final Logger LOGGER = Logger.getLogger("org.pincurl");

    private Log() {
    }

    static void warn(String message, Throwable t) {
        LOGGER.log(Level.WARNING, message, t);
    }
}
