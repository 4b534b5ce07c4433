/* Fuzz target: a request as the web API takes it apart after
 * libmicrohttpd: the route of method and path (webapi/router.c) and the
 * body as JSON (ims_req_body_json in webapi/request.c, jansson).
 *
 * Input: "METHOD PATH" on the first line, the body after it.
 *
 * Oracles: a route found has that method and its parameters are single,
 * non-empty path segments within their size; either a JSON object comes
 * back, or a 400 whose response is a JSON object with an "error" string. */
#include "config.h"

#include <jansson.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "request.h"
#include "router.h"

static void route(const char *line, size_t len)
{
	struct ims_req r = {0};
	char method[16], path[2048];
	const char *sp = memchr(line, ' ', len);
	int i;

	if (!sp || (size_t)(sp - line) >= sizeof method ||
	    len - (size_t)(sp + 1 - line) >= sizeof path)
		return;
	memcpy(method, line, (size_t)(sp - line));
	method[sp - line] = '\0';
	memcpy(path, sp + 1, len - (size_t)(sp + 1 - line));
	path[len - (size_t)(sp + 1 - line)] = '\0';
	i = ims_router_match(method, path, &r);
	if (i < -2 || i >= (int)ims_nroutes)
		fuzz_fail("route %d for %s %s", i, method, path);
	if (i < 0)
		return;
	if (strcmp(ims_routes[i].method, method) != 0)
		fuzz_fail("%s %s routed to %s %s", method, path, ims_routes[i].method,
		          ims_routes[i].pattern);
	for (const char *p = ims_routes[i].pattern, *q; (q = strstr(p, "{}")); p = q + 2) {
		size_t k = 0;
		for (const char *c = ims_routes[i].pattern; c < q; c++)
			k += c[0] == '{' && c[1] == '}';
		if (k >= IMS_REQ_MAX_PARAMS)
			break;
		if (!r.params[k][0] || strchr(r.params[k], '/') ||
		    strlen(r.params[k]) >= IMS_REQ_PARAM_MAX)
			fuzz_fail("%s %s: parameter %zu is \"%s\"", method, path, k, r.params[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	struct ims_req *r;
	json_t *j, *resp;

	if (nl) {
		route((const char *)data, (size_t)(nl - (const char *)data));
		size -= (size_t)(nl + 1 - (const char *)data);
		data = (const uint8_t *)nl + 1;
	}
	r = calloc(1, sizeof *r);
	if (!r)
		return 0;
	r->body = malloc(size + 1);
	if (!r->body) {
		free(r);
		return 0;
	}
	memcpy(r->body, data, size);
	r->body[size] = '\0';
	r->body_len = size;
	snprintf(r->id, sizeof r->id, "fuzz");
	j = ims_req_body_json(r);
	if (j) {
		if (!json_is_object(j) || r->resp)
			fuzz_fail("body accepted as a non-object or with a response set");
		json_decref(j);
	} else {
		if (r->status != 400 || !r->resp)
			fuzz_fail("body refused with status %d", r->status);
		resp = json_loadb(r->resp, r->resp_len, 0, NULL);
		if (!json_is_string(json_object_get(resp, "error")))
			fuzz_fail("error response is not {\"error\": ...}: %.*s", (int)r->resp_len,
			          r->resp);
		json_decref(resp);
	}
	ims_req_free(r);
	return 0;
}
