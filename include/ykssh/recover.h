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

#include <stdint.h>

#include "ykssh/ctx.h"
#include "ykssh/enroll.h"
#include "ykssh/error.h"
#include "ykssh/sshkey.h"

struct ykssh_bb;

struct ykssh_recover_opts {
	const char	*home;		/* required */
	const char *const *devices;	/* as for enroll */
	size_t		 ndevices;
	const char	*comment;	/* NULL: user@host */
	int		 force;		/* replace other files (backup) */
	/* PIV (ykssh_recover_piv) only: */
	const char	*reader;	/* NULL: first Yubico/YubiKey reader */
	uint8_t		 slot;		/* 0: every slot enroll --piv filled */
	struct ykssh_bb	*bb;		/* labels from the registrations */
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
	char			*backups[3];	/* or NULL */
	enum ykssh_recover_state state;
	struct ykssh_err	*error;		/* FAILED: why (owned) */
	/* PIV keys (stub_path NULL): */
	uint8_t			 slot;		/* 0 for FIDO2 */
	char			*attestation_path;	/* the chain, or NULL */
	int			 verified;	/* key read from the card's
						   metadata, certificate
						   matching; 0: from the
						   certificate alone */
};

struct ykssh_recover_result {
	char			*token_path;
	char			*token_model;
	struct ykssh_recovered	*keys;
	size_t			 n;
	/* PIV: slots with a key enroll did not make (no attestation). */
	uint8_t			 skipped[24];
	size_t			 nskipped;
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

/*
 * PIV: reads the key slots of the card (no PIN) and, for each slot whose
 * certificate is the token's attestation of the slot (what enroll --piv
 * stores; any key with opts.slot), writes the .pub (0644) and the
 * attestation chain as enroll --piv names them: ~/.ssh/id_piv_SLOT.pub,
 * or id_piv_SLOT_LABEL.pub when the key is registered on opts.bb under a
 * label that can name a file (the card does not keep labels).  The key is
 * the card's own (GET METADATA, firmware 5.3+), checked against the
 * certificate; before 5.3 the certificate's key is trusted.  Same file
 * rules as for FIDO2.  The card is reset at the end.  token_path is the
 * reader, token_model the card's model and firmware.
 * Errors: DEVICE_NOT_FOUND (no reader/card/PIV), DEVICE, the ~/.ssh
 * directory, Bitbucket's (listing the keys).
 */
struct ykssh_err *ykssh_recover_piv(struct ykssh_ctx *ctx,
    const struct ykssh_recover_opts *opts,
    struct ykssh_recover_result **resultp) YKSSH_MUST_CHECK;

#endif /* YKSSH_RECOVER_H */
