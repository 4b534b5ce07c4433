/* Fuzz target: a folder page read over IMAP (webapi/imap.c with libetpan's
 * parser), from any bytes Dovecot could answer to the page's FETCH; the
 * headers in that answer come from the messages, so from senders.  A
 * thread plays Dovecot on a unix socket: greeting, LOGIN, EXAMINE (3
 * messages), then the input, then the FETCH's tagged OK, then EOF.
 * The same answer is then given to one message's UID FETCH BODY.PEEK[]
 * (ims_imap_fetch_raw, UID 1, at most RAW_MAX bytes).
 * Oracle: an answer taken is an array of objects whose values are strings
 * (UTF-8, as jansson holds them) that json_dumps writes out; "seq", "uid",
 * "size.virtual" and "date.received.unixtime" are whole numbers; "flags"
 * holds only the system flags the page shows and $HasAttachment; the folder's GUID is on
 * every row; raw bytes taken are at most RAW_MAX, NUL after them, and none
 * come with an error. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "imap.h"

#define GUID "0123456789abcdef0123456789abcdef"
#define RAW_MAX 64

static const char prologue[] = "* OK fuzz ready\r\n"
                               "1 OK logged in\r\n"
                               "* 3 EXISTS\r\n"
                               "* OK [UIDVALIDITY 7] ok\r\n"
                               "2 OK [READ-ONLY] examined\r\n";
static const char epilogue[] = "\r\n3 OK fetched\r\n";

struct serve {
	int lfd;
	const uint8_t *data;
	size_t size;
};

/* libetpan 1.9.4 leaks the section it parsed when the item after a
 * BODY[section] is malformed (tests/fuzz/seeds/imap/leak-libetpan-section:
 * "BODY[HEADER.FIELDS (X)]_"): its own defect, on answers Dovecot does not
 * give, a few dozen bytes each.  Only allocations made under
 * mailimap_section_spec_new are let go (ims-webapi never keeps a section
 * of its own past one FETCH); every other leak still fails the run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:mailimap_section_spec_new\n";
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		/* the client may hang up before the whole answer is written (it
		 * gives up on a bad answer): no SIGPIPE (ims-webapi ignores it) */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

static void *serve(void *arg)
{
	struct serve *s = arg;
	char buf[4096];
	int fd = accept(s->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	write_all(fd, prologue, sizeof prologue - 1);
	write_all(fd, s->data, s->size);
	write_all(fd, epilogue, sizeof epilogue - 1);
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	return NULL;
}

static ims_status guid_of(void *ctx, const char *user, const char *folder, char guid[33], char *err,
                          size_t errlen)
{
	(void)ctx, (void)user, (void)folder, (void)err, (void)errlen;
	memcpy(guid, GUID, 33);
	return IMS_OK;
}

static void check_number(json_t *row, const char *name)
{
	const char *v = json_string_value(json_object_get(row, name));
	char *end;

	if (!v)
		return;
	strtoll(v, &end, 10);
	if (!*v || *end)
		fuzz_fail("%s is not a number: \"%s\"", name, v);
}

static void check_rows(json_t *rows)
{
	size_t i;
	json_t *row;

	if (!json_is_array(rows))
		fuzz_fail("rows are not an array");
	json_array_foreach(rows, i, row)
	{
		const char *key, *flags;
		json_t *v;
		char *dump, *copy, *save = NULL;

		if (!json_is_object(row))
			fuzz_fail("row %zu is not an object", i);
		json_object_foreach(row, key, v) if (!json_is_string(v))
		    fuzz_fail("%s is not a string", key);
		check_number(row, "seq");
		check_number(row, "uid");
		check_number(row, "size.virtual");
		check_number(row, "date.received.unixtime");
		if (strcmp(json_string_value(json_object_get(row, "mailbox-guid")), GUID) != 0)
			fuzz_fail("row %zu without the folder's GUID", i);
		flags = json_string_value(json_object_get(row, "flags"));
		copy = strdup(flags ? flags : "");
		for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t;
		     t = strtok_r(NULL, " ", &save))
			if (strcmp(t, "\\Seen") && strcmp(t, "\\Flagged") &&
			    strcmp(t, "\\Answered") && strcmp(t, "\\Deleted") &&
			    strcmp(t, "\\Draft") && strcmp(t, "$HasAttachment"))
				fuzz_fail("flag \"%s\"", t);
		free(copy);
		if (!(dump = json_dumps(row, 0)))
			fuzz_fail("row %zu cannot be written out", i);
		free(dump);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[sizeof((struct sockaddr_un *)0)->sun_path];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ims_conf conf;
	struct ims_imap *im = NULL;
	struct serve s = {.data = data, .size = size};
	pthread_t th;
	json_t *rows = NULL;
	char err[256];
	ims_status rc;

	if (size > 256 * 1024)
		return 0; /* the socket buffers hold the whole answer */
	snprintf(path, sizeof path, "/tmp/ims-fuzz-imap-%ld.sock", (long)getpid());
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	s.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(s.lfd, 1) != 0)
		fuzz_fail("cannot listen on %s", path);
	memset(&conf, 0, sizeof conf);
	conf.dovecot_imap = path;
	conf.webapi_submission_user = "webapi";
	conf.dovecot_imap_connections = 1;
	conf.dovecot_imap_user_connections = 1;
	conf.dovecot_imap_idle_s = 60;
	conf.dovecot_timeout_ms = 1000;
	/* the same answer to a folder page's FETCH, then to one message's
	 * UID FETCH BODY.PEEK[] (a small bound: larger bodies are refused) */
	for (int raw_mode = 0; raw_mode < 2; raw_mode++) {
		char *raw = NULL;
		size_t len = 0;

		if (ims_imap_open(&conf, "secret", &im, err, sizeof err) != IMS_OK || !im)
			fuzz_fail("ims_imap_open: %s", err);
		if (pthread_create(&th, NULL, serve, &s) != 0)
			fuzz_fail("pthread_create");
		if (!raw_mode) {
			rc = ims_imap_fetch(im, "user@example.test", "INBOX", 0, 50, guid_of, NULL,
			                    &rows, err, sizeof err);
			if (rc == IMS_OK)
				check_rows(rows);
			else if (rows)
				fuzz_fail("rows with status %d", (int)rc);
			json_decref(rows);
			rows = NULL;
		} else {
			rc = ims_imap_fetch_raw(im, "user@example.test", "INBOX", GUID, 1, RAW_MAX,
			                        guid_of, NULL, &raw, &len, err, sizeof err);
			if (rc == IMS_OK && (!raw || len > RAW_MAX || raw[len] != '\0'))
				fuzz_fail("raw bytes out of bounds (%zu)", len);
			if (rc != IMS_OK && raw)
				fuzz_fail("raw bytes with status %d", (int)rc);
			free(raw);
		}
		ims_imap_free(im); /* closes the client side: the server thread ends */
		im = NULL;
		pthread_join(th, NULL);
	}
	close(s.lfd);
	unlink(path);
	return 0;
}
