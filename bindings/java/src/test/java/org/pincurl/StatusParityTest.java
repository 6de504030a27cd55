package org.pincurl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;

/**
 * The Java enums against the C library they run on: a status (or result, event kind...)
 * in the C list without its Java counterpart, or with another number or text, fails here.
 */
class StatusParityTest {
    @Test
    void everyStatusNumberAgreesWithTheLibrary() {
        int known = 0;
        for (int n = 0; n <= 255; n++) {
            String name = PincurlNative.pincurl_status_name(n);
            Status s = Status.find(n);
            if (name == null) {
                assertNull(s, "Status." + (s != null ? s.name() : "") + " has number " + n
                    + ", which the C library does not know");
                assertEquals("unknown status", PincurlNative.pincurl_strerror(n));
                continue;
            }
            assertNotNull(s, "C status " + name + " (" + n + ") has no Java Status constant");
            assertEquals(name, s.name(), "name of status " + n);
            assertEquals(PincurlNative.pincurl_strerror(n), s.message(), "message of " + name);
            known++;
        }
        assertEquals(Status.values().length, known,
            "every Java status must have a C number in 0..255");
    }

    @Test
    void everyJavaStatusIsTheLibrarys() {
        Set<Integer> numbers = new HashSet<>();
        for (Status s : Status.values()) {
            assertTrue(numbers.add(s.number()), "number " + s.number() + " used twice");
            assertEquals(s.name(), PincurlNative.pincurl_status_name(s.number()), s.name());
            assertEquals(PincurlNative.pincurl_strerror(s.number()), s.message(), s.name());
        }
        assertEquals(Status.OK, Status.of(0));
        assertEquals(Status.INTERNAL, Status.of(100000));
        assertNull(Status.find(-1));
    }

    /** Every C constant NAME_PREFIX_X in the generated bridge has a Java constant X of the
     * same number, and the C library's name function agrees. */
    private static <E extends Enum<E>> void checkEnum(String prefix, Class<E> type,
                                                      IntFunction<String> nativeName,
                                                      Set<String> notInC) throws Exception {
        int seen = 0;
        for (Field f : PincurlNativeConstants.class.getFields()) {
            if (!f.getName().startsWith(prefix) || !Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            String name = f.getName().substring(prefix.length());
            int number = f.getInt(null);
            E constant;
            try {
                constant = Enum.valueOf(type, name);
            } catch (IllegalArgumentException e) {
                fail("C constant " + f.getName() + " has no " + type.getSimpleName() + "." + name);
                return;
            }
            int javaNumber = (int) type.getMethod("number").invoke(constant);
            assertEquals(number, javaNumber, type.getSimpleName() + "." + name);
            if (nativeName != null) {
                assertEquals(name, nativeName.apply(number), "C name of " + f.getName());
            }
            seen++;
        }
        assertEquals(type.getEnumConstants().length - notInC.size(), seen,
            type.getSimpleName() + " has constants the C headers lack");
    }

    @Test
    void resultsDecisionsKindsAndExpiryStatesMatchTheHeaders() throws Exception {
        checkEnum("PINCURL_RESULT_", Result.class, PincurlNative::pincurl_result_name, Set.of());
        checkEnum("PINCURL_DECISION_", Decision.class, null, Set.of());
        checkEnum("PINCURL_EXPIRY_", ExpiryState.class, null, Set.of());
        checkEnum("PINCURL_EVENT_", EventKind.class, PincurlNative::pincurl_event_kind_name,
                  Set.of("UNKNOWN"));
        for (int n = 0; n <= 255; n++) {
            String name = PincurlNative.pincurl_event_kind_name(n);
            EventKind k = EventKind.of(n);
            assertEquals(name, k.name(), "event kind " + n);
        }
    }

    @Test
    void versionsAgree() {
        assertEquals(Pincurl.bindingVersion(), Pincurl.version());
    }
}
