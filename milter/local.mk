# milter: see ../Makefile.am
