# classifier: see ../Makefile.am
