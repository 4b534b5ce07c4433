/* bench/noop-milter.c: the cheapest possible libmilter filter (no replies
 * until end of message, then five added headers), to show the floor any
 * milter costs Postfix.  cc -O2 noop-milter.c $(pkg-config --cflags --libs milter) -lpthread
 * usage: noop-milter inet:PORT@127.0.0.1|unix:PATH [addheaders] */
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
static int addh;
static sfsistat neg(SMFICTX *c, unsigned long f0, unsigned long f1, unsigned long f2,
                    unsigned long f3, unsigned long *p0, unsigned long *p1, unsigned long *p2,
                    unsigned long *p3)
{
	*p0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*p1 = f1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH |
	            SMFIP_NR_BODY | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NOUNKNOWN | SMFIP_NODATA);
	*p2 = *p3 = 0;
	return SMFIS_CONTINUE;
}
static sfsistat nr(SMFICTX *c)
{
	return SMFIS_NOREPLY;
}
static sfsistat nr1(SMFICTX *c, char *a)
{
	return SMFIS_NOREPLY;
}
static sfsistat cn(SMFICTX *c, char *h, _SOCK_ADDR *s)
{
	return SMFIS_NOREPLY;
}
static sfsistat mf(SMFICTX *c, char **a)
{
	return SMFIS_CONTINUE;
}
static sfsistat rc(SMFICTX *c, char **a)
{
	return SMFIS_NOREPLY;
}
static sfsistat hd(SMFICTX *c, char *n, char *v)
{
	return SMFIS_NOREPLY;
}
static sfsistat bd(SMFICTX *c, unsigned char *b, size_t l)
{
	return SMFIS_NOREPLY;
}
static sfsistat eom(SMFICTX *c)
{
	if (addh) {
		smfi_insheader(c, 0, "Authentication-Results", "x; none");
		smfi_addheader(c, "X-Spam-Flag", "NO");
		smfi_addheader(c, "X-Spam-Score", "0.0");
		smfi_addheader(c, "X-Spam-Status", "No, score=0.0 required=5.0 tests=none");
		smfi_addheader(c, "X-IMS-Scan-Id", "01M83HWMEE87XHQYH6NKAZMNH3");
	}
	return SMFIS_ACCEPT;
}
static sfsistat ab(SMFICTX *c)
{
	return SMFIS_CONTINUE;
}
int main(int argc, char **argv)
{
	struct smfiDesc d = {"noop", SMFI_VERSION, SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	                     cn,     nr1,          mf,
	                     rc,     hd,           nr,
	                     bd,     eom,          ab,
	                     ab,     NULL,         NULL,
	                     neg};
	addh = argc > 2;
	smfi_setconn(argv[1]);
	smfi_register(d);
	return smfi_main();
}
