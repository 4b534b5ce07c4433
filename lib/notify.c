#include "config.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

static void notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	(void)sd_notify(0, state);
#else
	(void)state;
#endif
}

void ims_notify_ready(void)
{
	notify("READY=1");
}

void ims_notify_reloading(void)
{
	notify("RELOADING=1");
}

void ims_notify_stopping(void)
{
	notify("STOPPING=1");
}
