package org.pincurl;

import java.lang.ref.Cleaner;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The native object of a binding object and its release.
 *
 * <p>Every native call on the object runs between {@link #acquire()} and {@link #release()}:
 * any number of calls at once, while {@link #close()} waits until none runs and then frees
 * the object exactly once. If the owner is never closed, the {@link Cleaner} frees the
 * object when the owner becomes unreachable; owners call
 * {@link java.lang.ref.Reference#reachabilityFence(Object)} on themselves after each native
 * call so that this cannot happen while a call runs.
 */
final class Handle<P> {
    private static final Cleaner CLEANER = Cleaner.create();

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final P pointer;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    /** Registers release to run once, at close() or when owner is unreachable. */
    Handle(Object owner, P pointer, Runnable release) {
        if (pointer == null) {
            throw new IllegalArgumentException("null native handle");
        }
        this.pointer = pointer;
        this.cleanable = CLEANER.register(owner, release);
    }

    /** The native object, which stays valid until the matching release(). */
    P acquire() {
        lock.readLock().lock();
        if (closed) {
            lock.readLock().unlock();
            throw new IllegalStateException("already closed");
        }
        return pointer;
    }

    void release() {
        lock.readLock().unlock();
    }

    /** Frees the native object after the calls running on it finished. Idempotent. */
    void close() {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException(
                "cannot close from inside a call on the same object (e.g. from its listener)");
        }
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                cleanable.clean();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    boolean isClosed() {
        lock.readLock().lock();
        try {
            return closed;
        } finally {
            lock.readLock().unlock();
        }
    }
}
