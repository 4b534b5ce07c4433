#include "config.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "conf.h"
#include "smtp.h"

struct reader {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t want = size * n;

	if (want > r->left)
		want = r->left;
	memcpy(buf, r->p, want);
	r->p += want;
	r->left -= want;
	return want;
}

void ims_smtp_job_tls(struct ims_smtp_job *job, const struct ims_conf *conf)
{
	job->tls = conf->webapi_submission_tls;
	job->ca_file = conf->webapi_submission_ca_file;
	job->tls_no_verify = !conf->webapi_submission_tls_verify;
}

/* 1 when the URL's host is a loopback address or localhost. */
static int url_on_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int yes = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		yes = strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
		      strcmp(host, "[::1]") == 0;
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

static long starttls_mode(const struct ims_smtp_job *job)
{
	if (job->tls && strcmp(job->tls, "opportunistic") == 0)
		return (long)CURLUSESSL_TRY;
	if (job->tls && strcmp(job->tls, "required") == 0)
		return (long)CURLUSESSL_ALL;
	return url_on_loopback(job->url) ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL;
}

ims_status ims_smtp_send(const struct ims_smtp_job *job, char *err, size_t errlen)
{
	CURL *c = NULL;
	struct curl_slist *rcpts = NULL;
	struct reader rd = {job->raw, job->len};
	char from[512], one[512], cerr[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode cc;
	ims_status rc = IMS_ENOMEM;

	err[0] = '\0';
	if (job->nrcpts == 0 || job->nrcpts > IMS_SMTP_MAX_RCPTS) {
		snprintf(err, errlen, "1..%d recipients", IMS_SMTP_MAX_RCPTS);
		return IMS_EINVAL;
	}
	c = curl_easy_init();
	if (!c)
		goto out;
	snprintf(from, sizeof from, "<%s>", job->mail_from ? job->mail_from : "");
	for (size_t i = 0; i < job->nrcpts; i++) {
		struct curl_slist *n;

		snprintf(one, sizeof one, "<%s>", job->rcpts[i]);
		n = curl_slist_append(rcpts, one);
		if (!n)
			goto out;
		rcpts = n;
	}
	curl_easy_setopt(c, CURLOPT_URL, job->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)job->len);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)job->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	if (job->user && *job->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, job->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, job->password ? job->password : "");
		if (job->authzid && *job->authzid) {
			curl_easy_setopt(c, CURLOPT_SASL_AUTHZID, job->authzid);
			curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
		}
	}
	curl_easy_setopt(c, CURLOPT_USE_SSL, starttls_mode(job));
	if (job->ca_file && *job->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, job->ca_file);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, job->tls_no_verify ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, job->tls_no_verify ? 0L : 2L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK) {
		rc = IMS_OK;
		goto out;
	}
	snprintf(err, errlen, "smtp %ld: %s", code, cerr[0] ? cerr : curl_easy_strerror(cc));
	rc = code >= 500 && code < 600 ? IMS_EPERM : IMS_ETEMP;
out:
	curl_slist_free_all(rcpts);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}
