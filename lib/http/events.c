/* Event accessors (pincurl/events.h). An event is a stack value built by its raiser; the
 * accessors only read it. */
#include "http/http.h"

pincurl_event_kind pincurl_event_get_kind(const pincurl_event *ev)
{
    return ev != NULL ? ev->kind : PINCURL_EVENT_VALIDATION;
}

const char *pincurl_event_kind_name(pincurl_event_kind kind)
{
    switch (kind) {
    case PINCURL_EVENT_VALIDATION:
        return "VALIDATION";
    case PINCURL_EVENT_CERT_CHANGED:
        return "CERT_CHANGED";
    case PINCURL_EVENT_POLICY_EXPIRING:
        return "POLICY_EXPIRING";
    case PINCURL_EVENT_LEAF_EXPIRING:
        return "LEAF_EXPIRING";
    case PINCURL_EVENT_POLICY_CHANGED:
        return "POLICY_CHANGED";
    case PINCURL_EVENT_REPORT_QUEUED:
        return "REPORT_QUEUED";
    case PINCURL_EVENT_REPORT_DROPPED:
        return "REPORT_DROPPED";
    case PINCURL_EVENT_REPORT_SENT:
        return "REPORT_SENT";
    case PINCURL_EVENT_UPDATE_APPLIED:
        return "UPDATE_APPLIED";
    case PINCURL_EVENT_UPDATE_REJECTED:
        return "UPDATE_REJECTED";
    case PINCURL_EVENT_UPDATE_BASE_RESTORED:
        return "UPDATE_BASE_RESTORED";
    case PINCURL_EVENT_REPORT_SET_ASIDE:
        return "REPORT_SET_ASIDE";
    }
    return "UNKNOWN";
}

const char *pincurl_event_host(const pincurl_event *ev)
{
    return ev != NULL && ev->host != NULL ? ev->host : "";
}

unsigned pincurl_event_port(const pincurl_event *ev)
{
    return ev != NULL ? ev->port : 0;
}

const pincurl_verdict *pincurl_event_verdict(const pincurl_event *ev)
{
    return ev != NULL ? ev->verdict : NULL;
}

pincurl_result pincurl_event_result(const pincurl_event *ev)
{
    return ev != NULL && ev->verdict != NULL ? ev->verdict->result
                                             : PINCURL_RESULT_INVALID_PARAMETERS;
}

pincurl_decision pincurl_event_decision(const pincurl_event *ev)
{
    return ev != NULL && ev->verdict != NULL ? ev->verdict->decision : PINCURL_DECISION_BLOCK;
}

const pincurl_pin *pincurl_event_matched_pin(const pincurl_event *ev)
{
    if (ev == NULL || ev->verdict == NULL || ev->verdict->matched_depth < 0)
        return NULL;
    return &ev->verdict->matched_pin;
}

size_t pincurl_event_path_count(const pincurl_event *ev)
{
    return ev != NULL && ev->path != NULL ? ev->path_len : 0;
}

const unsigned char *pincurl_event_path_cert(const pincurl_event *ev, size_t i, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (ev == NULL || ev->path == NULL || i >= ev->path_len)
        return NULL;
    if (len != NULL)
        *len = ev->path[i].len;
    return ev->path[i].der;
}

const pincurl_pin *pincurl_event_path_pin(const pincurl_event *ev, size_t i)
{
    if (ev == NULL || ev->verdict == NULL || i >= ev->verdict->path_len)
        return NULL;
    return &ev->verdict->path_pins[i];
}

size_t pincurl_event_served_count(const pincurl_event *ev)
{
    return ev != NULL && ev->served != NULL ? ev->served_len : 0;
}

const unsigned char *pincurl_event_served_cert(const pincurl_event *ev, size_t i, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (ev == NULL || ev->served == NULL || i >= ev->served_len)
        return NULL;
    if (len != NULL)
        *len = ev->served[i].len;
    return ev->served[i].der;
}

const pincurl_pin *pincurl_event_old_pin(const pincurl_event *ev)
{
    return ev != NULL ? ev->old_pin : NULL;
}

int64_t pincurl_event_expires(const pincurl_event *ev)
{
    return ev != NULL ? ev->expires : 0;
}

uint64_t pincurl_event_duration_us(const pincurl_event *ev)
{
    return ev != NULL ? ev->duration_us : 0;
}

uint64_t pincurl_event_generation(const pincurl_event *ev)
{
    return ev != NULL ? ev->generation : 0;
}

pincurl_status pincurl_event_status(const pincurl_event *ev)
{
    return ev != NULL ? ev->status : PINCURL_INVALID_ARGUMENT;
}

const char *pincurl_event_message(const pincurl_event *ev)
{
    return ev != NULL && ev->message != NULL ? ev->message : "";
}
