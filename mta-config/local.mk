# mta-config: see ../Makefile.am
