# ims: file mail that ims-milter tagged as spam into the Junk folder.
# Run before the user's own scripts (Dovecot: plugin { sieve_before = ... },
# compile with sievec).  X-Spam-Flag is set by ims-milter, and any copy that
# came from outside was removed first, so a sender cannot forge it.
require ["fileinto", "mailbox"];

if header :is "X-Spam-Flag" "YES" {
  fileinto :create "Junk";
  stop;
}
