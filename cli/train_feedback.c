/* Users' spam/ham reports as training data: see train_feedback.h.
 *
 * lib/feedback.c keeps one entry per user and message; older web reports
 * (POST /emails/{id}/report before it became a move) may hold several, so
 * the newest label per (user, message) is kept here as well. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "featurize.h"
#include "feedback.h"
#include "message.h"
#include "ims.h"
#include "train_feedback.h"

struct collect {
	GHashTable *latest; /* "user\nkey" -> index in set */
	struct ims_fb_set *set;
	size_t cap;
};

/* FNV-1a of the message key: which side of the holdout split it is on. */
static unsigned key_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static ims_status take(const struct ims_feedback_entry *e, void *arg)
{
	struct collect *c = arg;
	char *k = g_strdup_printf("%s\n%s", e->user, e->key);
	gpointer idx;
	struct ims_fb_report *r;
	char *raw = malloc(e->raw_len + 1);

	if (!raw) {
		g_free(k);
		return IMS_ENOMEM;
	}
	memcpy(raw, e->raw, e->raw_len);
	raw[e->raw_len] = '\0';
	if (g_hash_table_lookup_extended(c->latest, k, NULL, &idx)) {
		r = &c->set->r[GPOINTER_TO_SIZE(idx)];
		free(r->raw);
		g_free(k);
	} else {
		if (c->set->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 256;
			void *p = realloc(c->set->r, cap * sizeof *c->set->r);

			if (!p) {
				free(raw);
				g_free(k);
				return IMS_ENOMEM;
			}
			c->set->r = p;
			c->cap = cap;
		}
		g_hash_table_insert(c->latest, k, GSIZE_TO_POINTER(c->set->n));
		r = &c->set->r[c->set->n++];
	}
	r->raw = raw;
	r->len = e->raw_len;
	r->label = e->label == IMS_FEEDBACK_SPAM ? 1 : -1;
	r->holdout = key_hash(e->key) % IMS_FB_HOLDOUT_MOD == 0;
	return IMS_OK;
}

void ims_fb_set_free(struct ims_fb_set *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		free(s->r[i].raw);
	if (s) {
		free(s->r);
		memset(s, 0, sizeof *s);
	}
}

ims_status ims_fb_collect(struct ims_cli *cli, struct ims_fb_set *out, char *err, size_t errlen)
{
	struct collect c = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), out, 0};
	struct ims_store *store;
	ims_status st = IMS_ETEMP;

	memset(out, 0, sizeof *out);
	if ((store = ims_cli_store_err(cli, err, errlen)))
		st = ims_feedback_each(store, take, &c, &out->entries, err, errlen);
	if (st == IMS_ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (st != IMS_OK)
		ims_fb_set_free(out);
	g_hash_table_destroy(c.latest);
	return st;
}

ims_status ims_fb_add(const struct ims_fb_set *s, unsigned hash_bits, int which,
                      struct ims_dataset *ds, size_t *ham, size_t *spam, char *err, size_t errlen)
{
	struct ims_feature_opts fo = {hash_bits};

	*ham = *spam = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct ims_fb_report *rep = &s->r[i];
		struct ims_parsed *p = NULL;
		struct ims_fvec x;
		ims_status st;

		if (which >= 0 && rep->holdout != which)
			continue;
		if ((st = ims_parse_message(rep->raw, rep->len, &p)) == IMS_OK) {
			st = ims_features_extract(p, &fo, &x);
			ims_parsed_free(p);
		}
		if (st == IMS_ELIMIT)
			continue;
		if (st == IMS_OK)
			st = ims_dataset_add(ds, &x, rep->label);
		if (st != IMS_OK) {
			snprintf(err, errlen, "feedback message: %s", ims_strstatus(st));
			return st;
		}
		if (rep->label > 0)
			(*spam)++;
		else
			(*ham)++;
	}
	return IMS_OK;
}
