/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Recovery: the files OpenSSH needs, rebuilt from the token on a new
 * machine.
 *
 *	ykssh_recover_fido(ctx, &opts, &ui, &result)
 *
 * opens the token, reads its resident SSH keys through credential
 * management (the PIN is asked through ui.get_pin) and writes, for each,
 * the stub (0600) and .pub (0644) under ~/.ssh with the names enroll gives
 * them: id_ed25519_sk (application "ssh:") or id_ed25519_sk_LABEL
 * (application "ssh:LABEL"), id_ecdsa_sk likewise.  A file that already
 * holds the same key is left alone; a file holding anything else is
 * replaced only with opts.force, after a backup.  Each key has its own
 * outcome, so one conflict does not stop the others.  The config entry and
 * registration are ykssh_enroll_wire()'s, per key.
 */
#ifndef YKSSH_RECOVER_H
#define YKSSH_RECOVER_H

#include "ykssh/ctx.h"
#include "ykssh/enroll.h"
#include "ykssh/error.h"
#include "ykssh/sshkey.h"

struct ykssh_recover_opts {
	const char	*home;		/* required */
	const char *const *devices;	/* as for enroll */
	size_t		 ndevices;
	const char	*comment;	/* NULL: user@host */
	int		 force;		/* replace other files (backup) */
};

enum ykssh_recover_state {
	YKSSH_RECOVER_WRITTEN = 0,	/* stub and .pub written */
	YKSSH_RECOVER_PRESENT,		/* the files already hold it */
	YKSSH_RECOVER_REPLACED,		/* other files replaced (force) */
	YKSSH_RECOVER_FAILED		/* see error */
};

struct ykssh_recovered {
	struct ykssh_sshkey	*key;
	char			*fingerprint;
	char			*user;		/* resident user id, or NULL */
	char			*label;		/* from the application (the
						   stub's name when several
						   keys share one), or NULL
						   for plain "ssh:" */
	char			*pub_line;
	char			*stub_path;
	char			*pub_path;
	char			*backups[2];	/* or NULL */
	enum ykssh_recover_state state;
	struct ykssh_err	*error;		/* FAILED: why (owned) */
};

struct ykssh_recover_result {
	char			*token_path;
	char			*token_model;
	struct ykssh_recovered	*keys;
	size_t			 n;
};

/* "written", "present", "replaced", "failed". */
const char *ykssh_recover_state_name(enum ykssh_recover_state state);

/*
 * Errors: the token's (DEVICE_NOT_FOUND, PIN_*, UNSUPPORTED without
 * credential management, ...), or the ~/.ssh directory.  A token without
 * resident SSH keys is a result with n == 0.
 */
struct ykssh_err *ykssh_recover_fido(struct ykssh_ctx *ctx,
    const struct ykssh_recover_opts *opts, const struct ykssh_enroll_ui *ui,
    struct ykssh_recover_result **resultp) YKSSH_MUST_CHECK;
void ykssh_recover_result_free(struct ykssh_recover_result *r);

#endif /* YKSSH_RECOVER_H */
