/* Tokenizer and feature hashing: see features.h. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "featurize.h"
#include "normalize.h"
#include "orgdomain.h"
#include "urls.h"

#define TOKBUF 320 /* prefix + a host name of up to 253 bytes */
#define TOKPAD 8   /* zero bytes after each token: the hash reads whole words */

enum {
	C_SEP = 1,
	C_TRIM = 2,
	C_NUMPUNCT = 4,
	C_WORD = 8,
	C_DIGIT = 16,
	C_ALPHA = 32,
	C_LOWER = 64,
	C_HIGH = 128 /* a byte of a UTF-8 multi-byte sequence */
};
static unsigned char cclass[256];
static unsigned char lctab[256]; /* ASCII lower case, other bytes as they are */
static pthread_once_t cclass_once = PTHREAD_ONCE_INIT;

static void cclass_init(void)
{
	for (int c = 0; c < 256; c++) {
		lctab[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		if (c >= 'a' && c <= 'z')
			cclass[c] |= C_WORD | C_ALPHA | C_LOWER;
		else if (c >= 'A' && c <= 'Z')
			cclass[c] |= C_WORD | C_ALPHA;
		else if (c >= '0' && c <= '9')
			cclass[c] |= C_WORD | C_DIGIT;
		else if (c >= 0x80)
			cclass[c] |= C_WORD | C_HIGH;
	}
	for (int c = 0; c <= ' '; c++)
		cclass[c] |= C_SEP;
	cclass[0x7f] |= C_SEP;
	for (const char *p = "\"'`<>()[]{},;!?*|\\^~=+"; *p; p++)
		cclass[(unsigned char)*p] |= C_SEP;
	for (const char *p = ".:-_/@#&%$"; *p; p++)
		cclass[(unsigned char)*p] |= C_TRIM;
	for (const char *p = ".,:-/"; *p; p++)
		cclass[(unsigned char)*p] |= C_NUMPUNCT;
}

static int is_sep(unsigned char c)
{
	return cclass[c] & C_SEP;
}

/* prefix + one letter, e.g. "W" + 'U' -> "WU" */
static void pfx2(char out[24], const char *pfx, char kind)
{
	size_t n = strlen(pfx);

	if (n > 22)
		n = 22;
	memcpy(out, pfx, n);
	out[n] = kind;
	out[n + 1] = '\0';
}

/* letters, digits and bytes >= 0x80 (UTF-8 sequences) */
static int is_word(unsigned char c)
{
	return cclass[c] & C_WORD;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static char lc(char c)
{
	return (char)lctab[(unsigned char)c];
}

/* The token head[0..hl) + the case folding of s[0..n) when it is valid
 * UTF-8 (raw header bytes, a cut or a 3-gram may not be: then ASCII
 * lower-casing, as for any byte string). */
static void emit_folded(ims_token_fn fn, void *ctx, char *head, size_t hl, const char *s, size_t n)
{
	char *f;
	size_t fl;

	if (!g_utf8_validate(s, (gssize)n, NULL)) {
		if (hl + n >= TOKBUF)
			n = TOKBUF - hl - 1;
		for (size_t i = 0; i < n; i++)
			head[hl + i] = (char)lctab[(unsigned char)s[i]];
		memset(head + hl + n, 0, TOKPAD);
		fn(ctx, head, hl + n);
		return;
	}
	f = g_utf8_casefold(s, (gssize)n);
	if (!f)
		return;
	fl = strlen(f);
	if (hl + fl >= TOKBUF) {
		fl = TOKBUF - hl - 1;
		while (fl > 0 && ((unsigned char)f[fl] & 0xC0) == 0x80)
			fl--; /* cut at a character boundary */
	}
	memcpy(head + hl, f, fl);
	memset(head + hl + fl, 0, TOKPAD);
	g_free(f);
	fn(ctx, head, hl + fl);
}

/* Emits prefix + ":" + s[0..n) (lower-cased if lower) through fn.  The token
 * is followed by TOKPAD zero bytes (its NUL and more), which hash_token()
 * relies on when it is the consumer. */
static void emit(ims_token_fn fn, void *ctx, const char *prefix, const char *s, size_t n, int lower)
{
	char buf[TOKBUF + TOKPAD];
	size_t pl = strlen(prefix);
	char *d;

	if (pl + 1 + n >= TOKBUF)
		n = TOKBUF - pl - 2;
	memcpy(buf, prefix, pl);
	buf[pl] = ':';
	d = buf + pl + 1;
	if (lower) {
		unsigned high = 0;

		for (size_t i = 0; i < n; i++) {
			d[i] = (char)lctab[(unsigned char)s[i]];
			high |= (unsigned char)s[i];
		}
		if (high & 0x80) { /* other letters than ASCII: Unicode case folding */
			emit_folded(fn, ctx, buf, pl + 1, s, n);
			return;
		}
	} else {
		memcpy(d, s, n);
	}
	memset(d + n, 0, TOKPAD);
	fn(ctx, buf, pl + 1 + n);
}

static void emit_str(ims_token_fn fn, void *ctx, const char *prefix, const char *s)
{
	emit(fn, ctx, prefix, s, strlen(s), 1);
}

/* A host name: the whole name and its registrable domain (lib/orgdomain.h,
 * the Public Suffix List, as the heuristics and DMARC compute it). */
static void emit_host(ims_token_fn fn, void *ctx, const char *prefix, const char *h, size_t n)
{
	size_t dots = 0, i;
	int numeric = 1;

	while (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		if (h[i] == '.')
			dots++;
		else if (!is_digit((unsigned char)h[i]))
			numeric = 0;
	}
	if (numeric) {
		emit(fn, ctx, prefix, "ip-literal", 10, 0);
		return;
	}
	emit(fn, ctx, prefix, h, n, 1);
	if (dots >= 2 && n <= IMS_URL_MAX_HOST) {
		char name[IMS_URL_MAX_HOST + 1], org[IMS_URL_MAX_HOST + 1];

		memcpy(name, h, n);
		name[n] = '\0';
		if (ims_orgdomain(name, org, sizeof org) == IMS_OK && strlen(org) < n)
			emit(fn, ctx, prefix, org, strlen(org), 1);
	}
}

static void url_chunk(const char *c, size_t n, const char *pfx, ims_token_fn fn, void *ctx)
{
	struct ims_url_host h;
	char p2[24];

	if (ims_url_host(c, n, &h) != IMS_OK)
		return;
	pfx2(p2, pfx, 'U');
	emit_host(fn, ctx, p2, h.host, strlen(h.host));
	if (h.flags & IMS_URL_USERINFO)
		emit_str(fn, ctx, p2, "userinfo"); /* user@host: a classic obfuscation */
}

static void word_chunk(const char *c, size_t n, const char *pfx, ims_token_fn fn, void *ctx)
{
	size_t i = 0;
	char kp[24] = "";

	while (i < n) {
		while (i < n && !is_word((unsigned char)c[i]))
			i++;
		size_t st = i;
		int upper = 1, alpha = 0;

		while (i < n && is_word((unsigned char)c[i])) {
			unsigned char ch = (unsigned char)c[i];

			if (ch >= 'a' && ch <= 'z')
				upper = 0;
			if (cclass[ch] & C_ALPHA)
				alpha = 1;
			i++;
		}
		size_t wl = i - st;

		if (wl < 2)
			continue;
		if (wl > IMS_TOKEN_MAX) {
			emit(fn, ctx, pfx, "#long", 5, 0);
			continue;
		}
		emit(fn, ctx, pfx, c + st, wl, 1);
		if (upper && alpha && wl >= 3) {
			if (!kp[0])
				pfx2(kp, pfx, 'K');
			emit(fn, ctx, kp, c + st, wl, 0); /* SHOUTING keeps its case */
		}
	}
}

static void chunk(const char *c, size_t n, const char *pfx, ims_token_fn fn, void *ctx)
{
	char p2[24];
	size_t i, digits = 0, dots = 0, alpha = 0;
	int colon = 0, dot_after_at = 0;
	const char *at;

	/* trim punctuation around the chunk */
	while (n > 0 && (cclass[(unsigned char)*c] & C_TRIM)) {
		if (*c == '$' && n > 1 && is_digit((unsigned char)c[1]))
			emit_str(fn, ctx, pfx, "#money");
		c++;
		n--;
	}
	while (n > 0 && (cclass[(unsigned char)c[n - 1]] & C_TRIM))
		n--;
	if (n == 0)
		return;

	/* one pass for what the tests below need */
	at = NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		unsigned cl = cclass[ch];

		if (cl & C_DIGIT)
			digits++;
		else if (cl & C_ALPHA)
			alpha++;
		else if (ch == '.')
			dots++, dot_after_at |= at != NULL;
		else if (ch == ':')
			colon = 1;
		else if (ch == '@' && !at)
			at = c + i;
	}
	if ((n > 7 && colon && memmem(c, n, "://", 3)) ||
	    (n > 4 && lctab[(unsigned char)c[0]] == 'w' && lctab[(unsigned char)c[1]] == 'w' &&
	     lctab[(unsigned char)c[2]] == 'w' && c[3] == '.')) {
		url_chunk(c, n, pfx, fn, ctx);
		return;
	}
	if (at && at > c && dot_after_at) {
		pfx2(p2, pfx, 'E');
		emit_host(fn, ctx, p2, at + 1, (size_t)(c + n - at - 1));
		emit_str(fn, ctx, pfx, "#email");
		return;
	}
	if (digits > 0 && alpha == 0) {
		/* a number: small ones as they are, long ones by their shape */
		int only_digits_and_punct = 1;

		for (i = 0; i < n; i++)
			if (!is_digit((unsigned char)c[i]) &&
			    !(cclass[(unsigned char)c[i]] & C_NUMPUNCT))
				only_digits_and_punct = 0;
		if (only_digits_and_punct) {
			pfx2(p2, pfx, 'N');
			if (digits <= 4) {
				emit(fn, ctx, p2, c, n, 0);
			} else {
				/* "#5" .. "#12" */
				char shape[4] = {'#', '1', '\0', '\0'};
				size_t d = digits > 12 ? 12 : digits;

				if (d >= 10)
					shape[2] = (char)('0' + d - 10);
				else
					shape[1] = (char)('0' + d);
				emit(fn, ctx, p2, shape, strlen(shape), 0);
			}
			return;
		}
	}
	if (dots > 0 && alpha > 0) {
		/* a domain: labels of word chars and '-', a 2..6 letter TLD */
		const char *last = memrchr(c, '.', n);
		size_t tl = (size_t)(c + n - last - 1);
		int ok = tl >= 2 && tl <= 6 && last > c;

		for (i = 0; ok && i < tl; i++) {
			char ch = lc(last[1 + i]);

			ok = ch >= 'a' && ch <= 'z';
		}
		for (i = 0; ok && i < n; i++)
			ok = is_word((unsigned char)c[i]) || c[i] == '.' || c[i] == '-';
		if (ok) {
			pfx2(p2, pfx, 'D');
			emit_host(fn, ctx, p2, c, n);
			return;
		}
	}
	word_chunk(c, n, pfx, fn, ctx);
}

/* A token buffer whose head, prefix and ':', is written once per text. */
struct tokbuf {
	char buf[TOKBUF + TOKPAD];
	size_t head;
};

/* A chunk of word characters only (acc: its character classes ORed): one
 * word, exactly what chunk() and word_chunk() make of it, without their
 * passes over it, lower-cased after the prebuilt head in tb (what emit()
 * would build).  Most chunks of mail text are such plain words. */
static void plain_word(const char *c, size_t n, unsigned acc, const char *pfx, struct tokbuf *tb,
                       ims_token_fn fn, void *ctx)
{
	char *d = tb->buf + tb->head;

	if (n < 2)
		return;
	if (n > IMS_TOKEN_MAX) {
		emit(fn, ctx, pfx, "#long", 5, 0);
		return;
	}
	if (tb->head + n >= TOKBUF) /* as in emit(); not with IMS_TOKEN_MAX 40 */
		n = TOKBUF - tb->head - 1;
	if (acc & C_HIGH) {
		emit_folded(fn, ctx, tb->buf, tb->head, c, n);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = (char)lctab[(unsigned char)c[i]];
		memset(d + n, 0, TOKPAD);
		fn(ctx, tb->buf, tb->head + n);
	}
	if (!(acc & C_LOWER) && (acc & C_ALPHA) && n >= 3) {
		char kp[24];

		pfx2(kp, pfx, 'K');
		emit(fn, ctx, kp, c, n, 0); /* SHOUTING keeps its case */
	}
}

static void tokenize(const char *text, size_t len, const char *pfx, ims_token_fn fn, void *ctx)
{
	size_t i = 0, pl = strlen(pfx);
	struct tokbuf tb;

	if (pl > TOKBUF - 2)
		pl = TOKBUF - 2;
	memcpy(tb.buf, pfx, pl);
	tb.buf[pl] = ':';
	tb.head = pl + 1;

	while (i < len) {
		while (i < len && is_sep((unsigned char)text[i]))
			i++;
		size_t st = i;
		unsigned acc = 0, cl;

		while (i < len && !((cl = cclass[(unsigned char)text[i]]) & C_SEP)) {
			acc |= cl;
			i++;
		}
		if (i == st)
			continue;
		/* no punctuation (every non-separator that is not a word character
		 * is C_TRIM) and not a number: a plain word */
		if (!(acc & C_TRIM) && (acc & (C_ALPHA | C_DIGIT)) != C_DIGIT)
			plain_word(text + st, i - st, acc, pfx, &tb, fn, ctx);
		else
			chunk(text + st, i - st, pfx, fn, ctx);
	}
}

/* Character 3-grams of each word of text (lower-cased), the word padded
 * with a space on each side: "free" gives " fr", "fre", "ree", "ee ".  For
 * short texts (Subject, From display name): they keep part of a word that
 * was spelled to dodge the word tokens ("fr-ee", "v1agra").  text is valid
 * UTF-8 (tokenize_norm's) and a word is a run of whole characters. */
#define NGRAM_N 3
static void char_ngrams(const char *text, size_t len, const char *pfx, ims_token_fn fn, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && !is_word((unsigned char)text[i]))
			i++;
		size_t st = i;

		while (i < len && is_word((unsigned char)text[i]))
			i++;
		if (i == st || i - st > IMS_TOKEN_MAX)
			continue;
		/* " word " and where each of its characters starts */
		char w[IMS_TOKEN_MAX + 3];
		size_t wl = i - st + 2, off[IMS_TOKEN_MAX + 3], nc = 0;

		w[0] = ' ';
		memcpy(w + 1, text + st, i - st);
		w[wl - 1] = ' ';
		w[wl] = '\0';
		for (size_t k = 0; k < wl; k = (size_t)(g_utf8_next_char(w + k) - w))
			off[nc++] = k;
		off[nc] = wl;
		for (size_t k = 0; k + NGRAM_N <= nc; k++)
			emit(fn, ctx, pfx, w + off[k], off[k + NGRAM_N] - off[k], 1);
	}
}

/* tokenize() after Unicode normalisation (normalize.h); ngram_pfx: also
 * the character 3-grams under that prefix (NULL: none). */
static void tokenize_norm(const char *text, size_t len, const char *pfx, const char *ngram_pfx,
                          ims_token_fn fn, void *ctx)
{
	size_t nl = 0;
	char *nt = ims_text_normalize(text, len, &nl);

	tokenize(nt ? nt : text, nt ? nl : len, pfx, fn, ctx);
	if (ngram_pfx)
		char_ngrams(nt ? nt : text, nt ? nl : len, ngram_pfx, fn, ctx);
	g_free(nt);
}

void ims_tokenize(const char *text, size_t len, char prefix, ims_token_fn fn, void *ctx)
{
	char pfx[2] = {prefix, '\0'};

	pthread_once(&cclass_once, cclass_init);
	tokenize_norm(text, len, pfx, NULL, fn, ctx);
}

static const char *bucket(size_t n)
{
	static const char *const b[] = {"0", "1", "2-3", "4-7", "8-15", "16+"};

	if (n == 0)
		return b[0];
	if (n == 1)
		return b[1];
	if (n < 4)
		return b[2];
	if (n < 8)
		return b[3];
	if (n < 16)
		return b[4];
	return b[5];
}

static void emit_kv(ims_token_fn fn, void *ctx, const char *key, const char *val)
{
	emit_str(fn, ctx, key, val);
}

/* Words that only tell the time: day and month names, time zones. */
static int time_word(const char *w, size_t n)
{
	static const char *const words[] = {
	    "mon",      "tue",    "wed",      "thu",   "fri",  "sat",    "sun",     "jan",
	    "feb",      "mar",    "apr",      "may",   "jun",  "jul",    "aug",     "sep",
	    "oct",      "nov",    "dec",      "ut",    "gmt",  "utc",    "est",     "edt",
	    "cst",      "cdt",    "mst",      "mdt",   "pst",  "pdt",    "bst",     "cet",
	    "cest",     "met",    "mest",     "eet",   "eest", "jst",    "kst",     "hkt",
	    "ist",      "sgt",    "wib",      "am",    "pm",   "monday", "tuesday", "wednesday",
	    "thursday", "friday", "saturday", "sunday"};

	if (n < 2 || n > 9)
		return 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i]) == n && g_ascii_strncasecmp(w, words[i], n) == 0)
			return 1;
	return 0;
}

/* Passes a header value's tokens on, without those that only tell the
 * time (numbers, day and month names, zones): in Received and *Date
 * headers they say when a message was sent, which is no sign of spam and
 * drifts with time (docs/classifier.md "Features"). */
struct time_filter {
	ims_token_fn fn;
	void *ctx;
};

static void drop_time_tokens(void *arg, const char *tok, size_t len)
{
	struct time_filter *tf = arg;
	const char *colon = memchr(tok, ':', len);

	if (colon && colon > tok) {
		char kind = colon[-1];
		const char *w = colon + 1;

		if (kind == 'N' || time_word(w, len - (size_t)(w - tok)))
			return;
	}
	tf->fn(tf->ctx, tok, len);
}

static int time_header(const char *name)
{
	size_t n = strlen(name);

	return g_ascii_strcasecmp(name, "Received") == 0 ||
	       (n >= 4 && g_ascii_strcasecmp(name + n - 4, "date") == 0);
}

/* The header tokens of msg: the message itself, or an attached one. */
static void header_tokens(GMimeMessage *msg, ims_token_fn fn, void *ctx)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int count = hl ? g_mime_header_list_get_count(hl) : 0;
	size_t received = 0;
	const char *mailer = NULL;
	InternetAddressList *from;
	const char *mid;
	GMimeObject *top;

	for (int i = 0; i < count && i < 500; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);

		if (!name)
			continue;
		if (g_ascii_strcasecmp(name, "Received") == 0)
			received++;
		if (!mailer && (g_ascii_strcasecmp(name, "X-Mailer") == 0 ||
		                g_ascii_strcasecmp(name, "User-Agent") == 0))
			mailer = g_mime_header_get_value(h);
		emit_kv(fn, ctx, "HN", name);
		if (g_ascii_strcasecmp(name, "Subject") != 0) {
			/* the value's tokens, prefixed with the header's name */
			const char *raw = g_mime_header_get_raw_value(h);
			char hp[24];
			size_t k = 0;

			hp[k++] = 'H';
			for (const char *q = name; *q && k < sizeof hp - 1; q++)
				hp[k++] = lc(*q);
			hp[k] = '\0';
			if (raw && time_header(name)) {
				struct time_filter tf = {fn, ctx};

				tokenize(raw, strnlen(raw, 1000), hp, drop_time_tokens, &tf);
			} else if (raw) {
				tokenize(raw, strnlen(raw, 1000), hp, fn, ctx);
			}
		}
	}
	emit_kv(fn, ctx, "RCV", received > 15 ? "15+" : bucket(received));
	if (mailer)
		tokenize(mailer, strlen(mailer) < 200 ? strlen(mailer) : 200, "M", fn, ctx);
	else
		emit_kv(fn, ctx, "M", "#none");

	from = g_mime_message_get_from(msg);
	if (from && internet_address_list_length(from) > 0) {
		InternetAddress *a = internet_address_list_get_address(from, 0);
		const char *name = internet_address_get_name(a);

		if (name && *name)
			tokenize_norm(name, strlen(name) < 200 ? strlen(name) : 200, "F", "F3", fn,
			              ctx);
		else
			emit_kv(fn, ctx, "F", "#noname");
		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			const char *addr =
			    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
			const char *at = addr ? strrchr(addr, '@') : NULL;

			if (at)
				emit_host(fn, ctx, "FD", at + 1, strlen(at + 1));
		}
	} else {
		emit_kv(fn, ctx, "F", "#none");
	}
	mid = g_mime_message_get_message_id(msg);
	if (mid && strchr(mid, '@'))
		emit_host(fn, ctx, "MID", strchr(mid, '@') + 1, strlen(strchr(mid, '@') + 1));
	else
		emit_kv(fn, ctx, "MID", "#none");
	top = g_mime_message_get_mime_part(msg);
	if (top) {
		GMimeContentType *ct = g_mime_object_get_content_type(top);
		char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;

		if (mt) {
			emit_kv(fn, ctx, "CT", mt);
			g_free(mt);
		}
		const char *cs = g_mime_object_get_content_type_parameter(top, "charset");

		if (cs)
			emit_kv(fn, ctx, "CS", cs);
	}
}

/* The host a URL goes to (lib/urls.h), 1 when it has one. */
static int host_of(const char *url, char *out, size_t outlen)
{
	struct ims_url_host h;

	return ims_url_host(url, strlen(url), &h) == IMS_OK &&
	       (size_t)snprintf(out, outlen, "%s", h.host) < outlen;
}

/* The anchor text shows a host that is not where the link goes. */
static int link_mismatch(const struct ims_link *l)
{
	char hh[256], th[256];
	const char *t = l->text;

	if (!host_of(l->href, hh, sizeof hh) || !strstr(l->href, "://"))
		return 0;
	if (strncasecmp(t, "http://", 7) != 0 && strncasecmp(t, "https://", 8) != 0 &&
	    strncasecmp(t, "www.", 4) != 0)
		return 0;
	if (!host_of(t, th, sizeof th))
		return 0;
	size_t a = strlen(hh), b = strlen(th);

	if (a >= b)
		return strcmp(hh + a - b, th) != 0;
	return strcmp(th + b - a, hh) != 0;
}

void ims_features_tokens(const struct ims_parsed *p, ims_token_fn fn, void *ctx)
{

	const char *subject = ims_parsed_subject(p);
	const char *text = ims_parsed_text(p);
	const struct ims_link *links;
	const struct ims_attachment *att;
	size_t nl = ims_parsed_links(p, &links);
	size_t na = ims_parsed_attachments(p, &att);
	size_t mismatches = 0;
	size_t tlen = strlen(text);

	pthread_once(&cclass_once, cclass_init);
	tokenize_norm(subject, strlen(subject), "S", "S3", fn, ctx);
	if (!*subject)
		emit_kv(fn, ctx, "S", "#empty");
	tokenize_norm(text, tlen, "W", NULL, fn, ctx);
	header_tokens(ims_parsed_gmime(p), fn, ctx);
	{
		/* attached messages (forwarded spam is spam): their subject and
		 * headers as if they were the message's own; their body is
		 * already in the text */
		GMimeMessage *const *inner;
		size_t ni = ims_parsed_inner_messages(p, &inner);

		for (size_t i = 0; i < ni; i++) {
			const char *is = g_mime_message_get_subject(inner[i]);

			if (is)
				tokenize_norm(is, strnlen(is, 1000), "S", "S3", fn, ctx);
			header_tokens(inner[i], fn, ctx);
		}
	}

	for (size_t i = 0; i < nl; i++) {
		char h[256];

		if (host_of(links[i].href, h, sizeof h))
			emit_host(fn, ctx, "LU", h, strlen(h));
		if (strncasecmp(links[i].href, "mailto:", 7) == 0)
			emit_kv(fn, ctx, "L", "#mailto");
		if (links[i].text[0])
			tokenize_norm(links[i].text, strlen(links[i].text), "A", NULL, fn, ctx);
		mismatches += link_mismatch(&links[i]);
	}
	emit_kv(fn, ctx, "LN", bucket(nl));
	if (mismatches)
		emit_kv(fn, ctx, "L", "#text-host-mismatch");
	for (size_t i = 0; i < na; i++) {
		const char *dot = strrchr(att[i].filename, '.');

		emit_kv(fn, ctx, "AT", att[i].content_type);
		if (dot && strlen(dot + 1) <= 8)
			emit_kv(fn, ctx, "AX", dot + 1);
	}
	emit_kv(fn, ctx, "PARTS", bucket(ims_parsed_part_count(p)));
	if (ims_parsed_html_parts(p))
		emit_kv(fn, ctx, "HTML", ims_parsed_plain_parts(p) ? "#alt" : "#only");
	if (ims_parsed_malformed(p))
		emit_kv(fn, ctx, "MIME", "#malformed");
	{
		size_t lb = 0;

		while ((tlen >> lb) > 64 && lb < 20)
			lb++;
		char b[8];

		snprintf(b, sizeof b, "%zu", lb);
		emit_kv(fn, ctx, "LEN", b);
	}
}

/* A fast 64-bit hash of a short string: 8 bytes per multiply, then
 * MurmurHash3's finaliser so the low bits (the index) are well mixed.
 * s must be followed by zero bytes up to the next multiple of 8 (emit()
 * pads every token with TOKPAD zeros): the last word is then read whole,
 * which is the same value as copying its n bytes into a zeroed word. */
static uint64_t hash_token(const char *s, size_t n)
{
	uint64_t h = 0x243F6A8885A308D3ULL ^ (n * 0x9E3779B97F4A7C15ULL);

	while (n >= 8) {
		uint64_t k;

		memcpy(&k, s, 8);
		h = (h ^ k) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t k;

		memcpy(&k, s, 8);
		h = (h ^ k) * 0x9E3779B97F4A7C15ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

#define COLLECT_STACK 2048 /* indices kept on the stack before the heap (8 KiB) */

struct collector {
	uint32_t *h;
	size_t n, cap;
	uint32_t mask;
	int nomem;
	uint32_t stack[COLLECT_STACK];
};

static void collect(void *ctx, const char *tok, size_t len)
{
	struct collector *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap * 2;
		uint32_t *nh;

		if (c->nomem || c->n >= IMS_FEATURES_MAX_TOKENS)
			return;
		if (cap > IMS_FEATURES_MAX_TOKENS)
			cap = IMS_FEATURES_MAX_TOKENS;
		nh = c->h == c->stack ? malloc(cap * sizeof *nh) : realloc(c->h, cap * sizeof *nh);
		if (!nh) {
			c->nomem = 1;
			return;
		}
		if (c->h == c->stack)
			memcpy(nh, c->stack, c->n * sizeof *nh);
		c->h = nh;
		c->cap = cap;
	}
	c->h[c->n++] = (uint32_t)(hash_token(tok, len) & c->mask) + 1;
}

/* Sorts n indices of at most `bits` bits: LSD radix sort, one byte per
 * pass, all histograms in one read; tmp holds n entries.  Returns the
 * array that holds the result (a or tmp). */
static uint32_t *sort_u32(uint32_t *a, uint32_t *tmp, size_t n, unsigned bits)
{
	uint32_t cnt[4][256];
	unsigned passes = (bits + 7) / 8;

	if (n < 64) { /* insertion sort */
		for (size_t i = 1; i < n; i++) {
			uint32_t v = a[i];
			size_t j = i;

			while (j > 0 && a[j - 1] > v) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
		return a;
	}
	if (passes > 4)
		passes = 4;
	memset(cnt, 0, passes * sizeof cnt[0]);
	for (size_t i = 0; i < n; i++) {
		uint32_t v = a[i];

		cnt[0][v & 255]++;
		cnt[1][(v >> 8) & 255]++;
		cnt[2][(v >> 16) & 255]++;
		if (passes > 3)
			cnt[3][v >> 24]++;
	}
	for (unsigned p = 0; p < passes; p++) {
		uint32_t sum = 0, *src = a, *dst = tmp, *t;
		unsigned shift = 8 * p;

		if (cnt[p][(a[0] >> shift) & 255] == n)
			continue; /* every entry has the same byte here */
		for (int k = 0; k < 256; k++) {
			uint32_t c = cnt[p][k];

			cnt[p][k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[p][(src[i] >> shift) & 255]++] = src[i];
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

void ims_fvec_free(struct ims_fvec *v)
{
	if (!v)
		return;
	free(v->idx);
	free(v->val);
	v->idx = NULL;
	v->val = NULL;
	v->n = 0;
}

ims_status ims_features_extract(const struct ims_parsed *p, const struct ims_feature_opts *opts,
                                struct ims_fvec *out)
{
	struct collector c;
	ims_status rc = IMS_ENOMEM;
	uint32_t *tmp = NULL, tmp_stack[COLLECT_STACK], *h;
	size_t m = 0;
	double norm = 0;

	memset(out, 0, sizeof *out);
	if (!opts || opts->hash_bits < IMS_HASH_BITS_MIN || opts->hash_bits > IMS_HASH_BITS_MAX)
		return IMS_EINVAL;
	pthread_once(&cclass_once, cclass_init);
	c.h = c.stack;
	c.n = 0;
	c.cap = COLLECT_STACK;
	c.nomem = 0;
	c.mask = (1u << opts->hash_bits) - 1;
	ims_features_tokens(p, collect, &c);
	if (c.nomem)
		goto out;
	if (c.n == 0) {
		rc = IMS_OK;
		goto out;
	}
	tmp = c.n <= COLLECT_STACK ? tmp_stack : malloc(c.n * sizeof *tmp);
	if (!tmp)
		goto out;
	/* indices are 1..2^hash_bits: hash_bits + 1 bits */
	h = sort_u32(c.h, tmp, c.n, opts->hash_bits + 1);
	out->idx = malloc(c.n * sizeof *out->idx);
	out->val = malloc(c.n * sizeof *out->val);
	if (!out->idx || !out->val)
		goto out;
	for (size_t i = 0; i < c.n;) {
		size_t j = i + 1;

		while (j < c.n && h[j] == h[i])
			j++;
		out->idx[m] = h[i];
		out->val[m] = j - i == 1 ? 1.0 : 1.0 + log((double)(j - i)); /* log(1) is 0 */
		norm += out->val[m] * out->val[m];
		m++;
		i = j;
	}
	norm = sqrt(norm);
	for (size_t i = 0; i < m; i++)
		out->val[i] /= norm;
	out->n = m;
	rc = IMS_OK;
out:
	if (tmp != tmp_stack)
		free(tmp);
	if (c.h != c.stack)
		free(c.h);
	if (rc != IMS_OK)
		ims_fvec_free(out);
	return rc;
}
