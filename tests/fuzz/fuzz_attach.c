/* Fuzz target: the attachment walker (lib/attachments.c): libmagic on any
 * bytes, libarchive on whatever they claim to be, nested archives, OLE
 * macro search.  The first byte picks the name and declared type the bytes
 * arrive under (a document name, an archive name, none); the rest is the
 * attachment.  Oracle: every finding is a symbol of lib/symbols.c with a
 * bounded, NUL-terminated detail; the per-message budget is never exceeded
 * by more than one read. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "symbols.h"

static void check_finding(void *arg, const char *symbol, const char *detail)
{
	(void)arg;
	if (ims_symbol_find(symbol) < 0)
		abort();
	if (strnlen(detail, 4096) >= 4096)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
	    "invoice.pdf", "files.zip",       "a.tar.gz", "",
	    "x.docm",      "payload.pdf.exe", "scan.7z",  "report.doc"};
	static const char *const types[] = {"application/pdf",
	                                    "application/zip",
	                                    "application/gzip",
	                                    "",
	                                    "application/octet-stream",
	                                    "image/png",
	                                    "application/x-7z-compressed",
	                                    "application/msword"};
	/* small limits: each input stays fast, and the limits themselves are hit */
	const struct ims_attach_limits lim = {
	    .max_size = 1 << 20, .max_members = 64, .max_uncompressed = 4 << 20, .max_depth = 3};
	struct ims_attach_budget b;
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0];
	ims_attach_budget_init(&b, &lim);
	if (ims_attach_check(&b, names[sel & 7], types[(sel >> 3) & 7], (const char *)data + 1,
	                     size - 1, (sel & 0x40) != 0, check_finding, NULL) == IMS_EIO)
		abort(); /* libmagic's database is installed with the library */
	if (b.members > lim.max_members + 1 || b.uncompressed > lim.max_uncompressed + lim.max_size)
		abort();
	return 0;
}
