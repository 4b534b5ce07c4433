/* What an attachment really is: its type by content (libmagic) against its
 * file name and declared Content-Type, the members of archives (libarchive,
 * read from memory, nested archives to a bounded depth) checked the same
 * way, encrypted archives, and macros in Office documents.
 *
 * The walker sees decoded bytes only: the caller (lib/scan_malware.c) takes
 * the attachments from the scan's one MIME parse (classifier/message.h).
 * Findings go to the emit callback as symbols of lib/symbols.c with a
 * detail that names the attachment, members as "outer.zip/inner.exe":
 *
 *   ATTACH_EXECUTABLE     an executable or script by content (PE, ELF,
 *                         Mach-O, MSI, shell/batch scripts)
 *   ATTACH_TYPE_MISMATCH  executable content under a document or image
 *                         name or declared type ("invoice.pdf" that is a PE)
 *   BAD_ATTACHMENT_EXT,   an archive member's name, as lib/heuristics.c judges
 *   DOUBLE_ATTACHMENT_EXT top-level names ("a.zip/invoice.pdf.exe")
 *   ARCHIVE_ENCRYPTED     an archive with encrypted members (not looked into)
 *   OFFICE_MACRO          an OOXML document with vbaProject.bin, or an OLE
 *                         document with a _VBA_PROJECT or Macros storage
 *   ATTACH_SIZE_LIMIT, ARCHIVE_MEMBER_LIMIT, ARCHIVE_BYTES_LIMIT,
 *   ARCHIVE_DEPTH_LIMIT, ARCHIVE_UNREADABLE: a limit stopped the walk, or
 *                         libarchive could not read an archive: part of the
 *                         attachment was not looked at
 *
 * Every limit is per message (struct ims_attach_budget), so one message
 * costs at most max_uncompressed bytes of decompression and max_members
 * archive entries, whatever it holds.  Thread-safe: libmagic handles are
 * kept in a pool, one per concurrent caller. */
#ifndef IMS_ATTACHMENTS_H
#define IMS_ATTACHMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct ims_attach_limits {
	size_t max_size;         /* decoded bytes of one attachment or member looked at */
	size_t max_members;      /* archive entries listed per message */
	size_t max_uncompressed; /* bytes decompressed from archives per message */
	int max_depth;           /* archives inside archives (1: members of the attachment) */
};

/* What is left of the limits for one message: start with
 * ims_attach_budget_init and pass the same budget for each attachment. */
struct ims_attach_budget {
	const struct ims_attach_limits *lim;
	size_t members;      /* entries listed so far */
	size_t uncompressed; /* bytes decompressed so far */
};

void ims_attach_budget_init(struct ims_attach_budget *b, const struct ims_attach_limits *lim);

/* Called once per finding; symbol is static, detail valid only during the
 * call. */
typedef void (*ims_attach_emit)(void *arg, const char *symbol, const char *detail);

/* Checks one attachment: len decoded bytes at data (not NUL-terminated),
 * cut when the attachment was larger than what data holds (the caller read
 * at most lim->max_size bytes: ATTACH_SIZE_LIMIT is emitted, the type is
 * judged on the first bytes, an archive is not listed).  filename and
 * declared_type (lower case) may be NULL or "".  IMS_OK, or IMS_ENOMEM, or
 * IMS_EIO when libmagic cannot load its database (the caller logs it). */
ims_status ims_attach_check(struct ims_attach_budget *b, const char *filename,
                            const char *declared_type, const char *data, size_t len, bool cut,
                            ims_attach_emit emit, void *arg);

/* The MIME type libmagic gives len bytes at data ("application/zip") into
 * out; public for the tests.  IMS_EIO when libmagic is not usable. */
ims_status ims_attach_magic_type(const char *data, size_t len, char *out, size_t outlen);

#endif
