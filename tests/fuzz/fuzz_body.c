/* Fuzz target: a request body as the web API reads it
 * (ims_req_body_json in webapi/request.c, jansson).
 *
 * Oracles: either a JSON object comes back, or a 400 whose response is a
 * JSON object with an "error" string. */
#include "config.h"

#include <jansson.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_req *r = calloc(1, sizeof *r);
	json_t *j, *resp;

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
