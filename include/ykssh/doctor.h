/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykssh doctor: the troubleshooting steps a user would otherwise do by
 * hand, for each ykssh config entry (or the one for a host), in the order
 * one would do them:
 *
 *	token		the FIDO2 token opens (udev, plugged in); for a PIV
 *			key pcscd answers and the card is there
 *	config		ssh -G HOST uses the entry's User, HostName, Port and
 *			IdentityFile (no earlier Host block wins), and the
 *			IdentityFile holds the entry's key
 *	key		the stub matches its .pub and its credential is on the
 *			attached token (silent assertion: no touch, no PIN)
 *	agent		no agent key is offered before the entry's key
 *	bitbucket	the key is registered and not expired
 *	hostkey		the server's host key is in a known_hosts file ssh reads
 *	auth		a live ssh login (BatchMode), unless offline
 *
 * Each check ends pass, warn, fail or skip with a one-line finding and,
 * when not passing, a one-line fix.  Nothing here prompts or prints; no
 * PIN is ever needed.
 */
#ifndef YKSSH_DOCTOR_H
#define YKSSH_DOCTOR_H

#include <stddef.h>
#include <time.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"

struct ykssh_bb;

enum ykssh_doctor_status {
	YKSSH_DOCTOR_PASS = 0,
	YKSSH_DOCTOR_WARN,
	YKSSH_DOCTOR_FAIL,
	YKSSH_DOCTOR_SKIP
};

enum ykssh_doctor_check_id {
	YKSSH_DOCTOR_TOKEN = 0,
	YKSSH_DOCTOR_CONFIG,
	YKSSH_DOCTOR_KEY,
	YKSSH_DOCTOR_AGENT,
	YKSSH_DOCTOR_BITBUCKET,
	YKSSH_DOCTOR_HOSTKEY,
	YKSSH_DOCTOR_AUTH,
	YKSSH_DOCTOR_NCHECKS
};

struct ykssh_doctor_opts {
	const char	*home;
	const char	*config_path;	/* NULL: home/.ssh/config */
	const char	*host;		/* NULL: every ykssh entry's host */
	const char	*user;		/* login name for ssh (-l), or NULL */
	struct ykssh_bb	*bb;		/* NULL: bitbucket check skipped */
	const char	*bb_skip;	/* why bb is NULL (shown), or NULL */
	const char	*bb_name;	/* "Bitbucket Cloud" */
	const char *const *devices;
	size_t		 ndevices;
	int		 offline;	/* no live authentication */
	int		 connect_timeout; /* seconds; 0: 10 */
	const char	*ssh_path;	/* NULL: "ssh" from PATH */
	const char	*ssh_add_path;	/* NULL: "ssh-add" */
	const char	*ssh_keygen_path; /* NULL: "ssh-keygen" */
	time_t		 now;		/* 0: time(NULL) */
	unsigned	 warn_days;	/* expiry warning; 0: 14 */
};

struct ykssh_doctor_check {
	enum ykssh_doctor_check_id id;
	enum ykssh_doctor_status status;
	char		*finding;
	char		*fix;		/* NULL when passing */
};

/* One ykssh config entry (or the host asked about) and its checks. */
struct ykssh_doctor_target {
	char		*host;
	char		*label;		/* NULL: no entry for host */
	char		*fingerprint;	/* the entry's key, or NULL */
	const char	*kind;		/* "fido2", "piv" or NULL */
	struct ykssh_doctor_check checks[YKSSH_DOCTOR_NCHECKS];
};

struct ykssh_doctor {
	struct ykssh_doctor_target *targets;
	size_t		 n;
	size_t		 failed;	/* checks that failed, all targets */
	size_t		 warned;
};

/* "token", "config", ... */
const char *ykssh_doctor_check_name(enum ykssh_doctor_check_id id);
/* "pass", "warn", "fail", "skip" */
const char *ykssh_doctor_status_name(enum ykssh_doctor_status st);

/*
 * Runs the checks.  A check that cannot be done is a finding, not an
 * error: errors are only NOMEM, and CONFIG when the config cannot be read
 * at all.  *doctorp is set on success.
 */
struct ykssh_err *ykssh_doctor_run(struct ykssh_ctx *ctx,
    const struct ykssh_doctor_opts *opts, struct ykssh_doctor **doctorp)
    YKSSH_MUST_CHECK;
void ykssh_doctor_free(struct ykssh_doctor *d);

#endif /* YKSSH_DOCTOR_H */
