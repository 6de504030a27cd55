package org.pincurl;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The native object of a binding object and its release.
 *
 * <p>Every native call on the object runs between {@link #acquire()} and {@link #release()}:
 * any number of calls at once, while {@link #close()} waits until none runs and then frees
 * the object exactly once.
 *
 * <p>If the owner is never closed, a phantom reference to it is enqueued once it becomes
 * unreachable, and the process's one cleaner thread ("pincurl-cleaner", started with the
 * first handle) closes the handle. That close takes the same write lock, so it waits for
 * a native call that is still running even when the optimizer decided that the owner
 * object itself is no longer used: no reachability fence is needed (Android API levels
 * below 28 have none), and java.lang.ref.Cleaner (API 33) is not used.
 */
final class Handle<P> {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final P pointer;
    private final Runnable release;
    private final Phantom phantom;
    private boolean closed;

    /** Registers release to run once, at close() or when owner is unreachable. release
     * must not refer to owner (the owner could then never become unreachable). */
    Handle(Object owner, P pointer, Runnable release) {
        if (pointer == null) {
            throw new IllegalArgumentException("null native handle");
        }
        this.pointer = pointer;
        this.release = release;
        this.phantom = NativeCleaner.register(owner, this);
    }

    /** The native object, which stays valid until the matching release(). Throws
     * IllegalStateException once closed. */
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

    /** True if the calling thread is inside a call on this object. */
    boolean heldByCurrentThread() {
        return lock.getReadHoldCount() > 0;
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
                NativeCleaner.forget(phantom);
                release.run();
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

    /** The phantom reference of an owner: holds the handle, never the owner. */
    static final class Phantom extends PhantomReference<Object> {
        final Handle<?> handle;

        Phantom(Object owner, ReferenceQueue<Object> queue, Handle<?> handle) {
            super(owner, queue);
            this.handle = handle;
        }
    }

    /**
     * The reference queue of every handle and the daemon thread that drains it. The
     * registered references are kept in a set (a phantom reference that is itself
     * unreachable is never enqueued).
     */
    static final class NativeCleaner {
        private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<Object>();
        private static final Set<Phantom> LIVE = Collections.synchronizedSet(new HashSet<Phantom>());
        private static Thread thread;

        private NativeCleaner() {
        }

        static Phantom register(Object owner, Handle<?> handle) {
            Phantom p = new Phantom(owner, QUEUE, handle);
            LIVE.add(p);
            start();
            return p;
        }

        static void forget(Phantom p) {
            LIVE.remove(p);
            p.clear();
        }

        private static synchronized void start() {
            if (thread != null) {
                return;
            }
            thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    drain();
                }
            }, "pincurl-cleaner");
            thread.setDaemon(true);
            thread.start();
        }

        private static void drain() {
            while (true) {
                Phantom p;
                try {
                    p = (Phantom) QUEUE.remove();
                } catch (InterruptedException e) {
                    continue; // the thread lives as long as the process
                }
                try {
                    p.handle.close();
                } catch (Throwable t) {
                    Log.warn("freeing an unreachable pincurl object failed", t);
                }
            }
        }
    }
}
