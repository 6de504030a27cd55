/* Internal: IP literal parsing and formatting shared by the core (no libc networking). */
#ifndef PINCURL_CORE_HOST_H
#define PINCURL_CORE_HOST_H

#include "pincurl/core.h"

/* Longest RFC 5952 text of an IPv6 address, with its NUL. */
#define PC_HOST_IPV6_TEXT_MAX 46

/* 1 if addr is an IPv4-mapped IPv6 address (::ffff:0:0/96). */
int pc_host_ipv4_mapped(const unsigned char addr[16]);

/* 1 if s[0..len) is exactly four decimal octets 0..255 without leading zeros. */
int pc_host_parse_ipv4(const char *s, size_t len, unsigned char out[4]);

/* 1 if s[0..len) is an IPv6 address (no brackets, no zone id), "::" and an IPv4 tail
 * allowed; out receives the 16 bytes. */
int pc_host_parse_ipv6(const char *s, size_t len, unsigned char out[16]);

/* Writes addr in RFC 5952 form (IPv4-mapped with a dotted tail); returns its length. */
size_t pc_host_format_ipv6(const unsigned char addr[16], char out[PC_HOST_IPV6_TEXT_MAX]);

#endif
