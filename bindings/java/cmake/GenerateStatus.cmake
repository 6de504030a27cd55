# Generates org/pincurl/Status.java from include/pincurl/status_list.h, the one list of
# status codes (every PINCURL_STATUS(NAME, NUMBER, "message") line becomes a constant).
#   cmake -DSTATUS_LIST=.../status_list.h -DOUTPUT=.../Status.java -P GenerateStatus.cmake
if(NOT STATUS_LIST OR NOT OUTPUT)
  message(FATAL_ERROR "usage: cmake -DSTATUS_LIST=FILE -DOUTPUT=FILE -P GenerateStatus.cmake")
endif()

file(STRINGS "${STATUS_LIST}" lines REGEX "^PINCURL_STATUS\\(")
set(constants "")
set(count 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^PINCURL_STATUS\\(([A-Z0-9_]+), *([0-9]+), *\"(([^\"\\\\]|\\\\.)*)\"\\)")
    message(FATAL_ERROR "${STATUS_LIST}: cannot parse: ${line}")
  endif()
  set(name "${CMAKE_MATCH_1}")
  set(number "${CMAKE_MATCH_2}")
  set(text "${CMAKE_MATCH_3}")
  if(count GREATER 0)
    string(APPEND constants ",\n")
  endif()
  string(REPLACE "*/" "* /" doc "${text}")
  string(APPEND constants "    /** ${doc}. */\n    ${name}(${number}, \"${text}\")")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${STATUS_LIST}: no PINCURL_STATUS lines")
endif()

set(java "// Generated from include/pincurl/status_list.h by bindings/java/cmake/GenerateStatus.cmake.
// Do not edit: change the C list and rebuild.
package org.pincurl;

/** The outcome of a pincurl operation: the C library's status list, number for number. */
public enum Status {
${constants};

    private final int number;
    private final String message;

    Status(int number, String message) {
        this.number = number;
        this.message = message;
    }

    /** The C library's number for this status (stable, never reused). */
    public int number() {
        return number;
    }

    /** A sentence for a person, as pincurl_strerror() gives it. */
    public String message() {
        return message;
    }

    /** The status with that number, or null when this list has none. */
    public static Status find(int number) {
        for (Status s : values()) {
            if (s.number == number) {
                return s;
            }
        }
        return null;
    }

    /** The status with that number; INTERNAL for a number this list lacks. */
    public static Status of(int number) {
        Status s = find(number);
        return s != null ? s : INTERNAL;
    }
}
")
# Only rewrite when the text changes, so javac does not rerun for nothing.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL java)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${java}")
