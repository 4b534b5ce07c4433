# tests of milter/ (see tests/local.mk)
