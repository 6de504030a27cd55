/* The C API of pincurl as the CPincurl module sees it. The include directory comes from
 * pkg-config (pincurl.pc's Cflags), or the xcframework's Headers. */
#include <pincurl/pincurl.h>
