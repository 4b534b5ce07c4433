# webapi: see ../Makefile.am
