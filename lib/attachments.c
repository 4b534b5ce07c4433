/* Attachment types and archive members: see attachments.h. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attachments.h"
#include "heuristics.h"

/* Bytes libmagic looks at: enough for every type we act on (headers of
 * executables, zip local headers, OLE sectors of the directory). */
#define MAGIC_BYTES       (1024 * 1024)
#define MAX_PATH_SHOWN    150
#define MAGIC_POOL        64
#define MAGIC_REGEX_BYTES 2048

/* ---- libmagic handles: a magic_t is not thread-safe, so each caller
 * borrows one from a pool (opened on first need, kept for the process). */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t pool[MAGIC_POOL];
static size_t pool_n;

static magic_t magic_get(void)
{
	magic_t m = NULL;

	pthread_mutex_lock(&pool_lock);
	if (pool_n > 0)
		m = pool[--pool_n];
	pthread_mutex_unlock(&pool_lock);
	if (m)
		return m;
	m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (m && magic_load(m, NULL) != 0) {
		magic_close(m);
		return NULL;
	}
	if (m) {
		/* regex tests look at the first 2 kB, not 8 kB: a third less CPU
		 * on text (docs/benchmarks.md); what ims acts on is at the start */
		size_t rx = MAGIC_REGEX_BYTES;

		magic_setparam(m, MAGIC_PARAM_REGEX_MAX, &rx);
	}
	return m;
}

static void magic_put(magic_t m)
{
	if (!m)
		return;
	pthread_mutex_lock(&pool_lock);
	if (pool_n < MAGIC_POOL) {
		pool[pool_n++] = m;
		m = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (m)
		magic_close(m);
}

static ims_status magic_type(magic_t m, const char *data, size_t len, char *out, size_t outlen)
{
	const char *t = magic_buffer(m, data, len < MAGIC_BYTES ? len : MAGIC_BYTES);

	snprintf(out, outlen, "%s", t ? t : "application/octet-stream");
	return IMS_OK;
}

ims_status ims_attach_magic_type(const char *data, size_t len, char *out, size_t outlen)
{
	magic_t m = magic_get();

	if (!m)
		return IMS_EIO;
	magic_type(m, data, len, out, outlen);
	magic_put(m);
	return IMS_OK;
}

/* ---- what a type or a name says */

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcasecmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Types libmagic gives programs and scripts a double-click runs. */
static int is_executable_type(const char *t)
{
	static const char *const exec[] = {"application/x-dosexec",
	                                   "application/vnd.microsoft.portable-executable",
	                                   "application/x-executable",
	                                   "application/x-pie-executable",
	                                   "application/x-sharedlib",
	                                   "application/x-mach-binary",
	                                   "application/x-msi",
	                                   "application/x-ms-shortcut",
	                                   "application/x-java-applet",
	                                   "text/x-shellscript",
	                                   "text/x-msdos-batch",
	                                   "text/x-perl",
	                                   "text/x-python",
	                                   "application/x-bytecode.python",
	                                   "application/hta",
	                                   "application/x-ms-installer",
	                                   NULL};

	return in_list(t, exec) || strncmp(t, "text/x-script.", 14) == 0;
}

/* OOXML and OpenDocument packages: zip archives of the document's parts */
static int is_office_package(const char *t)
{
	return strncmp(t, "application/vnd.openxmlformats-", 31) == 0 ||
	       strncmp(t, "application/vnd.ms-word.", 24) == 0 ||
	       strncmp(t, "application/vnd.ms-excel.", 25) == 0 ||
	       strncmp(t, "application/vnd.ms-powerpoint.", 30) == 0 ||
	       strncmp(t, "application/vnd.oasis.opendocument.", 35) == 0;
}

/* A name ending in ext (".xml"), any case. */
static int ends_with(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);

	return n >= e && strcasecmp(name + n - e, ext) == 0;
}

static int is_archive_type(const char *t)
{
	static const char *const arch[] = {"application/zip",
	                                   "application/x-zip-compressed",
	                                   "application/x-7z-compressed",
	                                   "application/x-rar",
	                                   "application/vnd.rar",
	                                   "application/x-tar",
	                                   "application/gzip",
	                                   "application/x-gzip",
	                                   "application/x-bzip2",
	                                   "application/x-xz",
	                                   "application/x-lzip",
	                                   "application/zstd",
	                                   "application/vnd.ms-cab-compressed",
	                                   "application/x-iso9660-image",
	                                   "application/java-archive",
	                                   "application/x-cpio",
	                                   "application/x-lzma",
	                                   NULL};

	return in_list(t, arch) || is_office_package(t);
}

/* A single compressed stream (no archive inside): read as one member. */
static int is_compressor_type(const char *t)
{
	static const char *const c[] = {
	    "application/gzip",   "application/x-gzip", "application/x-bzip2", "application/x-xz",
	    "application/x-lzip", "application/zstd",   "application/x-lzma",  NULL};

	return in_list(t, c);
}

/* Extension (after the last dot) of name names a document, an image or
 * media: what a reader expects to open, not to run. */
static int document_name(const char *name)
{
	static const char *const doc[] = {
	    "pdf", "doc",  "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf", "txt",
	    "csv", "odt",  "ods",  "odp",  "jpg", "jpeg", "png",  "gif", "bmp",  "tif", "tiff",
	    "htm", "html", "mp3",  "mp4",  "wav", "zip",  "xml",  "eml", NULL};
	const char *dot = name ? strrchr(name, '.') : NULL;

	return dot && in_list(dot + 1, doc);
}

static int document_type(const char *t)
{
	if (!t || !*t)
		return 0;
	return strncmp(t, "image/", 6) == 0 || strncmp(t, "text/", 5) == 0 ||
	       strncmp(t, "audio/", 6) == 0 || strncmp(t, "video/", 6) == 0 ||
	       strcmp(t, "application/pdf") == 0 || strcmp(t, "application/msword") == 0 ||
	       strcmp(t, "application/rtf") == 0 || strncmp(t, "application/vnd.ms-", 19) == 0 ||
	       strncmp(t, "application/vnd.openxmlformats-", 31) == 0 ||
	       strncmp(t, "application/vnd.oasis.", 22) == 0;
}

/* An OLE2 compound file (legacy Office) with a VBA storage: the directory
 * entry of "_VBA_PROJECT", "_VBA_PROJECT_CUR" or "Macros".  A directory
 * entry is 128 bytes, 128-aligned in the file, starting with its name in
 * UTF-16LE and holding the name's byte length (with the NUL) at offset 64:
 * a bounded search for those names where an entry can start. */
static int ole_has_macros(const char *data, size_t len)
{
	static const unsigned char ole_sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	static const char *const names[] = {"_VBA_PROJECT", "_VBA_PROJECT_CUR", "Macros", NULL};

	if (len < 512 + 128 || memcmp(data, ole_sig, 8) != 0)
		return 0;
	for (size_t off = 512; off + 128 <= len; off += 128) {
		const unsigned char *e = (const unsigned char *)data + off;
		size_t nl = (size_t)e[64] | (size_t)e[65] << 8;

		if (nl < 4 || nl > 64 || nl % 2)
			continue;
		for (int i = 0; names[i]; i++) {
			size_t n = strlen(names[i]), k;

			if (nl != (n + 1) * 2)
				continue;
			for (k = 0; k < n; k++)
				if (e[2 * k] != (unsigned char)names[i][k] || e[2 * k + 1] != 0)
					break;
			if (k == n && e[2 * n] == 0 && e[2 * n + 1] == 0)
				return 1;
		}
	}
	return 0;
}

/* ---- the walk */

struct walk {
	struct ims_attach_budget *b;
	magic_t magic;
	ims_attach_emit emit;
	void *arg;
	ims_status rc;
};

static void emit2(struct walk *w, const char *symbol, const char *path, const char *what)
{
	char detail[MAX_PATH_SHOWN + 100];

	if (what && *what)
		snprintf(detail, sizeof detail, "%.*s: %.90s", MAX_PATH_SHOWN, path, what);
	else
		snprintf(detail, sizeof detail, "%.*s", MAX_PATH_SHOWN, path);
	w->emit(w->arg, symbol, detail);
}

static void check_blob(struct walk *w, const char *path, const char *name, const char *declared,
                       const char *data, size_t len, bool cut, int depth);

/* Reads the current entry's data, at most what the per-message budget and
 * max_size allow; *cut when the entry had more.  NULL on allocation
 * failure or a read error (*err set). */
static char *read_entry(struct walk *w, struct archive *a, struct archive_entry *e, size_t *n,
                        bool *cut, int *err)
{
	const struct ims_attach_limits *lim = w->b->lim;
	size_t left = lim->max_uncompressed > w->b->uncompressed
	                  ? lim->max_uncompressed - w->b->uncompressed
	                  : 0;
	size_t cap = left < lim->max_size ? left : lim->max_size;
	size_t size = 4096;
	la_int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	char *buf;

	*n = 0, *cut = false, *err = 0;
	if (declared > 0 && (size_t)declared < cap)
		size = (size_t)declared + 1;
	if (size > cap + 1)
		size = cap + 1;
	buf = malloc(size);
	if (!buf)
		return NULL;
	for (;;) {
		la_ssize_t r;

		if (*n == size) {
			size_t ns = size * 2 > cap + 1 ? cap + 1 : size * 2;
			char *nb;

			if (ns <= size) { /* read cap + 1 bytes: there is more */
				*n = cap;
				*cut = true;
				break;
			}
			if (!(nb = realloc(buf, ns))) {
				free(buf);
				return NULL;
			}
			buf = nb, size = ns;
		}
		r = archive_read_data(a, buf + *n, size - *n);
		if (r == 0)
			break;
		if (r < 0) {
			*err = 1;
			break;
		}
		*n += (size_t)r;
	}
	w->b->uncompressed += *n;
	return buf;
}

static void list_archive(struct walk *w, const char *path, const char *type, const char *data,
                         size_t len, int depth)
{
	const struct ims_attach_limits *lim = w->b->lim;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int office = is_office_package(type);
	size_t first = w->b->members; /* entries listed before this archive */
	int r;

	if (!a) {
		w->rc = IMS_ENOMEM;
		return;
	}
	/* Named formats and built-in filters only: not _all, which adds
	 * mtree (its entries name files of this machine, which libarchive
	 * then opens) and filters that run external programs (lrzip, lzop,
	 * grzip). */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_compress(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_ar(a);
	if (is_compressor_type(type))
		archive_read_support_format_raw(a); /* a lone .gz: its stream is the member */
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		emit2(w, "ARCHIVE_UNREADABLE", path, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		char child[MAX_PATH_SHOWN * 2 + 2];
		const char *base;
		char *buf;
		size_t n;
		bool cut;
		int err;

		/* checked before counting: a nested archive that used the budget
		 * up must not let its parent count on past it */
		if (w->b->members >= lim->max_members) {
			emit2(w, "ARCHIVE_MEMBER_LIMIT", path, NULL);
			goto out;
		}
		w->b->members++;
		if (!name || !*name)
			name = "?";
		base = strrchr(name, '/');
		base = base && base[1] ? base + 1 : name;
		snprintf(child, sizeof child, "%.*s/%.*s", MAX_PATH_SHOWN, path, MAX_PATH_SHOWN,
		         name);
		if (archive_entry_is_encrypted(e)) {
			emit2(w, "ARCHIVE_ENCRYPTED", child, NULL);
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		/* an OOXML package libmagic did not name (it starts so) */
		if (w->b->members == first + 1 && strcmp(name, "[Content_Types].xml") == 0)
			office = 1;
		if (strcasecmp(base, "vbaProject.bin") == 0)
			emit2(w, "OFFICE_MACRO", child, NULL);
		/* an Office package's own XML parts are not typed (libmagic costs
		 * ~2 ms per text part); embedded objects, media and macros are */
		if (office && (ends_with(name, ".xml") || ends_with(name, ".rels")))
			continue;
		if (w->b->uncompressed >= lim->max_uncompressed) {
			emit2(w, "ARCHIVE_BYTES_LIMIT", child, NULL);
			goto out;
		}
		buf = read_entry(w, a, e, &n, &cut, &err);
		if (!buf) {
			w->rc = IMS_ENOMEM;
			goto out;
		}
		if (cut)
			emit2(w,
			      w->b->uncompressed >= lim->max_uncompressed ? "ARCHIVE_BYTES_LIMIT"
			                                                  : "ATTACH_SIZE_LIMIT",
			      child, NULL);
		if (err && archive_read_has_encrypted_entries(a) > 0)
			emit2(w, "ARCHIVE_ENCRYPTED", child, NULL);
		else if (err)
			emit2(w, "ARCHIVE_UNREADABLE", child, archive_error_string(a));
		check_blob(w, child, base, NULL, buf, n, cut || err, depth + 1);
		free(buf);
		/* past a cut the rest of the archive is not read: skipping an
		 * entry of a compressed stream costs its decompression */
		if (w->rc != IMS_OK || err || cut)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		if (archive_read_has_encrypted_entries(a) > 0)
			emit2(w, "ARCHIVE_ENCRYPTED", path, NULL);
		else
			emit2(w, "ARCHIVE_UNREADABLE", path, archive_error_string(a));
	}
out:
	archive_read_free(a);
}

static void check_blob(struct walk *w, const char *path, const char *name, const char *declared,
                       const char *data, size_t len, bool cut, int depth)
{
	char type[128];
	int dbl = 0;

	magic_type(w->magic, data, len, type, sizeof type);
	if (is_executable_type(type)) {
		emit2(w, "ATTACH_EXECUTABLE", path, type);
		if (document_name(name) || document_type(declared))
			emit2(w, "ATTACH_TYPE_MISMATCH", path, type);
	}
	/* members' names as the heuristics judge top-level ones */
	if (depth > 0 && name && ims_heur_bad_filename(name, &dbl)) {
		emit2(w, "BAD_ATTACHMENT_EXT", path, NULL);
		if (dbl)
			emit2(w, "DOUBLE_ATTACHMENT_EXT", path, NULL);
	}
	if (ole_has_macros(data, len))
		emit2(w, "OFFICE_MACRO", path, NULL);
	if (!is_archive_type(type) || cut || len == 0)
		return;
	if (depth >= w->b->lim->max_depth) {
		emit2(w, "ARCHIVE_DEPTH_LIMIT", path, NULL);
		return;
	}
	list_archive(w, path, type, data, len, depth);
}

void ims_attach_budget_init(struct ims_attach_budget *b, const struct ims_attach_limits *lim)
{
	*b = (struct ims_attach_budget){.lim = lim};
}

ims_status ims_attach_check(struct ims_attach_budget *b, const char *filename,
                            const char *declared_type, const char *data, size_t len, bool cut,
                            ims_attach_emit emit, void *arg)
{
	struct walk w = {.b = b, .emit = emit, .arg = arg, .rc = IMS_OK};
	const char *path = filename && *filename ? filename : "(unnamed)";

	if (!data)
		data = "", len = 0;
	w.magic = magic_get();
	if (!w.magic)
		return IMS_EIO;
	if (cut)
		emit2(&w, "ATTACH_SIZE_LIMIT", path, NULL);
	check_blob(&w, path, filename, declared_type, data, len, cut, 0);
	magic_put(w.magic);
	return w.rc;
}
