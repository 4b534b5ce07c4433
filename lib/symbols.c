#include "config.h"

#include <string.h>

#include "symbols.h"

/* Weights follow SpamAssassin/rspamd habits: authentication failures are
 * evidence, not proof; the SVM carries most of the content signal. */
const struct ims_symbol_def ims_symbols[] = {
    {"SPF_PASS", -0.5, "SPF passed for the envelope sender (or HELO)"},
    {"SPF_FAIL", 3.0, "SPF hard fail (-all)"},
    {"SPF_SOFTFAIL", 1.5, "SPF soft fail (~all)"},
    {"SPF_NEUTRAL", 0.5, "SPF neutral (?all)"},
    {"SPF_NONE", 0.5, "no SPF record"},
    {"SPF_TEMPERROR", 0.0, "SPF lookup failed temporarily"},
    {"SPF_PERMERROR", 1.0, "SPF record is broken"},
    {"DKIM_VALID", -1.0, "a DKIM signature verified"},
    {"DKIM_INVALID", 2.0, "a DKIM signature failed to verify"},
    {"DKIM_NONE", 0.5, "the message carries no DKIM signature"},
    {"DKIM_TEMPERROR", 0.0, "DKIM key lookup failed temporarily"},
    {"DKIM_PERMERROR", 1.0, "DKIM signature or key is malformed"},
    {"DMARC_PASS", -1.0, "DMARC aligned pass"},
    {"DMARC_POLICY_NONE", 1.0, "DMARC failed, the domain's policy is none"},
    {"DMARC_POLICY_QUARANTINE", 5.0, "DMARC failed, the domain's policy is quarantine"},
    {"DMARC_POLICY_REJECT", 10.0, "DMARC failed, the domain's policy is reject"},
    {"DMARC_NONE", 0.0, "the From domain publishes no DMARC record"},
    {"DMARC_TEMPERROR", 0.0, "DMARC record lookup failed temporarily"},
    {"SVM_SPAM", 8.0, "the SVM says spam; one point per unit of calibrated log-odds, at most this"},
    {"SVM_HAM", -3.0, "the SVM says ham; minus one point per unit of log-odds, at least this"},
    {"GTUBE", 1000.0, "the message contains the GTUBE test string"},
    {"PHISH_URL_TEXT_MISMATCH", 4.0, "a link's text names another domain than its target"},
    {"PHISH_URL_IP_LITERAL", 2.5, "a link points at a bare IP address"},
    {"PHISH_URL_PUNYCODE", 2.0, "a link's host is punycode (IDN look-alike)"},
    {"PHISH_DISPLAY_NAME_LOCAL", 3.0,
     "the From display name names a local domain the sender is not from"},
    {"BAD_ATTACHMENT_EXT", 5.0,
     "an attachment (or a member of an attached archive) has a dangerous extension (.exe, .js, "
     "...)"},
    {"DOUBLE_ATTACHMENT_EXT", 4.0,
     "an attachment (or archive member) hides its type behind two extensions"},
    {"MULTIPLE_FROM", 6.0, "the message has more than one From header"},
    {"MISSING_FROM", 2.0, "the message has no From header"},
    {"MIME_MALFORMED", 1.0, "the MIME structure is broken or truncated"},
    {"MIME_NESTING_LIMIT", 3.0,
     "multiparts nest too deep to parse at a bounded cost: only the header section was read"},
    {"AUTH_FROM_NOT_OWNED", 6.0,
     "outbound: a From address of a local domain is not the login's or one of its aliases "
     "(not DKIM-signed)"},
    {"AUTH_MAIL_FROM_NOT_OWNED", 3.0,
     "outbound: the envelope sender is another local address than the login's or its "
     "aliases (not DKIM-signed)"},
    {"HEADER_LIMIT", 0.0,
     "the header section exceeds [milter] max_headers or max_header_size (rejected)"},
    {"VIRUS_FOUND", 20.0,
     "clamd found malware (the signature in the detail); [antivirus] action rejects it by "
     "default whatever the score"},
    {"AV_UNAVAILABLE", 0.0,
     "clamd could not scan the message (down, timed out, error): [antivirus] on_error"},
    {"AV_SIZE_LIMIT", 0.5,
     "the message is larger than [antivirus] max_size (or clamd's StreamMaxLength): only its "
     "first bytes were scanned"},
    {"ATTACH_EXECUTABLE", 4.0,
     "an attachment or archive member is a program or script by its content"},
    {"ATTACH_TYPE_MISMATCH", 6.0,
     "executable content under a document or image name or declared type"},
    {"ARCHIVE_ENCRYPTED", 3.0, "an attached archive has encrypted members (not looked into)"},
    {"OFFICE_MACRO", 3.0, "an attached Office document carries VBA macros"},
    {"ATTACH_SIZE_LIMIT", 0.5,
     "an attachment or member is larger than [attachments] max_size: only its start was typed"},
    {"ARCHIVE_MEMBER_LIMIT", 1.0,
     "archives hold more members than [attachments] max_members: the rest were not listed"},
    {"ARCHIVE_BYTES_LIMIT", 2.0,
     "archives unpack to more than [attachments] max_uncompressed: the rest was not read"},
    {"ARCHIVE_DEPTH_LIMIT", 2.0,
     "archives nest deeper than [attachments] max_depth: the inner ones were not opened"},
    {"ARCHIVE_UNREADABLE", 1.0,
     "an attached archive is corrupt or in a form libarchive cannot read"},
    {"MODEL_STALE", 0.0,
     "the model file failed to load at the last reload; the previous model still scans"},
    {"DNSBL_FAIL", 0.0,
     "a DNS list did not answer (timeout, SERVFAIL) or answered an error code; neutral"},
    {"DNSBL_LIMIT", 0.0,
     "the message needed more DNS list lookups than [dnsbl] max_lookups; the rest were not "
     "asked"},
    {"INTEL_BLOCK", 10.0,
     "the client IP, a domain, a link or an attachment's sha256 is on a local block list "
     "([intel] dir)"},
    {"INTEL_ALLOW", -5.0,
     "the client IP, or the From domain of a message that passed DMARC, is on a local allow "
     "list ([intel] dir)"},
    {"SENDER_BLOCK", 12.0,
     "every local recipient (or its domain) blocks the envelope sender or the From address"},
    {"SENDER_ALLOW", -10.0,
     "every local recipient (or its domain) allows the From address, and DMARC passed; "
     "cannot undo GTUBE, a virus or a DMARC reject"},
    {"BEC_LOOKALIKE_DOMAIN", 5.0,
     "the From domain looks like a local or protected domain without being it (edit "
     "distance, confusable characters, punycode)"},
    {"BEC_LOOKALIKE_CORRESPONDENT", 3.0,
     "the From domain looks like a domain the recipient corresponds with without being it"},
    {"BEC_DISPLAY_NAME_LOCAL_USER", 4.0,
     "the From display name is a local user's (or a protected) name while the From address "
     "is external"},
    {"BEC_REPLY_TO_FREEMAIL", 2.0, "Reply-To is at a free-mail domain the From address is not at"},
    {"BEC_REPLY_TO_UNRELATED", 0.5,
     "Reply-To is at another organisation than From (not for mailing lists)"},
    {"BEC_FIRST_TIME_SENDER", 0.5,
     "no local recipient has corresponded with the From address before"},
    {"LINKS_REWRITTEN", 0.0,
     "the links of the delivered copy point at ims-webapi's /click ([links]); informational"},
    {"LINKS_NOT_REWRITTEN", 0.0,
     "[links] wanted the links rewritten but the message was delivered as it came (the "
     "detail says why: a charset, the limits, a MIME structure that would not survive)"},
    {NULL, 0.0, NULL},
};

int ims_symbol_count(void)
{
	int n = 0;

	while (ims_symbols[n].name)
		n++;
	return n;
}

int ims_symbol_find(const char *name)
{
	for (int i = 0; ims_symbols[i].name; i++)
		if (strcmp(ims_symbols[i].name, name) == 0)
			return i;
	return -1;
}
