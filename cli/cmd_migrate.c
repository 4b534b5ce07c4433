/* ims migrate [--dry-run]: lib/migrate.h brings an older Redis store up to
 * the layout of docs/redis-schema.md.  Prints one JSON object with the
 * counts. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ims.h"
#include "migrate.h"

static void help(void)
{
	printf("usage: ims migrate [--dry-run]\n"
	       "Removes the Redis copies of delivered mail an older ims kept (Dovecot has\n"
	       "them) and writes the brief of every stored scan log (docs/redis-schema.md).\n"
	       "  --dry-run  count what would change, change nothing\n");
}

int ims_cmd_migrate(struct ims_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ims_migrate_counts n = {0};
	struct ims_store *st;
	bool dry = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'h': help(); return IMS_EXIT_OK;
		default: return ims_cli_usage_error("migrate", "bad option");
		}
	}
	if (optind != argc)
		return ims_cli_usage_error("migrate", "no arguments expected");
	if (!(st = ims_cli_store(cli, "migrate")))
		return IMS_EXIT_ERROR;
	if (ims_migrate_run(st, dry, &n) != IMS_OK)
		return ims_cli_error("redis failed part way (run it again: it is idempotent)");
	printf("{\"dry_run\":%s,\"mailbox_copies_deleted\":%ld,\"folder_indexes_deleted\":%ld,"
	       "\"scan_logs\":%ld,\"briefs_written\":%ld}\n",
	       dry ? "true" : "false", n.copies, n.indexes, n.scanned, n.briefs);
	return IMS_EXIT_OK;
}
