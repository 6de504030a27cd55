package org.pincurl;

/**
 * The time a client decides policy expiry with, for a device whose clock is not set
 * (client.h, pincurl_options_set_clock). Called from any thread performing a request, and
 * from the client's own threads: it must be thread-safe and quick. What it throws goes to
 * the client's {@link ListenerErrorHandler}, and the system's time stands in for that
 * call (pins are enforced as without a clock; only the expiry reads another time).
 */
public interface PincurlClock {
    /** Seconds since the Unix epoch, UTC. */
    long nowEpochSeconds();
}
