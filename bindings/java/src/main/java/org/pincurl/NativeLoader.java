package org.pincurl;

import java.io.File;
import java.io.InputStream;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import javax.annotation.Nullable;

/**
 * Loads the JNI library once, from the first of these places that has it:
 * <ol>
 * <li>the file named by the system property {@code pincurl.jni.library} (an absolute
 *     path), when it is set;</li>
 * <li>on Android, the app's native library directory ({@code System.loadLibrary}: the
 *     library comes in the .aar's {@code jni/<abi>/});</li>
 * <li>the directory of pincurl.jar itself (the build tree keeps both there, and an
 *     application may ship them side by side);</li>
 * <li>where {@code cmake --install} put it relative to the jar ({@code <datadir>/java} and
 *     {@code <libdir>/jni}; the path is written into the jar at build time,
 *     {@code org/pincurl/pincurl-jni.properties});</li>
 * <li>{@code java.library.path} ({@code System.loadLibrary("pincurl_jni")}).</li>
 * </ol>
 * The error of a failed load names every place that was tried.
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
            loaded = true;
            return;
        }
        if (isAndroid()) {
            System.loadLibrary(NAME);
            loaded = true;
            return;
        }
        List<String> tried = new ArrayList<String>();
        File jarDir = jarDirectory();
        if (jarDir != null) {
            String file = System.mapLibraryName(NAME);
            File[] candidates = {new File(jarDir, file), installed(jarDir)};
            for (File f : candidates) {
                if (f == null) {
                    continue;
                }
                tried.add(f.getPath());
                if (f.isFile()) {
                    System.load(f.getAbsolutePath());
                    loaded = true;
                    return;
                }
            }
        }
        try {
            System.loadLibrary(NAME);
            loaded = true;
        } catch (UnsatisfiedLinkError e) {
            UnsatisfiedLinkError err = new UnsatisfiedLinkError("pincurl: no "
                + System.mapLibraryName(NAME) + " in " + tried + " nor on java.library.path ("
                + System.getProperty("java.library.path") + "); set -D" + PROPERTY
                + "=/path/to/" + System.mapLibraryName(NAME));
            err.initCause(e);
            throw err;
        }
    }

    static boolean isAndroid() {
        String vm = System.getProperty("java.vm.name");
        return vm != null && vm.toLowerCase(java.util.Locale.ROOT).contains("dalvik");
    }

    /** The directory holding the jar (or class directory) this class came from. */
    @Nullable
    private static File jarDirectory() {
        try {
            ProtectionDomain pd = NativeLoader.class.getProtectionDomain();
            CodeSource cs = pd != null ? pd.getCodeSource() : null;
            URL url = cs != null ? cs.getLocation() : null;
            if (url == null || !"file".equals(url.getProtocol())) {
                return null;
            }
            File f = new File(url.toURI());
            return f.isDirectory() ? f : f.getParentFile();
        } catch (Exception e) { // SecurityException, URISyntaxException: not found here
            return null;
        }
    }

    /** The install location relative to the jar's directory, from the jar's properties. */
    @Nullable
    private static File installed(File jarDir) {
        InputStream in = NativeLoader.class.getResourceAsStream("pincurl-jni.properties");
        if (in == null) {
            return null;
        }
        try {
            Properties p = new Properties();
            p.load(in);
            String rel = p.getProperty("installed");
            return rel != null && !rel.isEmpty() ? new File(jarDir, rel) : null;
        } catch (Exception e) {
            return null;
        } finally {
            try {
                in.close();
            } catch (Exception ignored) {
                // nothing to do
            }
        }
    }
}
