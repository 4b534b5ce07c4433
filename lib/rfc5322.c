#include "config.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc5322.h"

struct ims_hdr {
	size_t off;       /* start of the field in buf */
	size_t len;       /* field length, final line end excluded */
	size_t name_len;  /* bytes before the colon, trailing blanks trimmed */
	size_t colon;     /* offset of the colon inside the field */
	const char *name; /* NUL-terminated copies in strings */
	const char *value;
	size_t value_len;
};

struct ims_msg {
	char *buf; /* copy of the raw bytes */
	size_t len;
	struct ims_hdr *hdrs;
	size_t nhdrs, cap;
	size_t body_off;
	char *strings; /* name\0value\0 for each field */
};

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the field name when line [p, p+n) starts a header field, 0
 * otherwise; *colon gets the offset of the colon. */
static size_t header_name(const char *p, size_t n, size_t *colon)
{
	const char *c = memchr(p, ':', n);
	size_t nl;

	if (!c || c == p)
		return 0;
	nl = (size_t)(c - p);
	*colon = nl;
	while (nl > 0 && is_wsp(p[nl - 1])) /* obs-optional: "Subject :" */
		nl--;
	if (nl == 0)
		return 0;
	for (size_t i = 0; i < nl; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 33 || ch > 126)
			return 0;
	}
	return nl;
}

static ims_status add_header(struct ims_msg *m, size_t max_headers, size_t off, size_t len,
                             size_t name_len, size_t colon)
{
	if (m->nhdrs >= max_headers)
		return IMS_ELIMIT;
	if (m->nhdrs == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 32;
		struct ims_hdr *n;

		if (ncap > max_headers)
			ncap = max_headers;
		n = realloc(m->hdrs, ncap * sizeof *n);
		if (!n)
			return IMS_ENOMEM;
		m->hdrs = n;
		m->cap = ncap;
	}
	m->hdrs[m->nhdrs++] =
	    (struct ims_hdr){.off = off, .len = len, .name_len = name_len, .colon = colon};
	return IMS_OK;
}

/* Copies every name and value into one NUL-terminated block. */
static ims_status make_strings(struct ims_msg *m)
{
	size_t total = 1, at = 0;

	for (size_t i = 0; i < m->nhdrs; i++)
		total += m->hdrs[i].len + 2;
	m->strings = malloc(total);
	if (!m->strings)
		return IMS_ENOMEM;
	for (size_t i = 0; i < m->nhdrs; i++) {
		struct ims_hdr *h = &m->hdrs[i];
		const char *f = m->buf + h->off;

		memcpy(m->strings + at, f, h->name_len);
		m->strings[at + h->name_len] = '\0';
		h->name = m->strings + at;
		at += h->name_len + 1;
		h->value_len = h->len - h->colon - 1;
		memcpy(m->strings + at, f + h->colon + 1, h->value_len);
		m->strings[at + h->value_len] = '\0';
		h->value = m->strings + at;
		at += h->value_len + 1;
	}
	return IMS_OK;
}

ims_status ims_msg_parse(const char *raw, size_t len, size_t max_headers, size_t max_header_size,
                         struct ims_msg **out)
{
	ims_status rc = IMS_ENOMEM;
	struct ims_msg *m = NULL;
	size_t pos = 0;
	int in_field = 0;

	if (!raw || !out)
		return IMS_EINVAL;
	*out = NULL;
	m = calloc(1, sizeof *m);
	if (!m)
		goto out;
	m->buf = malloc(len + 1);
	if (!m->buf)
		goto out;
	memcpy(m->buf, raw, len);
	m->buf[len] = '\0';
	m->len = len;
	m->body_off = len;

	if (len >= 5 && memcmp(m->buf, "From ", 5) == 0) { /* mbox separator */
		const char *nl = memchr(m->buf, '\n', len);
		pos = nl ? (size_t)(nl - m->buf) + 1 : len;
	}
	while (pos < len) {
		const char *p = m->buf + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t next = nl ? (size_t)(nl - m->buf) + 1 : len;
		size_t clen = (nl ? (size_t)(nl - p) : len - pos);
		size_t name_len, colon = 0;

		if (clen > 0 && p[clen - 1] == '\r')
			clen--;
		if (clen == 0) { /* the empty line: body follows */
			m->body_off = next;
			break;
		}
		if (is_wsp(p[0]) && in_field) {
			struct ims_hdr *h = &m->hdrs[m->nhdrs - 1];
			h->len = pos + clen - h->off;
			if (h->len > max_header_size) {
				rc = IMS_ELIMIT;
				goto out;
			}
			pos = next;
			continue;
		}
		name_len = is_wsp(p[0]) ? 0 : header_name(p, clen, &colon);
		if (name_len == 0) {
			if (m->nhdrs == 0) {
				rc = IMS_EFORMAT;
				goto out;
			}
			m->body_off = pos; /* not a header: the body starts here */
			break;
		}
		if (clen > max_header_size) {
			rc = IMS_ELIMIT;
			goto out;
		}
		rc = add_header(m, max_headers, pos, clen, name_len, colon);
		if (rc != IMS_OK)
			goto out;
		rc = IMS_ENOMEM;
		in_field = 1;
		pos = next;
	}
	if (m->nhdrs == 0) {
		rc = IMS_EFORMAT;
		goto out;
	}
	rc = make_strings(m);
	if (rc != IMS_OK)
		goto out;
	*out = m;
	m = NULL;
	rc = IMS_OK;
out:
	ims_msg_free(m);
	return rc;
}

void ims_msg_free(struct ims_msg *m)
{
	if (!m)
		return;
	free(m->buf);
	free(m->hdrs);
	free(m->strings);
	free(m);
}

size_t ims_msg_header_count(const struct ims_msg *m)
{
	return m ? m->nhdrs : 0;
}

ims_status ims_msg_header(const struct ims_msg *m, size_t i, const char **name, const char **value,
                          size_t *value_len)
{
	if (!m || i >= m->nhdrs)
		return IMS_EINVAL;
	if (name)
		*name = m->hdrs[i].name;
	if (value)
		*value = m->hdrs[i].value;
	if (value_len)
		*value_len = m->hdrs[i].value_len;
	return IMS_OK;
}

ims_status ims_msg_header_field(const struct ims_msg *m, size_t i, const char **field, size_t *len)
{
	if (!m || i >= m->nhdrs || !field || !len)
		return IMS_EINVAL;
	*field = m->buf + m->hdrs[i].off;
	*len = m->hdrs[i].len;
	return IMS_OK;
}

const char *ims_msg_find(const struct ims_msg *m, const char *name, size_t nth)
{
	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->nhdrs; i++)
		if (strcasecmp(m->hdrs[i].name, name) == 0 && nth-- == 0)
			return m->hdrs[i].value;
	return NULL;
}

size_t ims_msg_count(const struct ims_msg *m, const char *name)
{
	size_t n = 0;

	if (!m || !name)
		return 0;
	for (size_t i = 0; i < m->nhdrs; i++)
		if (strcasecmp(m->hdrs[i].name, name) == 0)
			n++;
	return n;
}

const char *ims_msg_body(const struct ims_msg *m, size_t *len)
{
	if (!m) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = m->len - m->body_off;
	return m->buf + m->body_off;
}

ims_status ims_msg_reheader(const char *raw, size_t len, size_t max_headers, size_t max_header_size,
                            const char *prepend, size_t plen, int (*drop)(const char *name),
                            const char *eol, char **out, size_t *outlen)
{
	struct ims_msg *msg = NULL;
	size_t el = strlen(eol), cap, n = 0;
	char *buf;
	ims_status rc;

	*out = NULL;
	*outlen = 0;
	rc = ims_msg_parse(raw, len, max_headers, max_header_size, &msg);
	if (rc != IMS_OK && rc != IMS_EFORMAT)
		return rc;
	/* every field may gain a line end, plus the blank line */
	cap = plen + len + el * ((msg ? ims_msg_header_count(msg) : 0) + 1) + 1;
	if (!(buf = malloc(cap))) {
		ims_msg_free(msg);
		return IMS_ENOMEM;
	}
	memcpy(buf, prepend, plen);
	n = plen;
	if (!msg) {
		if (!(len > 0 && raw[0] == '\n') &&
		    !(len > 1 && raw[0] == '\r' && raw[1] == '\n')) {
			memcpy(buf + n, eol, el);
			n += el;
		}
		memcpy(buf + n, raw, len);
		n += len;
	} else {
		size_t blen;
		const char *body = ims_msg_body(msg, &blen);

		for (size_t i = 0; i < ims_msg_header_count(msg); i++) {
			const char *name, *value, *field;
			size_t vlen, flen;

			ims_msg_header(msg, i, &name, &value, &vlen);
			if (drop && drop(name))
				continue;
			ims_msg_header_field(msg, i, &field, &flen);
			memcpy(buf + n, field, flen);
			n += flen;
			memcpy(buf + n, eol, el);
			n += el;
		}
		memcpy(buf + n, eol, el);
		n += el;
		memcpy(buf + n, body, blen);
		n += blen;
	}
	buf[n] = '\0';
	ims_msg_free(msg);
	*out = buf;
	*outlen = n;
	return IMS_OK;
}

size_t ims_msg_from_count(const struct ims_msg *m)
{
	return ims_msg_count(m, "From");
}

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
	g_mime_init();
}

/* Finds the first mailbox in list (groups are searched too) and counts
 * every mailbox. */
static InternetAddressMailbox *first_mailbox(InternetAddressList *list, size_t *count)
{
	InternetAddressMailbox *first = NULL;
	int n = internet_address_list_length(list);

	for (int i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			(*count)++;
			if (!first)
				first = INTERNET_ADDRESS_MAILBOX(a);
		} else if (INTERNET_ADDRESS_IS_GROUP(a)) {
			InternetAddressList *members =
			    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
			InternetAddressMailbox *mb = members ? first_mailbox(members, count) : NULL;
			if (!first)
				first = mb;
		}
	}
	return first;
}

ims_status ims_msg_from_domain(const struct ims_msg *m, char *out, size_t outlen, size_t *naddr)
{
	ims_status rc = IMS_ENOTFOUND;
	const char *value = ims_msg_find(m, "From", 0);
	InternetAddressList *list = NULL;
	InternetAddressMailbox *mb;
	const char *addr, *at;
	char *flat = NULL;
	size_t count = 0, n = 0, dlen;

	if (naddr)
		*naddr = 0;
	if (!out || outlen == 0)
		return IMS_EINVAL;
	out[0] = '\0';
	if (!value)
		return IMS_ENOTFOUND;
	/* unfold: GMime wants one logical line */
	flat = malloc(strlen(value) + 1);
	if (!flat)
		return IMS_ENOMEM;
	for (const char *p = value; *p; p++)
		if (*p != '\r' && *p != '\n')
			flat[n++] = *p;
	flat[n] = '\0';

	pthread_once(&gmime_once, gmime_start);
	list = internet_address_list_parse(NULL, flat);
	if (!list)
		goto out;
	mb = first_mailbox(list, &count);
	if (naddr)
		*naddr = count;
	if (!mb)
		goto out;
	addr = internet_address_mailbox_get_idn_addr(mb); /* A-labels, as DNS wants */
	if (!addr)
		addr = internet_address_mailbox_get_addr(mb);
	at = addr ? strrchr(addr, '@') : NULL;
	if (!at || !at[1])
		goto out;
	at++;
	dlen = strlen(at);
	if (dlen > 0 && at[dlen - 1] == '.') /* "example.com." */
		dlen--;
	if (dlen == 0)
		goto out;
	if (dlen >= outlen) {
		rc = IMS_ELIMIT;
		goto out;
	}
	for (size_t i = 0; i < dlen; i++)
		out[i] = (char)tolower((unsigned char)at[i]);
	out[dlen] = '\0';
	rc = IMS_OK;
out:
	if (list)
		g_object_unref(list);
	free(flat);
	return rc;
}

/* Calls fn for each mailbox of list (groups searched); non-zero stops. */
static int each_mailbox(InternetAddressList *list, int (*fn)(const char *addr, void *arg),
                        void *arg, size_t *seen)
{
	int n = internet_address_list_length(list);

	for (int i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX(a);
			const char *addr = internet_address_mailbox_get_idn_addr(mb);
			char buf[IMS_MSG_ADDR_MAX + 1] = "";
			size_t len;
			char *at;

			if (!addr)
				addr = internet_address_mailbox_get_addr(mb);
			len = addr ? strlen(addr) : 0;
			if (len <= IMS_MSG_ADDR_MAX) {
				memcpy(buf, addr ? addr : "", len + 1);
				at = strrchr(buf, '@');
				for (char *p = at ? at : buf + len; *p; p++)
					*p = (char)tolower((unsigned char)*p);
				if (at && len > 0 && buf[len - 1] == '.')
					buf[len - 1] = '\0';
			}
			(*seen)++;
			if (fn(buf, arg))
				return 1;
		} else if (INTERNET_ADDRESS_IS_GROUP(a)) {
			InternetAddressList *members =
			    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
			if (members && each_mailbox(members, fn, arg, seen))
				return 1;
		}
	}
	return 0;
}

ims_status ims_msg_from_addrs(const struct ims_msg *m, int (*fn)(const char *addr, void *arg),
                              void *arg)
{
	const char *value;
	size_t seen = 0;
	int stop = 0;

	pthread_once(&gmime_once, gmime_start);
	for (size_t nth = 0; !stop && (value = ims_msg_find(m, "From", nth)) != NULL; nth++) {
		InternetAddressList *list;
		char *flat = malloc(strlen(value) + 1);
		size_t n = 0;

		if (!flat)
			return IMS_ENOMEM;
		for (const char *p = value; *p; p++) /* unfold: GMime wants one line */
			if (*p != '\r' && *p != '\n')
				flat[n++] = *p;
		flat[n] = '\0';
		list = internet_address_list_parse(NULL, flat);
		free(flat);
		if (!list)
			continue;
		stop = each_mailbox(list, fn, arg, &seen);
		g_object_unref(list);
	}
	return seen ? IMS_OK : IMS_ENOTFOUND;
}
