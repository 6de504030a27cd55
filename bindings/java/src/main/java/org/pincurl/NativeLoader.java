package org.pincurl;

/**
 * Loads the JNI library once. The system property {@code pincurl.jni.library} names the
 * library file to load (an absolute path); without it the library is found by name
 * ({@code pincurl_jni}) on {@code java.library.path}, or in the application's native
 * library directory on Android.
 */
final class NativeLoader {
    static final String PROPERTY = "pincurl.jni.library";
    static final String NAME = "pincurl_jni";

    private static boolean loaded;

    private NativeLoader() {
    }

    static synchronized void load() {
        if (loaded) {
            return;
        }
        String path = System.getProperty(PROPERTY);
        if (path != null && !path.isEmpty()) {
            System.load(path);
        } else {
            System.loadLibrary(NAME);
        }
        loaded = true;
    }
}
