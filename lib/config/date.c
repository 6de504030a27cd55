/*
 * Dates as a policy document writes them: "YYYY-MM-DD" or RFC 3339 date-time. The epoch
 * value is computed arithmetically (proleptic Gregorian calendar), so no time zone state
 * and no timegm()/mktime() are involved.
 */
#include "pincurl/policy.h"

#include <string.h>

/* Reads exactly n decimal digits; 0 if any is not a digit. */
static int read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Days from 0000-01-01 to y-01-01 (y >= 0); year 0 is a leap year. */
static int64_t days_before_year(int64_t y)
{
    int64_t leaps = (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
    return 365 * y + leaps;
}

/* Days from 1970-01-01 to the given valid date (negative before it). */
static int64_t days_since_epoch(int y, int m, int d)
{
    static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = days_before_year(y) - days_before_year(1970);
    days += before_month[m - 1];
    if (m > 2 && is_leap_year(y))
        days += 1;
    return days + (d - 1);
}

pincurl_status pincurl_parse_date(const char *text, int64_t *out)
{
    int year, month, day, hour = 0, minute = 0, second = 0;
    int64_t offset = 0;

    if (out != NULL)
        *out = 0;
    if (text == NULL || out == NULL)
        return PINCURL_POLICY_BAD_DATE;
    size_t len = strnlen(text, 64);
    if (len < 10 || len >= 64)
        return PINCURL_POLICY_BAD_DATE;
    if (!read_digits(text, 4, &year) || text[4] != '-' || !read_digits(text + 5, 2, &month) ||
        text[7] != '-' || !read_digits(text + 8, 2, &day))
        return PINCURL_POLICY_BAD_DATE;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return PINCURL_POLICY_BAD_DATE;

    const char *p = text + 10;
    if (*p != '\0') {
        /* RFC 3339 date-time: full-date "T" HH:MM:SS [.frac] ("Z" / +HH:MM / -HH:MM) */
        if ((*p != 'T' && *p != 't') || strlen(p) < 10)
            return PINCURL_POLICY_BAD_DATE;
        if (!read_digits(p + 1, 2, &hour) || p[3] != ':' || !read_digits(p + 4, 2, &minute) ||
            p[6] != ':' || !read_digits(p + 7, 2, &second))
            return PINCURL_POLICY_BAD_DATE;
        /* A leap second (60) counts as the first second of the next minute. */
        if (hour > 23 || minute > 59 || second > 60)
            return PINCURL_POLICY_BAD_DATE;
        p += 9;
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9')
                return PINCURL_POLICY_BAD_DATE;
            while (*p >= '0' && *p <= '9')
                p++; /* fractions of a second are dropped */
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            int sign = *p == '-' ? -1 : 1;
            if (strlen(p) < 6 || !read_digits(p + 1, 2, &oh) || p[3] != ':' ||
                !read_digits(p + 4, 2, &om) || oh > 23 || om > 59)
                return PINCURL_POLICY_BAD_DATE;
            offset = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
            p += 6;
        } else {
            return PINCURL_POLICY_BAD_DATE;
        }
        if (*p != '\0')
            return PINCURL_POLICY_BAD_DATE;
    }

    *out = days_since_epoch(year, month, day) * 86400 + (int64_t)hour * 3600 +
           (int64_t)minute * 60 + second - offset;
    return PINCURL_OK;
}
