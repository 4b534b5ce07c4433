# cli: see ../Makefile.am
