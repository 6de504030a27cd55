package org.pincurl;

/** The test JNI library (src/test/c/native_thread.c). */
final class NativeThread {
    private static boolean loaded;

    private NativeThread() {
    }

    static synchronized void load() {
        if (!loaded) {
            NativeLoader.load();
            System.load(System.getProperty("pincurl.jni.testlibrary"));
            loaded = true;
        }
    }

    /** pincurl_client_perform(client, request) on a new native thread; its status. */
    static native int perform(long client, long request);
}
