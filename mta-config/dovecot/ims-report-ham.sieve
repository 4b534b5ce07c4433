# ims: a message was moved (or copied) out of Junk: the user calls it ham,
# unless it went to the Trash (deleting spam says nothing about it).
# Run by IMAPSieve (20-ims-imapsieve.conf); the message goes to ims on stdin.
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.mailbox" "*" {
  set "mailbox" "${1}";
}
if string :is "${mailbox}" ["Trash", "Junk"] {
  stop;
}
if environment :matches "imap.user" "*" {
  set "username" "${1}";
}
pipe :copy "ims-feedback" ["--ham", "--user", "${username}"];
