/* Impersonation and look-alike checks: see bec.h. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bec.h"
#include "normalize.h"
#include "orgdomain.h"
#include "urls.h"

#define LABEL_MAX 256 /* a skeleton of a 63-byte label, or a domain's */

/* ASCII look-alikes, applied to the lower-case skeleton. */
static const struct {
	const char *from, *to;
} ascii_alikes[] = {{"rn", "m"}, {"vv", "w"}, {"cl", "d"}, {"0", "o"}, {"1", "l"}, {"|", "l"}};

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

int ims_bec_skeleton(const char *name, char *out, size_t outlen)
{
	char *uni = NULL, *nfkc = NULL, *fold = NULL;
	GString *s = NULL;
	int rc = -1;

	if (!name || !*name)
		return -1;
	if (is_ascii(name) && !strstr(name, "xn--") && !strstr(name, "XN--")) {
		/* ASCII: NFKC and case folding are lower-casing; the look-alikes */
		size_t o = 0;

		for (const char *p = name; *p; p++) {
			char c = g_ascii_tolower(*p);
			const char *t = NULL;
			size_t skip = 0;

			for (size_t i = 0; i < sizeof ascii_alikes / sizeof ascii_alikes[0] && !t;
			     i++) {
				size_t fl = strlen(ascii_alikes[i].from);

				if (c == ascii_alikes[i].from[0] &&
				    (fl == 1 || g_ascii_tolower(p[1]) == ascii_alikes[i].from[1]))
					t = ascii_alikes[i].to, skip = fl - 1;
			}
			if (o + 2 > outlen)
				return -1;
			out[o++] = t ? t[0] : c;
			p += skip;
		}
		out[o] = '\0';
		return 0;
	}
	if (!g_utf8_validate(name, -1, NULL))
		return -1;
	/* punycode labels decoded (GLib's IDNA); names that are not valid
	 * host names are taken as they are */
	uni = ims_url_host_to_unicode(name);
	nfkc = g_utf8_normalize(uni ? uni : name, -1, G_NORMALIZE_NFKC);
	if (!nfkc)
		goto out;
	fold = g_utf8_casefold(nfkc, -1);
	s = g_string_new(NULL);
	for (const char *p = fold; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		unsigned l = ims_confusable_latin(c);

		if (l)
			g_string_append_c(s, (char)g_ascii_tolower((char)l));
		else
			g_string_append_unichar(s, c);
	}
	for (size_t i = 0; i < sizeof ascii_alikes / sizeof ascii_alikes[0]; i++) {
		const char *f = ascii_alikes[i].from, *t = ascii_alikes[i].to;
		char *hit;
		size_t at = 0;

		while ((hit = strstr(s->str + at, f))) {
			size_t pos = (size_t)(hit - s->str);

			g_string_erase(s, (gssize)pos, (gssize)strlen(f));
			g_string_insert(s, (gssize)pos, t);
			at = pos + strlen(t);
		}
	}
	if (s->len + 1 > outlen)
		goto out;
	memcpy(out, s->str, s->len + 1);
	rc = 0;
out:
	if (s)
		g_string_free(s, TRUE);
	g_free(uni);
	g_free(nfkc);
	g_free(fold);
	return rc;
}

int ims_bec_edit_distance(const char *a, const char *b, int cap)
{
	size_t n = strlen(a), m = strlen(b);
	int prev2[LABEL_MAX + 1], prev[LABEL_MAX + 1], cur[LABEL_MAX + 1];

	if (n > LABEL_MAX || m > LABEL_MAX)
		return cap + 1;
	if ((n > m ? n - m : m - n) > (size_t)cap)
		return cap + 1;
	for (size_t j = 0; j <= m; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		int best;

		cur[0] = (int)i;
		best = cur[0];
		for (size_t j = 1; j <= m; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1; /* adjacent transposition */
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
		memcpy(prev2, prev, (m + 1) * sizeof prev[0]);
		memcpy(prev, cur, (m + 1) * sizeof cur[0]);
	}
	return prev[m] > cap ? cap + 1 : prev[m];
}

/* The registrable domain of host in ASCII (A-labels), or host itself. */
static int registrable(const char *host, char *out, size_t outlen)
{
	char *ascii;
	int rc = -1;

	if (is_ascii(host)) /* ims_orgdomain lower-cases; IDNA only for the rest */
		return ims_orgdomain(host, out, outlen) == IMS_OK ||
		               (size_t)snprintf(out, outlen, "%s", host) < outlen
		           ? 0
		           : -1;
	ascii = g_hostname_to_ascii(host);

	if (!ascii)
		return -1;
	for (char *p = ascii; *p; p++)
		*p = g_ascii_tolower(*p);
	if (ims_orgdomain(ascii, out, outlen) == IMS_OK ||
	    (size_t)snprintf(out, outlen, "%s", ascii) < outlen)
		rc = 0;
	g_free(ascii);
	return rc;
}

/* One side of a comparison: the registrable domain's first label and its
 * skeleton. */
struct side {
	char label[LABEL_MAX], skel[LABEL_MAX], reg[LABEL_MAX];
};

static int side_of(const char *domain, struct side *s)
{
	char *dot;

	if (registrable(domain, s->reg, sizeof s->reg) != 0)
		return -1;
	snprintf(s->label, sizeof s->label, "%s", s->reg);
	if ((dot = strchr(s->label, '.')))
		*dot = '\0';
	return ims_bec_skeleton(s->label, s->skel, sizeof s->skel);
}

static int compare(const struct side *a, const struct side *b, int max_edit_distance,
                   int min_label_length, char *why, size_t whylen)
{
	int d;

	if (strcmp(a->reg, b->reg) == 0 || strcmp(a->label, b->label) == 0)
		return 0; /* the same, or the same name under another suffix: not judged */
	if (strcmp(a->skel, b->skel) == 0) {
		snprintf(why, whylen, "%s",
		         strncmp(a->label, "xn--", 4) == 0 ? "punycode confusable" : "confusable");
		return 1;
	}
	if ((int)strlen(b->skel) < min_label_length || max_edit_distance < 1)
		return 0;
	d = ims_bec_edit_distance(a->skel, b->skel, max_edit_distance);
	if (d <= max_edit_distance) {
		snprintf(why, whylen, "edit distance %d", d);
		return 1;
	}
	return 0;
}

int ims_bec_lookalike(const char *domain, const char *protected, int max_edit_distance,
                      int min_label_length, char *why, size_t whylen)
{
	struct side a, b;

	if (why && whylen)
		why[0] = '\0';
	if (!domain || !protected || side_of(domain, &a) != 0 || side_of(protected, &b) != 0)
		return 0;
	return compare(&a, &b, max_edit_distance, min_label_length, why, whylen);
}

static int invisible(gunichar c)
{
	return c == 0x00AD || c == 0x034F || c == 0x180E || (c >= 0x200B && c <= 0x200F) ||
	       (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF;
}

int ims_bec_name_key(const char *name, char *out, size_t outlen)
{
	char *valid, *nfkc, *fold;
	size_t o = 0;
	int space = 1;

	if (!name || outlen < 2)
		return -1;
	/* a long name is cut, never skipped (padding must not hide a name);
	 * bytes that are not UTF-8 become U+FFFD */
	valid = g_utf8_make_valid(name, (gssize)strnlen(name, IMS_BEC_MAX_NAME));
	nfkc = g_utf8_normalize(valid, -1, G_NORMALIZE_NFKC);
	g_free(valid);
	if (!nfkc)
		return -1;
	fold = g_utf8_casefold(nfkc, -1);
	g_free(nfkc);
	for (const char *p = fold; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		unsigned l = ims_confusable_latin(c);
		char buf[8];
		int n;

		if (invisible(c))
			continue; /* "Ali\u200Bce" is "alice" */
		if (g_unichar_isspace(c) || c == '"' || c == '\'' || c == 0x00A0) {
			if (!space && o + 1 < outlen)
				out[o++] = ' ';
			space = 1;
			continue;
		}
		n = l ? (buf[0] = (char)g_ascii_tolower((char)l), 1) : g_unichar_to_utf8(c, buf);
		if (o + (size_t)n + 1 > outlen)
			break; /* cut at a character */
		memcpy(out + o, buf, (size_t)n);
		o += (size_t)n;
		space = 0;
	}
	g_free(fold);
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o ? 0 : -1;
}

static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && at[1] ? at + 1 : NULL;
}

/* domain is d or a subdomain of d */
static int under(const char *domain, const char *d)
{
	size_t dl = strlen(domain), l = strlen(d);

	return strcasecmp(domain, d) == 0 ||
	       (dl > l && domain[dl - l - 1] == '.' && strcasecmp(domain + dl - l, d) == 0);
}

static int in_list(const char *domain, const char *const *list)
{
	for (; list && *list; list++)
		if (under(domain, *list))
			return 1;
	return 0;
}

static void check_lookalike(const struct ims_bec_input *in, const char *fd, ims_heur_emit emit,
                            void *arg)
{
	const char *const *lists[] = {in->local_domains, in->protected_domains,
	                              in->correspondent_domains};
	const char *syms[] = {"BEC_LOOKALIKE_DOMAIN", "BEC_LOOKALIKE_DOMAIN",
	                      "BEC_LOOKALIKE_CORRESPONDENT"};
	struct side from, other;

	if (side_of(fd, &from) != 0)
		return;
	for (int k = 0; k < 3; k++) {
		for (const char *const *p = lists[k]; p && *p; p++) {
			char why[64], detail[600];

			if (side_of(*p, &other) != 0 ||
			    !compare(&from, &other, in->max_edit_distance, in->min_label_length,
			             why, sizeof why))
				continue;
			snprintf(detail, sizeof detail, "%s looks like %s (%s)", fd, *p, why);
			emit(arg, syms[k], detail);
			return; /* one look-alike finding per message */
		}
	}
}

static void check_display_name(const struct ims_bec_input *in, ims_heur_emit emit, void *arg)
{
	char key[IMS_BEC_MAX_NAME * 4], pkey[IMS_BEC_MAX_NAME * 4], detail[1200];

	if (!in->from_name || ims_bec_name_key(in->from_name, key, sizeof key) != 0)
		return;
	if (in->learned_name_owner && *in->learned_name_owner) {
		snprintf(detail, sizeof detail, "\"%s\" is the name of %s; From %s", key,
		         in->learned_name_owner, in->from_addr);
		emit(arg, "BEC_DISPLAY_NAME_LOCAL_USER", detail);
		return;
	}
	for (const char *const *p = in->protected_names; p && *p; p++) {
		const char *hit;
		size_t pl;

		if (ims_bec_name_key(*p, pkey, sizeof pkey) != 0)
			continue;
		pl = strlen(pkey);
		/* the whole name, or the protected name as whole words in it */
		for (hit = strstr(key, pkey); hit; hit = strstr(hit + 1, pkey))
			if ((hit == key || hit[-1] == ' ' || !g_ascii_isalnum(hit[-1])) &&
			    (!g_ascii_isalnum(hit[pl])))
				break;
		if (hit) {
			snprintf(detail, sizeof detail, "\"%s\" names protected \"%s\"; From %s",
			         key, *p, in->from_addr);
			emit(arg, "BEC_DISPLAY_NAME_LOCAL_USER", detail);
			return;
		}
	}
}

static void check_reply_to(const struct ims_bec_input *in, const char *fd, ims_heur_emit emit,
                           void *arg)
{
	const char *rd = domain_of(in->reply_to);
	char fo[LABEL_MAX], ro[LABEL_MAX], detail[600];

	if (!rd || registrable(rd, ro, sizeof ro) != 0 || registrable(fd, fo, sizeof fo) != 0 ||
	    strcmp(ro, fo) == 0 || in_list(rd, in->local_domains))
		return;
	snprintf(detail, sizeof detail, "Reply-To %s, From %s", in->reply_to, in->from_addr);
	if (in_list(rd, in->freemail_domains))
		emit(arg, "BEC_REPLY_TO_FREEMAIL", detail);
	else if (!in->list_mail)
		emit(arg, "BEC_REPLY_TO_UNRELATED", detail);
}

void ims_bec_run(const struct ims_bec_input *in, ims_heur_emit emit, void *arg)
{
	const char *fd = domain_of(in->from_addr);

	if (!fd || in_list(fd, in->local_domains))
		return; /* only external senders impersonate */
	check_lookalike(in, fd, emit, arg);
	check_display_name(in, emit, arg);
	check_reply_to(in, fd, emit, arg);
}
