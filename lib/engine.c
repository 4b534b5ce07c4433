#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "engine.h"
#include "log.h"
#include "model.h"
#include "reputation.h"
#include "store.h"

/* What a model reload keeps: an engine made for a new model file shares
 * the config, the store and the checkers of the one it replaces. */
struct engine_base {
	int refs; /* atomic */
	struct ims_conf *conf;
	struct ims_store *store;
	struct ims_auth *auth;
	struct ims_reputation *rep; /* [dnsbl], [intel] */
};

/* The model file as it was when it was loaded (or found missing). */
struct file_stamp {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct ims_engine {
	int refs; /* atomic */
	struct engine_base *base;
	struct ims_model *model;
	struct file_stamp model_stamp;
	char model_error[256];
	char reload_error[384]; /* the new model failed; model is the previous one */
};

static unsigned long reload_failures; /* atomic: model loads that kept the old model */

static void base_unref(struct engine_base *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	ims_auth_free(b->auth);
	ims_reputation_free(b->rep);
	ims_store_free(b->store);
	if (b->conf)
		ims_conf_unref(b->conf);
	free(b);
}

static void engine_free(struct ims_engine *e)
{
	if (!e)
		return;
	ims_model_unref(e->model);
	base_unref(e->base);
	free(e);
}

static void stamp_file(const char *path, struct file_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof *st);
	if (!path || stat(path, &sb) != 0)
		return;
	st->exists = 1;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
}

static int stamp_equal(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Loads the configured model into e (stamping the file first, so a file
 * replaced while it loads is seen as changed at the next check).  When it
 * does not load and prev (may be NULL) has a model, e keeps prev's model (one
 * more reference) with reload_error saying why: a bad file on a reload or a
 * watch never stops the scans. */
static void load_model(struct ims_engine *e, const struct ims_engine *prev)
{
	const char *path = e->base->conf->classifier_model;

	stamp_file(path, &e->model_stamp);
	if (ims_model_load(path, &e->model, e->model_error, sizeof e->model_error) == IMS_OK)
		return;
	e->model = NULL;
	if (prev && prev->model) {
		e->model = ims_model_ref(prev->model);
		snprintf(e->reload_error, sizeof e->reload_error,
		         "model %s not loaded (%s); still scanning with model %s", path,
		         e->model_error, ims_model_version(e->model));
		__atomic_add_fetch(&reload_failures, 1, __ATOMIC_RELAXED);
		ims_log_err(NULL,
		            "event=model_reload_failed path=%s error=\"%s\" kept_model_version=%s",
		            path, e->model_error, ims_model_version(e->model));
		return;
	}
	ims_log_warn(NULL, "event=model_load path=%s error=\"%s\"", path, e->model_error);
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
	if (!(e->base = calloc(1, sizeof *e->base))) {
		ims_store_free(store);
		goto out;
	}
	e->base->refs = 1;
	e->base->conf = ims_conf_ref(conf);
	e->base->store = store;
	rc = ims_auth_new(conf, &e->base->auth, err, errlen);
	if (rc != IMS_OK)
		goto out;
	rc = ims_reputation_new(conf, &e->base->rep, err, errlen);
	if (rc != IMS_OK)
		goto out;
	load_model(e, prev);
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
	/* a scan is acknowledged once the replicas have it (lib/store.h) */
	ims_store_set_wait(store, conf->redis_wait_replicas, conf->redis_wait_timeout_ms);
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
	return e->base->conf;
}

struct ims_store *ims_engine_store(const struct ims_engine *e)
{
	return e->base->store;
}

struct ims_auth *ims_engine_auth(const struct ims_engine *e)
{
	return e->base->auth;
}

struct ims_reputation *ims_engine_reputation(const struct ims_engine *e)
{
	return e->base->rep;
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

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct ims_engine *acquire_current(void)
{
	struct ims_engine *e;

	pthread_mutex_lock(&current_lock);
	e = ims_engine_ref(current);
	pthread_mutex_unlock(&current_lock);
	return e;
}

/* When the current engine's model file changed on disk (a new inode, size
 * or time: `ims retrain` and `make install` replace it by rename), loads it
 * into a new engine on the same base and publishes that.  A file that does
 * not load leaves the running model in place, as a reload does: the new
 * engine keeps it with reload_error set (MODEL_STALE on every scan, /health
 * degraded), logged and counted once per change of the file.
 * One thread checks at a time, at most every IMS_ENGINE_MODEL_CHECK_MS;
 * the others go on without waiting. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t next_check; /* monotonic ms; under refresh_lock */

static void refresh_model(void)
{
	struct ims_engine *cur = NULL, *e = NULL, *old = NULL;
	struct file_stamp st;
	int64_t now;

	if (pthread_mutex_trylock(&refresh_lock) != 0)
		return;
	now = monotonic_ms();
	if (now < next_check)
		goto out;
	next_check = now + IMS_ENGINE_MODEL_CHECK_MS;
	if (!(cur = acquire_current()))
		goto out;
	stamp_file(cur->base->conf->classifier_model, &st);
	if (stamp_equal(&st, &cur->model_stamp) || !(e = calloc(1, sizeof *e)))
		goto out;
	e->refs = 1;
	e->base = cur->base;
	__atomic_add_fetch(&e->base->refs, 1, __ATOMIC_RELAXED);
	load_model(e, cur);
	pthread_mutex_lock(&current_lock);
	if (current == cur) { /* not replaced by a reload meanwhile */
		old = current;
		current = e;
	}
	pthread_mutex_unlock(&current_lock);
	if (old) {
		ims_log_notice(NULL, "event=model_reloaded path=%s model_version=%s",
		               cur->base->conf->classifier_model, ims_engine_model_version(e));
		e = NULL; /* current's reference now */
		ims_engine_unref(old);
	}
out:
	ims_engine_unref(e);
	ims_engine_unref(cur);
	pthread_mutex_unlock(&refresh_lock);
}

struct ims_engine *ims_engine_acquire(void)
{
	refresh_model();
	return acquire_current();
}
