/* The `ims` command: shared state and helpers of the subcommands.
 *
 * Each subcommand lives in its own cli/cmd_*.c and is listed in the table
 * in cli/ims.c.  A subcommand gets argv starting at its own name (so
 * getopt works as usual) and returns the exit status: 0, 1 for an error
 * (one line on stderr), 2 for a usage error. */
#ifndef IMS_CLI_H
#define IMS_CLI_H

#include <stddef.h>

#include "conf.h"
#include "model.h"
#include "status.h"

#define IMS_EXIT_OK    0
#define IMS_EXIT_ERROR 1
#define IMS_EXIT_USAGE 2

struct ims_store;

struct ims_cli {
	const char *conf_path;   /* -c FILE, or NULL for the default */
	const char *model_path;  /* --model FILE, or NULL for [classifier] model */
	struct ims_conf *conf;   /* loaded on first ims_cli_conf() */
	struct ims_store *store; /* opened on first ims_cli_store() */
};

typedef int (*ims_cmd_fn)(struct ims_cli *cli, int argc, char **argv);

struct ims_command {
	const char *name;
	ims_cmd_fn run;
	const char *help; /* one line for `ims --help` */
};

/* Subcommands (one file each). */
int ims_cmd_train(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_classify(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_eval(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_model(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_user(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_config(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_feedback(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_retrain(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_quarantine(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_migrate(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_events(struct ims_cli *cli, int argc, char **argv);
int ims_cmd_rescan(struct ims_cli *cli, int argc, char **argv);

/* Prints "ims: <message>" on stderr; returns IMS_EXIT_ERROR. */
int ims_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "ims <cmd>: <message>" and "Try 'ims <cmd> --help'."; returns IMS_EXIT_USAGE. */
int ims_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The configuration: -c FILE (an error if bad), else the default file if
 * it exists, else built-in defaults.  NULL after printing the error.
 * Owned by cli (freed by ims_cli_done). */
const struct ims_conf *ims_cli_conf(struct ims_cli *cli);

/* Loads --model or the configured model; prints the error and returns NULL
 * on failure.  The caller owns the reference. */
struct ims_model *ims_cli_model(struct ims_cli *cli);

/* The Redis store of [redis] (lib/store.h), opened and checked (PING) on
 * first use: what the lib/ domain modules take.  NULL after printing
 * "ims: WHAT: why" (unreachable, refused credentials).  Owned by cli. */
struct ims_store *ims_cli_store(struct ims_cli *cli, const char *what);

/* The same without printing: NULL with why in err. */
struct ims_store *ims_cli_store_err(struct ims_cli *cli, char *err, size_t errlen);

void ims_cli_done(struct ims_cli *cli);

/* Reads a whole file ("-" = stdin) of at most max bytes into a malloc'ed
 * buffer (NUL-terminated; *len excludes the NUL).  IMS_ELIMIT when larger,
 * IMS_ENOTFOUND/IMS_EIO with errno set, IMS_ENOMEM. */
ims_status ims_cli_read_file(const char *path, size_t max, char **buf, size_t *len);

/* The regular files in dir (not recursive, hidden files skipped), sorted,
 * as malloc'ed "dir/name" strings appended to *files (*n grows). */
ims_status ims_cli_list_dir(const char *dir, char ***files, size_t *n);
void ims_cli_free_list(char **files, size_t n);

/* Command-line numbers: 1 when s is all of a number in [lo, hi] (*out set),
 * 0 otherwise. */
int ims_cli_parse_long(const char *s, long lo, long hi, long *out);
int ims_cli_parse_double(const char *s, double lo, double hi, double *out);

struct ims_dataset;
struct ims_feature_opts;
/* Parses the message buf (len bytes; the caller keeps it), extracts its
 * features with fo and adds them to ds with label (+1 spam, -1 ham): what
 * `ims train` and `ims retrain` do for every training message. */
ims_status ims_cli_dataset_add_message(struct ims_dataset *ds, const struct ims_feature_opts *fo,
                                       const char *buf, size_t len, int label);

#endif
