# tests of webapi/ (see tests/local.mk)
