/* Impersonation and look-alikes (business e-mail compromise): the checks
 * of [bec] (docs/milter.md, "Impersonation and look-alikes").
 *
 *   BEC_LOOKALIKE_DOMAIN        the From domain looks like a local domain or
 *                               a [bec] protected_domains entry without being
 *                               it: the registrable domains' first labels are
 *                               within max_edit_distance, or equal after the
 *                               confusable skeleton (IDNA decoded, NFKC,
 *                               Cyrillic/Greek look-alikes, 0/1/rn/vv/cl)
 *   BEC_LOOKALIKE_CORRESPONDENT the same against the domains the recipient
 *                               corresponds with (lib/correspondents.h)
 *   BEC_DISPLAY_NAME_LOCAL_USER the From display name is a local user's
 *                               name (learned from their outbound mail, or
 *                               in protected_names) or holds a local
 *                               address, while the From address is external
 *   BEC_REPLY_TO_FREEMAIL       Reply-To is at a free-mail domain
 *                               (freemail_domains) that From is not at
 *   BEC_REPLY_TO_UNRELATED      Reply-To is at another organisation than From
 *                               (not for mailing-list mail, which has a List-Id)
 *   BEC_FIRST_TIME_SENDER       no local recipient has corresponded with the
 *                               From address before (the caller decides,
 *                               from lib/correspondents.h)
 *
 * Pure functions: no I/O; the caller looks up what Redis knows and passes
 * it in.  Each finding goes to emit with a detail naming what matched. */
#ifndef IMS_BEC_H
#define IMS_BEC_H

#include <stddef.h>

#include "heuristics.h"

#define IMS_BEC_MAX_NAME 256 /* display names are cut here before they are compared */

struct ims_bec_input {
	const char *from_addr;                    /* the first From mailbox's address, or NULL */
	const char *from_name;                    /* its display name (UTF-8), or NULL */
	const char *reply_to;                     /* the first Reply-To address, or NULL */
	const char *const *local_domains;         /* NULL-terminated, may be NULL */
	const char *const *protected_domains;     /* [bec] protected_domains, may be NULL */
	const char *const *correspondent_domains; /* the recipient's, may be NULL */
	const char *const *freemail_domains;      /* [bec] freemail_domains, may be NULL */
	const char *const *protected_names;       /* [bec] protected_names, may be NULL */
	const char *learned_name_owner;           /* local address whose owner sends under
	                                             from_name (lib/correspondents.h), or NULL */
	int list_mail;                            /* the message has a List-Id: lists set
	                                             Reply-To to themselves */
	int max_edit_distance;                    /* [bec] max_edit_distance */
	int min_label_length;                     /* [bec] min_label_length */
};

/* Runs the checks above (all but the first-time sender). */
void ims_bec_run(const struct ims_bec_input *in, ims_heur_emit emit, void *arg);

/* The confusable skeleton of a domain name or a label (ASCII or UTF-8,
 * punycode decoded first) into out: lower case, NFKC, Cyrillic and Greek
 * look-alikes as the Latin letter (classifier/normalize.h's table), and
 * the ASCII look-alikes 0->o, 1->l, rn->m, vv->w, cl->d.  Returns 0, or
 * -1 when it does not fit or is not a valid name. */
int ims_bec_skeleton(const char *name, char *out, size_t outlen);

/* Edit distance (Levenshtein with adjacent transpositions) of a and b,
 * capped: any value above cap is returned as cap + 1. */
int ims_bec_edit_distance(const char *a, const char *b, int cap);

/* 1 when domain looks like protected without having the same registrable
 * domain; why gets how ("edit distance 1", "confusable", "punycode
 * confusable").  Both are host names (ASCII or UTF-8). */
int ims_bec_lookalike(const char *domain, const char *protected, int max_edit_distance,
                      int min_label_length, char *why, size_t whylen);

/* The form display names are compared and stored in: NFKC, case folded,
 * look-alike letters mapped, invisible characters dropped, white space and
 * quotes collapsed ("  Alice SMITH " -> "alice smith").  Names longer than
 * IMS_BEC_MAX_NAME bytes, or than out, are cut (at a character), never
 * refused; bytes that are not UTF-8 count as U+FFFD.  Returns 0, or -1 when
 * nothing is left. */
int ims_bec_name_key(const char *name, char *out, size_t outlen);

#endif
