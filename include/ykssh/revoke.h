/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Revocation: take a key out of service everywhere ykssh put it.
 *
 *	ykssh_revoke(ctx, &opts, &report)
 *
 * finds the key by label (the ~/.ssh/config entry ykssh wrote, or the key
 * files named after it) or by its SHA256 fingerprint, then, each step on
 * its own so one failure does not stop the others:
 *
 *	bitbucket	delete the registration (when a client is given)
 *	config		remove ykssh's ~/.ssh/config entry for it
 *	files		delete the stub and the .pub
 *	token		delete the resident FIDO2 credential, or the PIV
 *			slot's key and certificate (opts.on_token)
 *
 * A lost token is the reason to revoke: without it, the token step is
 * reported as pending and everything else is still done.
 */
#ifndef YKSSH_REVOKE_H
#define YKSSH_REVOKE_H

#include "ykssh/ctx.h"
#include "ykssh/error.h"
#include "ykssh/sshkey.h"

struct ykssh_bb;
struct ykssh_secret;

enum ykssh_revoke_state {
	YKSSH_REVOKE_SKIPPED = 0,	/* not asked for */
	YKSSH_REVOKE_DONE,
	YKSSH_REVOKE_ABSENT,		/* nothing there to remove */
	YKSSH_REVOKE_PENDING,		/* cannot be done now (no token) */
	YKSSH_REVOKE_FAILED
};

enum ykssh_revoke_step {
	YKSSH_REVOKE_BITBUCKET = 0,
	YKSSH_REVOKE_CONFIG,
	YKSSH_REVOKE_FILES,
	YKSSH_REVOKE_TOKEN,
	YKSSH_REVOKE_NSTEPS
};

struct ykssh_revoke_report;

struct ykssh_revoke_opts {
	const char	*home;
	const char	*which;		/* label or "SHA256:..." */
	const char	*config_path;	/* NULL: home/.ssh/config */
	struct ykssh_bb	*bb;		/* NULL: leave Bitbucket alone */
	int		 on_token;	/* delete the resident credential */
	const char *const *devices;	/* as for enroll */
	size_t		 ndevices;
	/*
	 * PIV: the key's .pub says whether it is a PIV key; piv says so when
	 * no .pub is left.  The slot holding the key is found on the card
	 * (reader: NULL the first Yubico/YubiKey reader); deleting it needs
	 * the management key (factory, PIN-protected after the PIN, or asked
	 * in hex, all through get_pin).
	 */
	int		 piv;
	const char	*reader;
	/* The PIN for the token step (credential management needs it). */
	struct ykssh_err *(*get_pin)(void *arg, const char *prompt,
			    struct ykssh_secret *pin);
	/*
	 * Asked once the key is found (the report names it and its files),
	 * before anything changes; 0 stops with CANCELLED.  NULL: go ahead.
	 */
	int		(*confirm)(void *arg,
			    const struct ykssh_revoke_report *r);
	void		*arg;
};

struct ykssh_revoke_report {
	char			*fingerprint;	/* of the key revoked */
	char			*label;		/* config label, or NULL */
	/*
	 * The key is the backup token's key of the entry `label` (ykssh
	 * enroll --backup; its own label is label-backup).
	 */
	int			 backup;
	char			*stub_path;	/* or NULL */
	char			*pub_path;	/* or NULL */
	enum ykssh_revoke_state	 state[YKSSH_REVOKE_NSTEPS];
	char			*detail[YKSSH_REVOKE_NSTEPS];	/* or NULL */
	char			*hint[YKSSH_REVOKE_NSTEPS];	/* the fix, or NULL */
	/* FAILED: the error's code; PENDING: YKSSH_ERR_DEVICE_NOT_FOUND. */
	int			 code[YKSSH_REVOKE_NSTEPS];
};

/* "bitbucket", "config", "files", "token". */
const char *ykssh_revoke_step_name(enum ykssh_revoke_step step);
/* "done", "absent", "pending", "failed", "skipped". */
const char *ykssh_revoke_state_name(enum ykssh_revoke_state state);

/*
 * Finds the key and runs the steps.  Errors only when the key cannot be
 * found at all (FILE_NOT_FOUND with a hint), the config cannot be read,
 * or confirm says no (CANCELLED, nothing changed); otherwise the
 * outcome of each step is in the report, set whenever the key was found.
 * A label finds ykssh's config entry of that label, else the key file
 * ykssh named after it (id_ed25519_sk_LABEL.pub, id_piv_SLOT_LABEL.pub, or
 * LABEL.pub).
 */
struct ykssh_err *ykssh_revoke(struct ykssh_ctx *ctx,
    const struct ykssh_revoke_opts *opts, struct ykssh_revoke_report **reportp)
    YKSSH_MUST_CHECK;
void ykssh_revoke_report_free(struct ykssh_revoke_report *r);

#endif /* YKSSH_REVOKE_H */
