# man: see ../Makefile.am
