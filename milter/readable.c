#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "readable.h"

#define MAX_PATHS 64

/* The files a reload reads: the configuration, the model, the DKIM keys,
 * the [intel] directory (its files are read as they change), the [links]
 * key (read for each message whose links are rewritten) and the [redis]
 * password_file. */
static size_t reload_paths(const struct ims_conf *conf, const char *conf_path, const char **paths)
{
	size_t n = 0;

	paths[n++] = conf_path;
	if (conf->classifier_model && *conf->classifier_model)
		paths[n++] = conf->classifier_model;
	if (conf->intel_dir && *conf->intel_dir)
		paths[n++] = conf->intel_dir;
	if (conf->links_key_file && *conf->links_key_file)
		paths[n++] = conf->links_key_file;
	if (conf->redis_password_file && *conf->redis_password_file)
		paths[n++] = conf->redis_password_file;
	for (char **k = conf->dkim_keys; k && *k && n < MAX_PATHS; k++) {
		const char *c = strchr(*k, ':');
		c = c ? strchr(c + 1, ':') : NULL;
		if (c && c[1])
			paths[n++] = c + 1;
	}
	return n;
}

int ims_milter_check_readable(const char *user, const struct ims_conf *conf, const char *conf_path,
                              char *err, size_t errlen)
{
	const char *paths[MAX_PATHS];
	struct passwd *pw;
	size_t n;
	int fds[2], status;
	pid_t pid;
	char bad[16] = "";

	if (!user || !*user || getuid() != 0)
		return 0;
	if (!(pw = getpwnam(user))) {
		snprintf(err, errlen, "no such user %s", user);
		return -1;
	}
	n = reload_paths(conf, conf_path, paths);
	if (pipe(fds) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) { /* the child becomes the user and tries each file */
		char msg[16];
		int i = -1;
		close(fds[0]);
		if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0)
			i = (int)n; /* cannot become the user: the caller will fail too */
		for (size_t k = 0; i < 0 && k < n; k++)
			if (access(paths[k], R_OK) != 0)
				i = (int)k;
		snprintf(msg, sizeof msg, "%d", i);
		if (write(fds[1], msg, strlen(msg)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], bad, sizeof bad - 1) < 0)
		bad[0] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (strcmp(bad, "-1") == 0)
		return 0;
	int i = bad[0] ? (int)strtol(bad, NULL, 10) : (int)n;
	if (i >= 0 && (size_t)i < n)
		snprintf(err, errlen,
		         "%s is not readable by user %s, so a reload (SIGUSR1) would fail; make it "
		         "readable by the group %s (e.g. chgrp and chmod 0640)",
		         paths[i], user,
		         getgrgid(pw->pw_gid) ? getgrgid(pw->pw_gid)->gr_name : user);
	else
		snprintf(err, errlen, "cannot check files as user %s", user);
	return -1;
}
