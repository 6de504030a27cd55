# Generates the JNI bridge: runs SWIG on pincurl.i, then makes the constants interface SWIG
# writes package-private like every other generated class (the bridge is not API).
#   cmake -DSWIG=... -DINTERFACE=pincurl.i -DINCLUDE=include -DJAVA_OUT=dir -DC_OUT=file.c
#         -DPACKAGE=org.pincurl -DSTAMP=file -P RunSwig.cmake
foreach(v SWIG INTERFACE INCLUDE JAVA_OUT C_OUT PACKAGE STAMP)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "RunSwig.cmake: ${v} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${JAVA_OUT}")
file(MAKE_DIRECTORY "${JAVA_OUT}")
execute_process(
  COMMAND "${SWIG}" -java -package "${PACKAGE}" -Werror -I${INCLUDE} -outdir "${JAVA_OUT}"
          -o "${C_OUT}" "${INTERFACE}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "swig failed (${rc})")
endif()
file(GLOB generated "${JAVA_OUT}/*.java")
foreach(f IN LISTS generated)
  file(READ "${f}" text)
  string(REPLACE "\npublic interface " "\ninterface " fixed "${text}")
  if(NOT fixed STREQUAL text)
    file(WRITE "${f}" "${fixed}")
  endif()
endforeach()
file(TOUCH "${STAMP}")
