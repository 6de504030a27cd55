/* pincurl: a pinning-aware HTTPS client on libcurl. Include this one header. */
#ifndef PINCURL_H
#define PINCURL_H

#include "pincurl/common.h"
#include "pincurl/core.h"
#include "pincurl/policy.h"
#include "pincurl/events.h"
#include "pincurl/client.h"
#include "pincurl/update.h"
#include "pincurl/cert.h"

#endif /* PINCURL_H */
