/* The C API of pincurl as the CPincurl module sees it. The include directory comes from
 * the build (-Xcc -I<source>/include, or the xcframework's Headers). */
#include <pincurl/pincurl.h>
