/* Status strings and names, generated from include/pincurl/status_list.h. */
#include "pincurl/common.h"

const char *pincurl_strerror(pincurl_status status)
{
    switch (status) {
#define PINCURL_STATUS(name, number, message) \
    case PINCURL_##name:                      \
        return message;
#include "pincurl/status_list.h"
#undef PINCURL_STATUS
    default:
        return "unknown status";
    }
}

const char *pincurl_status_name(pincurl_status status)
{
    switch (status) {
#define PINCURL_STATUS(name, number, message) \
    case PINCURL_##name:                      \
        return #name;
#include "pincurl/status_list.h"
#undef PINCURL_STATUS
    default:
        return NULL;
    }
}

const char *pincurl_version(void)
{
    return PINCURL_VERSION_STRING;
}
