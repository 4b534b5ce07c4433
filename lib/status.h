/* Status codes shared by every ims module.
 *
 * The split between temporary and permanent failure matters: it decides
 * whether the milter answers 4xx (the sender retries, nothing is lost) or
 * 5xx.  Functions return an ims_status and hand results out through
 * pointers. */
#ifndef IMS_STATUS_H
#define IMS_STATUS_H

typedef enum ims_status {
	IMS_OK = 0,
	IMS_EINVAL,    /* bad argument or malformed input: permanent */
	IMS_ENOMEM,    /* allocation failed */
	IMS_EIO,       /* file or socket error */
	IMS_ETEMP,     /* temporary: DNS timeout, Redis down; retry later */
	IMS_ELIMIT,    /* a configured size, depth or count limit was hit */
	IMS_ENOTFOUND, /* no such key, file, user or record */
	IMS_EFORMAT,   /* a file or record is corrupt or truncated */
	IMS_EVERSION,  /* written by an incompatible version */
	IMS_EEXIST,    /* already exists */
	IMS_EPERM,     /* not allowed */
} ims_status;

/* A short, static, lower-case description ("temporary failure"). */
const char *ims_strstatus(ims_status st);

/* True for the failures that should be retried rather than reported. */
static inline int ims_status_is_temporary(ims_status st)
{
	return st == IMS_ETEMP || st == IMS_ENOMEM || st == IMS_EIO;
}

#endif
