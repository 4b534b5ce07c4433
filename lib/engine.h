/* The long-lived state every scan reads: the config snapshot, the DNS
 * resolver, the SPF/DKIM/DMARC checkers, the classifier model and the
 * Redis store.  An engine is immutable once built and reference-counted:
 * a daemon builds a new one on reload and publishes it, while messages in
 * flight keep the engine they started with until they drop it.
 *
 * A model that cannot be loaded does not stop the engine from being built
 * (ims_engine_model_error says why); scans then answer IMS_ETEMP, so the
 * MTA retries until an operator fixes the model and reloads.  On a reload
 * (ims_engine_rebuild with the running engine), a model file that does not
 * load (truncated, bad checksum) keeps the running engine's model instead:
 * the new engine shares it (reference-counted), ims_engine_model_reload_error
 * says why, every scan carries the MODEL_STALE symbol, and the failure is
 * logged (event=model_reload_failed) and counted.
 *
 * The model file is watched: ims_engine_acquire checks it at most every
 * IMS_ENGINE_MODEL_CHECK_MS and, when it was replaced (`ims retrain`
 * installs by rename), publishes an engine with the new model that shares
 * everything else with the current one, so a new model is in use within
 * seconds without a signal or a restart.  A replacement that does not load
 * is handled as on a reload: the running model stays, MODEL_STALE. */
#ifndef IMS_ENGINE_H
#define IMS_ENGINE_H

#include <stddef.h>

#include "conf.h"
#include "status.h"

#define IMS_ENGINE_MODEL_CHECK_MS 2000

struct ims_engine;
struct ims_store;
struct ims_dns;
struct ims_auth;
struct ims_model;
struct ims_reputation;

/* Builds an engine on conf (takes its own reference).  On IMS_OK *out has
 * one reference, owned by the caller.  On failure (bad DNS settings, DKIM
 * keys that cannot be read) err says why. */
ims_status ims_engine_new(struct ims_conf *conf, struct ims_engine **out, char *err, size_t errlen);

/* Same, with a store the caller made (unit tests: the memory store).  The
 * engine takes ownership of store. */
ims_status ims_engine_new_with_store(struct ims_conf *conf, struct ims_store *store,
                                     struct ims_engine **out, char *err, size_t errlen);

/* Same as ims_engine_new, for a reload: when conf's model does not load and
 * prev (may be NULL) has one, the new engine keeps prev's model (see above).
 * prev stays the caller's. */
ims_status ims_engine_rebuild(struct ims_conf *conf, const struct ims_engine *prev,
                              struct ims_engine **out, char *err, size_t errlen);
ims_status ims_engine_rebuild_with_store(struct ims_conf *conf, struct ims_store *store,
                                         const struct ims_engine *prev, struct ims_engine **out,
                                         char *err, size_t errlen);

/* Why the engine scans with the previous model (the new one did not load),
 * or NULL when its model is the one its config names. */
const char *ims_engine_model_reload_error(const struct ims_engine *e);
/* Model loads in this process that failed and kept the previous model. */
unsigned long ims_engine_model_reload_failures(void);

/* Reference counting (atomic): ref returns e; the last unref frees. */
struct ims_engine *ims_engine_ref(struct ims_engine *e);
void ims_engine_unref(struct ims_engine *e);

/* Borrowed pointers, valid while the caller holds a reference. */
const struct ims_conf *ims_engine_conf(const struct ims_engine *e);
struct ims_store *ims_engine_store(const struct ims_engine *e);
struct ims_auth *ims_engine_auth(const struct ims_engine *e);
/* The DNS lists and local intel lists (lib/reputation.h). */
struct ims_reputation *ims_engine_reputation(const struct ims_engine *e);
/* NULL when the model could not be loaded. */
const struct ims_model *ims_engine_model(const struct ims_engine *e);
/* Why the model could not be loaded, or NULL when it was. */
const char *ims_engine_model_error(const struct ims_engine *e);
/* The loaded model's version, "" when none. */
const char *ims_engine_model_version(const struct ims_engine *e);

/* The process-wide current engine.  publish takes a reference to e (or
 * clears with NULL) and drops the one it held on the previous engine;
 * acquire returns a new reference to the current one (NULL when none),
 * which the caller must unref; it first reloads the model when its file
 * changed (above). */
void ims_engine_publish(struct ims_engine *e);
struct ims_engine *ims_engine_acquire(void);

#endif
