/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of ykssh doctor, for doctor*.c, the unit test and the fuzzer. */
#ifndef YKSSH_DOCTOR_INTERNAL_H
#define YKSSH_DOCTOR_INTERNAL_H

#include <stddef.h>

#include "ykssh/doctor.h"
#include "ykssh/sshkey.h"

#define DR_MAX_FILES	32	/* identity / known_hosts files kept */

/* What ssh -G printed, for the options doctor looks at. */
struct dr_sshg {
	char	*user;
	char	*hostname;
	char	*port;
	char	*hostkeyalias;		/* or NULL ("none") */
	char	*identityagent;		/* or NULL */
	int	 identitiesonly;	/* 1 yes, 0 no */
	char	*pkcs11provider;	/* or NULL ("none") */
	char	*idfiles[DR_MAX_FILES];
	size_t	 nidfiles;
	char	*khfiles[DR_MAX_FILES];	/* user then global known_hosts */
	size_t	 nkhfiles;
};

/*
 * Parses ssh -G output ("keyword value" lines, lower-case keywords).
 * Unknown keywords are ignored; a keyword seen twice keeps its first value
 * except identityfile (every one, in order).  Errors: INVALID_FORMAT (no
 * user/hostname/port line, NUL byte), NOMEM.
 */
struct ykssh_err *ykssh_dr_parse_sshg(const char *text, size_t len,
    struct dr_sshg *g) YKSSH_MUST_CHECK;
void ykssh_dr_sshg_clear(struct dr_sshg *g);

/* One ssh-add -L line. */
struct dr_agentkey {
	struct ykssh_sshkey	*key;
	char			*fingerprint;
	char			*comment;	/* or NULL */
};

/*
 * Parses ssh-add -L output: one public key per line; lines that are not
 * keys (for example "The agent has no identities.") are skipped.  At most
 * 256 keys.  Errors: NOMEM.
 */
struct ykssh_err *ykssh_dr_parse_agent(const char *text, size_t len,
    struct dr_agentkey **keysp, size_t *np) YKSSH_MUST_CHECK;
void ykssh_dr_agent_free(struct dr_agentkey *k, size_t n);

/* What a live ssh login attempt ended in, from its stderr (-v). */
enum dr_auth {
	DR_AUTH_OK = 0,		/* "Authenticated to" */
	DR_AUTH_DENIED,		/* Permission denied (publickey) */
	DR_AUTH_HOSTKEY_CHANGED,	/* REMOTE HOST IDENTIFICATION ... */
	DR_AUTH_HOSTKEY_UNKNOWN,	/* Host key verification failed */
	DR_AUTH_NETWORK,	/* resolve, refused, unreachable, timeout */
	DR_AUTH_TOUCH,		/* waited for a touch and none came */
	DR_AUTH_OTHER
};
/*
 * Classifies ssh's stderr; timed_out: ssh was killed after the deadline.
 * *fpp (if not NULL) gets the fingerprint of the key the server accepted
 * ("Server accepts key: ... SHA256:..."), or NULL.  *linep gets the last
 * meaningful stderr line (or NULL), control characters replaced.
 */
enum dr_auth ykssh_dr_classify_auth(const char *text, size_t len,
    int timed_out, char **fpp, char **linep);

#endif /* YKSSH_DOCTOR_INTERNAL_H */
