/* ims-milter: the libmilter daemon.  Loads ims.conf, builds the scan engine
 * (lib/engine), listens on [milter] socket, daemonizes, writes the pid
 * file, drops privileges, and hands every message to lib/scan through
 * callbacks.c.
 *
 * Signals: libmilter's own signal thread (started in smfi_main) takes
 * SIGHUP, SIGTERM and SIGINT and stops the filter on each: that is
 * libmilter's documented behaviour and ims leaves it alone.  Two threads
 * that sigwait for the same signal race for it, so ims's own signal thread
 * waits for signals libmilter does not use, as OpenDKIM does (SIGUSR1
 * reloads there too): SIGUSR1 builds and publishes a new engine (config
 * and model snapshots, reference-counted); SIGUSR2 makes new transactions
 * tempfail, waits until no message is in flight (at most 60 s), then calls
 * smfi_stop().  Every signal is blocked in every thread before smfi_main,
 * so each goes only to the thread that waits for it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "callbacks.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "readable.h"

static const char *conf_path;
static char *pidfile;

static const char *model_error(const struct ims_engine *eng)
{
	const char *e = ims_engine_model_error(eng);

	return e ? e : "";
}

/* Builds a new engine from the config file and publishes it; on any error
 * the running engine stays. */
static int reload(void)
{
	struct ims_conf *conf = NULL;
	struct ims_engine *eng = NULL, *prev;
	char err[512];
	ims_status rc;

	if (ims_conf_load(conf_path, &conf, err, sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=reload_failed error=\"%s\"", err);
		return -1;
	}
	prev = ims_engine_acquire();
	rc = ims_engine_rebuild(conf, prev, &eng, err, sizeof err);
	ims_engine_unref(prev);
	if (rc != IMS_OK) {
		ims_log_err(NULL, "event=reload_failed error=\"%s\"", err);
		ims_conf_unref(conf);
		return -1;
	}
	ims_log_set_level(ims_log_level_parse(conf->log_level));
	ims_engine_publish(eng);
	ims_log_notice(NULL, "event=engine_loaded config=%s model_version=%s model_error=\"%s\"",
	               conf_path, ims_engine_model_version(eng), model_error(eng));
	ims_engine_unref(eng);
	ims_conf_unref(conf);
	return 0;
}

#define RELOAD_SIGNAL SIGUSR1
#define DRAIN_SIGNAL  SIGUSR2

static void *signal_thread(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, RELOAD_SIGNAL);
	sigaddset(&set, DRAIN_SIGNAL);
	for (;;) {
		int sig = 0;

		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == RELOAD_SIGNAL) {
			ims_log_notice(NULL, "event=reload signal=SIGUSR1");
			reload();
		} else if (sig == DRAIN_SIGNAL) {
			ims_log_notice(NULL, "event=drain signal=SIGUSR2 in_flight=%d",
			               ims_milter_in_flight());
			ims_milter_drain();
			for (int i = 0; i < 600 && ims_milter_in_flight() > 0; i++)
				usleep(100000);
			smfi_stop();
			return NULL;
		}
	}
	return NULL;
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* 1 when something accepts connections on the unix socket path (a stale
 * socket file of a process that is gone refuses them). */
static int unix_socket_in_use(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, in_use;

	if (strlen(path) >= sizeof sa.sun_path)
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	in_use = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return in_use;
}

static int drop_privileges(const char *user, const char *sockpath)
{
	struct passwd *pw;

	if (!user || !*user || getuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		ims_log_err(NULL, "event=startup error=\"no such user %s\"", user);
		return -1;
	}
	if (sockpath && chown(sockpath, pw->pw_uid, pw->pw_gid) != 0)
		ims_log_warn(NULL, "event=startup error=\"chown %s: %s\"", sockpath,
		             strerror(errno));
	if (pidfile && chown(pidfile, pw->pw_uid, pw->pw_gid) != 0)
		ims_log_warn(NULL, "event=startup error=\"chown %s: %s\"", pidfile,
		             strerror(errno));
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		ims_log_err(NULL, "event=startup error=\"cannot become %s: %s\"", user,
		            strerror(errno));
		return -1;
	}
	return 0;
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* libmilter starts one thread per MTA connection with default attributes,
 * i.e. an 8 MB stack (RLIMIT_STACK) that glibc maps and unmaps for each
 * connection.  1 MB is plenty for a scan (its state is on the heap) and
 * lets glibc's stack cache keep enough stacks for the usual concurrency,
 * which removes an mmap/munmap/madvise per message. */
static void set_thread_stack(void)
{
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) != 0)
		return;
	if (pthread_attr_setstacksize(&attr, 1024 * 1024) == 0)
		pthread_setattr_default_np(&attr);
	pthread_attr_destroy(&attr);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: ims-milter [-f] [-t] [-c FILE]\n"
	        "  -c FILE  configuration (default %s)\n"
	        "  -f       stay in the foreground\n"
	        "  -t       check the configuration and the model, then exit\n",
	        IMS_CONF_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	struct ims_conf *conf = NULL;
	struct ims_engine *eng = NULL;
	char err[512], *sockpath = NULL;
	int opt, foreground = 0, test = 0, rc = 1;
	pthread_t tid;
	sigset_t set;

	/* Blocked before any thread exists, so in every thread (threads
	 * inherit the mask): signal_thread takes SIGUSR1 and SIGUSR2,
	 * libmilter's signal thread SIGHUP, SIGTERM and SIGINT, each with
	 * sigwait. */
	sigemptyset(&set);
	sigaddset(&set, RELOAD_SIGNAL);
	sigaddset(&set, DRAIN_SIGNAL);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	conf_path = IMS_CONF_DEFAULT_PATH;
	while ((opt = getopt(argc, argv, "c:fth")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': test = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (ims_conf_load(conf_path, &conf, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "ims-milter: %s\n", err);
		return 1;
	}
	if (ims_log_open("ims-milter", conf->log_target, conf->log_level, conf->log_facility) !=
	    IMS_OK) {
		fprintf(stderr, "ims-milter: bad [log] settings\n");
		goto out;
	}
	if (ims_engine_new(conf, &eng, err, sizeof err) != IMS_OK) {
		fprintf(stderr, "ims-milter: %s\n", err);
		goto out;
	}
	if (test) {
		printf("config %s ok; model %s\n", conf_path,
		       ims_engine_model(eng) ? ims_engine_model_version(eng)
		                             : ims_engine_model_error(eng));
		rc = ims_engine_model(eng) ? 0 : 1;
		goto out;
	}
	ims_engine_publish(eng);
	set_thread_stack();
	if (strncmp(conf->milter_socket, "unix:", 5) == 0)
		sockpath = conf->milter_socket + 5;
	else if (strncmp(conf->milter_socket, "local:", 6) == 0)
		sockpath = conf->milter_socket + 6;
	if (smfi_setconn(conf->milter_socket) != MI_SUCCESS ||
	    smfi_register(ims_milter_desc) != MI_SUCCESS) {
		fprintf(stderr, "ims-milter: bad socket %s\n", conf->milter_socket);
		goto out;
	}
	/* smfi_opensocket(1) removes an existing socket file first: refuse
	 * when another milter still answers on it, so a second ims-milter does
	 * not take the first one's socket away. */
	if (sockpath && unix_socket_in_use(sockpath)) {
		fprintf(stderr, "ims-milter: cannot listen on %s: in use by another process\n",
		        conf->milter_socket);
		goto out;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "ims-milter: cannot listen on %s\n", conf->milter_socket);
		goto out;
	}
	if (sockpath)
		chmod(sockpath, 0660);
	if (ims_milter_check_readable(conf->milter_user, conf, conf_path, err, sizeof err) != 0) {
		fprintf(stderr, "ims-milter: %s\n", err);
		goto out;
	}
	if (!foreground && daemonize() != 0) {
		fprintf(stderr, "ims-milter: cannot daemonize: %s\n", strerror(errno));
		goto out;
	}
	if (!foreground)
		ims_log_detached(); /* [log] target = auto: stderr is gone now */
	if (conf->milter_pidfile && *conf->milter_pidfile) {
		pidfile = conf->milter_pidfile;
		if (write_pidfile(pidfile) != 0)
			ims_log_warn(NULL, "event=startup error=\"pid file %s: %s\"", pidfile,
			             strerror(errno));
	}
	if (drop_privileges(conf->milter_user, sockpath) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&tid, NULL, signal_thread, NULL) != 0)
		goto out;
	pthread_detach(tid);
	ims_log_notice(NULL, "event=started socket=%s model_version=%s model_error=\"%s\"",
	               conf->milter_socket, ims_engine_model_version(eng), model_error(eng));
	if (ims_mmetrics_start(conf->milter_metrics_listen, err, sizeof err) != IMS_OK) {
		ims_log_err(NULL, "event=startup error=\"%s\"", err);
		fprintf(stderr, "ims-milter: %s\n", err);
		goto out;
	}
	ims_notify_ready(); /* the socket listens: Postfix may connect */
	if (smfi_main() != MI_SUCCESS)
		ims_log_err(NULL, "event=smfi_main_failed");
	/* stopped by SIGUSR2 (drained), or by libmilter on SIGTERM/SIGHUP/SIGINT:
	 * then sessions in progress end with the process and the MTA applies
	 * its milter_default_action (tempfail) to their messages */
	ims_notify_stopping();
	ims_milter_drain();
	ims_mmetrics_stop();
	ims_log_notice(NULL, "event=stopped in_flight=%d", ims_milter_in_flight());
	if (pidfile)
		unlink(pidfile);
	rc = 0;
out:
	ims_engine_publish(NULL);
	ims_engine_unref(eng);
	if (conf)
		ims_conf_unref(conf);
	return rc;
}
