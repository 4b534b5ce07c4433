/* The route table: method, path pattern ("{}" matches one segment and is
 * handed to the handler as a parameter, a trailing "*" matches the rest),
 * who may call it, a name for the metrics, and the handler. */
#ifndef IMS_WEB_ROUTER_H
#define IMS_WEB_ROUTER_H

#include <stddef.h>

#include "request.h"

enum ims_access { IMS_OPEN, IMS_USER, IMS_ADMIN };

struct ims_route {
	const char *method;
	const char *pattern;
	enum ims_access access;
	const char *name;
	void (*handler)(struct ims_req *r);
};

/* The table and its size. */
extern const struct ims_route ims_routes[];
extern const size_t ims_nroutes;
/* The route names in table order (for the metrics). */
extern const char *const ims_route_names[];

/* Finds the route of method + path.  Returns its index and copies the
 * "{}" segments into r->params; -1 when no route has the path (404), -2
 * when a route has the path but not the method (405). */
int ims_router_match(const char *method, const char *path, struct ims_req *r);

#endif
