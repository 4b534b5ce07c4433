/* `ims migrate`: brings a Redis store written by an ims that kept
 * delivered mail in Redis up to the layout of docs/redis-schema.md, where
 * Dovecot is the mailbox of record:
 *
 *   - deletes the mailbox copies of delivered mail (ims:{ADDR}:msg:ID and
 *     ims:{ADDR}:scan:ID of messages not held in quarantine) and the old
 *     folder indexes ims:{ADDR}:inbox and ims:{ADDR}:sent (Postfix
 *     delivered each of those messages to Dovecot too, so nothing is lost);
 *   - writes ims:{global}:brief:ID for every stored scan log that has none,
 *     with the scan log's remaining lifetime, so old messages show their
 *     verdict in mailbox lists.
 *
 * Idempotent: a second run finds nothing to do.  Walks every master of a
 * cluster (SCAN is per node). */
#ifndef IMS_MIGRATE_H
#define IMS_MIGRATE_H

#include <stdbool.h>

#include "status.h"

struct ims_store;

struct ims_migrate_counts {
	long copies, indexes, briefs, scanned;
};

/* Runs the migration (with dry_run: counts only) and adds what it did to
 * *n.  IMS_ETEMP when Redis failed part way (run it again). */
ims_status ims_migrate_run(struct ims_store *st, bool dry_run, struct ims_migrate_counts *n);

#endif
