# The firmware profile (-DPINCURL_FIRMWARE=ON), included from the library section of the
# top-level CMakeLists.txt. It adds libpincurl_firmware.a next to the full library:
#   core (lib/core), compiled policies (pincurl_policy_from_static), the wolfSSL backend
#   (lib/tls without OpenSSL) and the client (lib/http without the policy updater);
#   no cJSON (lib/config, lib/update, lib/http/updater.c), no libpsl, no report spool thread
#   and no file system (lib/report: reports go to the event callback only), built at -Os.
# The full library stays: the host tools (pincurl policy compile) are built with it and run
# on the build machine, not on the device. docs/embedded.md describes the profile.

set(PINCURL_FIRMWARE_SOURCES ${PINCURL_CORE_SOURCES} ${PINCURL_TLS_SOURCES}
                             ${PINCURL_HTTP_SOURCES})
list(FILTER PINCURL_FIRMWARE_SOURCES EXCLUDE REGEX "/lib/tls/openssl\\.c$")
list(FILTER PINCURL_FIRMWARE_SOURCES EXCLUDE REGEX "/lib/http/updater\\.c$")
# Reading a whole file (lib/config/file.c, no JSON): the leaf-only mode reads its trust store.
list(APPEND PINCURL_FIRMWARE_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/lib/config/file.c)
# The core's certificate details (lib/core/certinfo.c: private-key pins, Ed25519/Ed448
# through wolfCrypt) serve the tools, not a device.
list(FILTER PINCURL_FIRMWARE_SOURCES EXCLUDE REGEX "/lib/core/certinfo\\.c$")

# PINCURL_OWN_SHA256: the core's SHA-256 from lib/core/sha256.c instead of wolfCrypt's.
option(PINCURL_OWN_SHA256 "Firmware: the core hashes with its own SHA-256, not wolfCrypt's" OFF)

add_library(pincurl_firmware STATIC ${PINCURL_FIRMWARE_SOURCES})
target_include_directories(pincurl_firmware
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_compile_definitions(pincurl_firmware PRIVATE PINCURL_FIRMWARE=1
                           $<$<BOOL:${PINCURL_OWN_SHA256}>:PINCURL_OWN_SHA256=1>)
target_compile_options(pincurl_firmware PRIVATE -Os -ffunction-sections -fdata-sections)
target_link_libraries(pincurl_firmware PRIVATE pincurl_wolfssl pincurl_libcurl
                      Threads::Threads)
set_target_properties(pincurl_firmware PROPERTIES C_VISIBILITY_PRESET hidden
                      VISIBILITY_INLINES_HIDDEN ON OUTPUT_NAME pincurl_firmware)
install(TARGETS pincurl_firmware ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
