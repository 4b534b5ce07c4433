# tests of classifier/ (see tests/local.mk)
