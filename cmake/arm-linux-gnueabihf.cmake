# CMake toolchain file: 32-bit ARM (ARMv7-A, hard float) Linux with Debian's cross
# toolchain (apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross). Programs run
# on the build machine under qemu-user (apt-get install qemu-user):
#   qemu-arm -L /usr/arm-linux-gnueabihf PROGRAM
# Used by tools/firmware.sh for the firmware core (tests/firmware/core); docs/embedded.md.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf)
