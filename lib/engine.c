#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "engine.h"
#include "log.h"
#include "model.h"
#include "store.h"

struct ims_engine {
	int refs; /* atomic */
	struct ims_conf *conf;
	struct ims_store *store;
	struct ims_auth *auth;
	struct ims_model *model;
	char model_error[256];
	char reload_error[384]; /* the new model failed; model is the previous one */
};

static unsigned long reload_failures; /* atomic: model loads that kept the old model */

static void engine_free(struct ims_engine *e)
{
	if (!e)
		return;
	ims_model_unref(e->model);
	ims_auth_free(e->auth);
	ims_store_free(e->store);
	if (e->conf)
		ims_conf_unref(e->conf);
	free(e);
}

/* The model for a new engine: conf's file, or, when that does not load and
 * prev has a model, prev's model (one more reference) with reload_error
 * saying why. */
static void engine_load_model(struct ims_engine *e, const struct ims_conf *conf,
                              const struct ims_engine *prev)
{
	if (ims_model_load(conf->classifier_model, &e->model, e->model_error,
	                   sizeof e->model_error) == IMS_OK)
		return;
	e->model = NULL;
	if (prev && prev->model) {
		e->model = ims_model_ref(prev->model);
		snprintf(e->reload_error, sizeof e->reload_error,
		         "model %s not loaded (%s); still scanning with model %s",
		         conf->classifier_model, e->model_error, ims_model_version(e->model));
		__atomic_add_fetch(&reload_failures, 1, __ATOMIC_RELAXED);
		ims_log_err(NULL, "event=model_reload_failed path=%s error=\"%s\" kept_model_version=%s",
		            conf->classifier_model, e->model_error, ims_model_version(e->model));
		return;
	}
	ims_log_warn(NULL, "event=model_load path=%s error=\"%s\"", conf->classifier_model,
	             e->model_error);
}

static ims_status engine_build(struct ims_conf *conf, struct ims_store *store,
                               const struct ims_engine *prev, struct ims_engine **out, char *err,
                               size_t errlen)
{
	struct ims_engine *e = NULL;
	ims_status rc = IMS_ENOMEM;

	*out = NULL;
	e = calloc(1, sizeof *e);
	if (!e) {
		ims_store_free(store);
		goto out;
	}
	e->refs = 1;
	e->conf = ims_conf_ref(conf);
	e->store = store;
	rc = ims_auth_new(conf, &e->auth, err, errlen);
	if (rc != IMS_OK)
		goto out;
	engine_load_model(e, conf, prev);
	*out = e;
	e = NULL;
	rc = IMS_OK;
out:
	engine_free(e);
	return rc;
}

ims_status ims_engine_new_with_store(struct ims_conf *conf, struct ims_store *store,
                                     struct ims_engine **out, char *err, size_t errlen)
{
	return engine_build(conf, store, NULL, out, err, errlen);
}

ims_status ims_engine_rebuild_with_store(struct ims_conf *conf, struct ims_store *store,
                                         const struct ims_engine *prev, struct ims_engine **out,
                                         char *err, size_t errlen)
{
	return engine_build(conf, store, prev, out, err, errlen);
}

ims_status ims_engine_rebuild(struct ims_conf *conf, const struct ims_engine *prev,
                              struct ims_engine **out, char *err, size_t errlen)
{
	struct ims_store *store;
	ims_status rc = ims_store_open(conf, &store);

	*out = NULL;
	if (rc != IMS_OK) {
		snprintf(err, errlen, "cannot set up the Redis store: %s", ims_strstatus(rc));
		return rc;
	}
	return engine_build(conf, store, prev, out, err, errlen);
}

ims_status ims_engine_new(struct ims_conf *conf, struct ims_engine **out, char *err, size_t errlen)
{
	return ims_engine_rebuild(conf, NULL, out, err, errlen);
}

const char *ims_engine_model_reload_error(const struct ims_engine *e)
{
	return e->reload_error[0] ? e->reload_error : NULL;
}

unsigned long ims_engine_model_reload_failures(void)
{
	return __atomic_load_n(&reload_failures, __ATOMIC_RELAXED);
}

struct ims_engine *ims_engine_ref(struct ims_engine *e)
{
	if (e)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	return e;
}

void ims_engine_unref(struct ims_engine *e)
{
	if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0)
		engine_free(e);
}

const struct ims_conf *ims_engine_conf(const struct ims_engine *e)
{
	return e->conf;
}

struct ims_store *ims_engine_store(const struct ims_engine *e)
{
	return e->store;
}

struct ims_auth *ims_engine_auth(const struct ims_engine *e)
{
	return e->auth;
}

const struct ims_model *ims_engine_model(const struct ims_engine *e)
{
	return e->model;
}

const char *ims_engine_model_error(const struct ims_engine *e)
{
	return e->model ? NULL : e->model_error;
}

const char *ims_engine_model_version(const struct ims_engine *e)
{
	return e->model ? ims_model_version(e->model) : "";
}

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ims_engine *current;

void ims_engine_publish(struct ims_engine *e)
{
	struct ims_engine *old;

	ims_engine_ref(e);
	pthread_mutex_lock(&current_lock);
	old = current;
	current = e;
	pthread_mutex_unlock(&current_lock);
	ims_engine_unref(old);
}

struct ims_engine *ims_engine_acquire(void)
{
	struct ims_engine *e;

	pthread_mutex_lock(&current_lock);
	e = ims_engine_ref(current);
	pthread_mutex_unlock(&current_lock);
	return e;
}
