/* The links the scan judges: see msglinks.h. */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "htmldoc.h"
#include "msglinks.h"

struct ims_msglinks {
	GArray *links; /* struct ims_link, strings g_malloc'ed */
};

static int add(struct ims_msglinks *l, const char *href, size_t len, const char *text, int html)
{
	struct ims_link k;

	if (l->links->len >= IMS_MIME_MAX_LINKS)
		return 1;
	k.href = g_strndup(href, len);
	k.text = g_strdup(text ? text : "");
	k.html = html;
	g_array_append_val(l->links, k);
	return l->links->len >= IMS_MIME_MAX_LINKS;
}

static int on_html_url(void *ctx, const struct ims_url_ref *r)
{
	if (strcmp(r->attr, "href") != 0) /* img src, form action: not clicked */
		return 0;
	return add(ctx, r->url, r->len, r->text, 1);
}

ims_status ims_msglinks_build(const struct ims_parsed *parsed, struct ims_msglinks **out)
{
	struct ims_msglinks *l = calloc(1, sizeof *l);
	const struct ims_link *pl;
	const char *const *html;
	size_t np = ims_parsed_links(parsed, &pl);
	size_t nh = ims_parsed_html_sources(parsed, &html);
	int unread = 0;

	*out = NULL;
	if (!l)
		return IMS_ENOMEM;
	l->links = g_array_new(FALSE, FALSE, sizeof(struct ims_link));
	for (size_t i = 0; i < np; i++)
		if (!pl[i].html && add(l, pl[i].href, strlen(pl[i].href), "", 0))
			break;
	for (size_t i = 0; i < nh; i++) {
		ims_status st = ims_urls_in_html(html[i], strlen(html[i]), on_html_url, l);

		if (st == IMS_ENOMEM) {
			ims_msglinks_free(l);
			return IMS_ENOMEM;
		}
		unread |= st != IMS_OK;
	}
	for (size_t i = 0; unread && i < np; i++)
		if (pl[i].html && add(l, pl[i].href, strlen(pl[i].href), pl[i].text, 1))
			break;
	*out = l;
	return IMS_OK;
}

size_t ims_msglinks_get(const struct ims_msglinks *l, const struct ims_link **links)
{
	*links = (const struct ims_link *)(const void *)l->links->data;
	return l->links->len;
}

void ims_msglinks_free(struct ims_msglinks *l)
{
	if (!l)
		return;
	for (guint i = 0; i < l->links->len; i++) {
		struct ims_link *k = &g_array_index(l->links, struct ims_link, i);

		g_free((char *)k->href);
		g_free((char *)k->text);
	}
	g_array_free(l->links, TRUE);
	free(l);
}
