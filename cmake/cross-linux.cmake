# CMake toolchain file for Linux on another CPU with Debian's cross toolchains and
# multiarch libraries (tools/cross-build.sh installs them):
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/cross-linux.cmake -DPINCURL_CROSS_TRIPLET=aarch64-linux-gnu
# Triplets used here: aarch64-linux-gnu (64-bit ARM), arm-linux-gnueabihf (32-bit ARMv7,
# hard float). Programs run on the build machine under qemu-user with the target's own
# multiarch C library (libc6:arm64 / libc6:armhf, which the -dev packages bring):
#   qemu-aarch64 -L / PROGRAM
# ctest does that by itself (CMAKE_CROSSCOMPILING_EMULATOR). Not with the cross toolchain's
# copy in /usr/TRIPLET: a dynamically linked program on that glibc (2.36-8cross1) hangs in
# fork() under qemu-aarch64 7.2, and the test runner forks for every test.
if(NOT PINCURL_CROSS_TRIPLET AND DEFINED ENV{PINCURL_CROSS_TRIPLET})
  set(PINCURL_CROSS_TRIPLET "$ENV{PINCURL_CROSS_TRIPLET}")
endif()
if(NOT PINCURL_CROSS_TRIPLET)
  message(FATAL_ERROR "cross-linux.cmake: set PINCURL_CROSS_TRIPLET (e.g. aarch64-linux-gnu)")
endif()
# try_compile projects see the triplet too
set(ENV{PINCURL_CROSS_TRIPLET} "${PINCURL_CROSS_TRIPLET}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PINCURL_CROSS_TRIPLET)

string(REGEX MATCH "^[^-]+" _pincurl_cpu "${PINCURL_CROSS_TRIPLET}")
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${_pincurl_cpu})
set(CMAKE_C_COMPILER ${PINCURL_CROSS_TRIPLET}-gcc)
set(CMAKE_AR ${PINCURL_CROSS_TRIPLET}-ar CACHE FILEPATH "")
set(CMAKE_LIBRARY_ARCHITECTURE ${PINCURL_CROSS_TRIPLET})
# The cross C library lives in /usr/TRIPLET; multiarch -dev packages in /usr/lib/TRIPLET.
set(CMAKE_FIND_ROOT_PATH /usr/${PINCURL_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${PINCURL_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

if(_pincurl_cpu STREQUAL "aarch64")
  set(_pincurl_qemu qemu-aarch64)
elseif(_pincurl_cpu MATCHES "^arm")
  set(_pincurl_qemu qemu-arm)
else()
  set(_pincurl_qemu qemu-${_pincurl_cpu})
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${_pincurl_qemu} -L /)
