# ims: a message was moved (or copied) into Junk: the user calls it spam.
# Run by IMAPSieve (20-ims-imapsieve.conf); the message goes to ims on stdin.
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.user" "*" {
  set "username" "${1}";
}
pipe :copy "ims-feedback" ["--spam", "--user", "${username}"];
