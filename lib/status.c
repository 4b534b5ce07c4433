#include "status.h"

const char *ims_strstatus(ims_status st)
{
	switch (st) {
	case IMS_OK: return "ok";
	case IMS_EINVAL: return "invalid input";
	case IMS_ENOMEM: return "out of memory";
	case IMS_EIO: return "input/output error";
	case IMS_ETEMP: return "temporary failure";
	case IMS_ELIMIT: return "limit exceeded";
	case IMS_ENOTFOUND: return "not found";
	case IMS_EFORMAT: return "corrupt or truncated data";
	case IMS_EVERSION: return "incompatible version";
	case IMS_EEXIST: return "already exists";
	case IMS_EPERM: return "permission denied";
	}
	return "unknown status";
}
