"""Test harness: starts real servers (Redis, Postfix, Dovecot, DNS, the ims
daemons) in a private temp dir on 127.0.0.1 with free ports, and stops them
by PID. Import from tests with sys.path including tests/."""
