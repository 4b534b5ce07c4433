/* Network addresses as ims.conf spells them: one parser for each form, used by
 * the config check and by the code that uses the value, so both agree.
 *
 *   CIDR          "10.0.0.0/8", "2001:db8::/32", or a bare address
 *   host:port     "127.0.0.1:53", "[::1]:53" (port optional where noted)
 *   milter socket "unix:/path", "local:/path", "inet:PORT@HOST", "inet6:PORT@HOST"
 *
 * All functions are pure: no allocation, no DNS. */
#ifndef IMS_NETADDR_H
#define IMS_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct ims_cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network address, host bits as written */
	int bits;               /* prefix length */
};

/* Parses a CIDR or a bare address (a full-length prefix).  IMS_EINVAL with a
 * reason in why (whylen bytes) when it is not one; host bits set beyond the
 * prefix are an error too ("10.1.2.3/8" is almost always a typo). */
ims_status ims_cidr_parse(const char *text, struct ims_cidr *out, char *why, size_t whylen);

/* 1 when the textual address ip lies in c. */
int ims_cidr_contains(const struct ims_cidr *c, const char *ip);

/* 1 when ip lies in one of the NULL-terminated CIDR strings (bad entries
 * never match; the config check refuses them before they get here). */
int ims_ip_in_cidrs(const char *ip, char *const *cidrs);

/* Checks "host:port" (host an IPv4 address or a bracketed IPv6 address);
 * with port_optional a bare address is accepted. */
ims_status ims_hostport_check(const char *text, bool port_optional, char *why, size_t whylen);

/* Checks a libmilter socket spec as smfi_setconn takes it. */
ims_status ims_milter_socket_check(const char *text, char *why, size_t whylen);

#endif
