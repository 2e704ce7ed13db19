/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Enrollment: from a token to the files OpenSSH uses.
 *
 *	ykssh_enroll_fido(ctx, &opts, &ui, &result)
 *
 * checks the target files first (so no touch is wasted on a key that
 * cannot be saved), opens the token, asks for the PIN only when it is
 * needed, makes the key on the token, and writes the stub (0600), the .pub
 * line (0644) and optionally the attestation, each atomically; an existing
 * file is replaced only with opts.force, after a backup.
 *
 * Interaction goes through the caller's ui callbacks; the library decides
 * when to ask.  Any callback may be NULL: the operation then fails with the
 * error that made it want to ask (PIN_REQUIRED, PIN_NOT_SET,
 * CREDENTIAL_EXISTS, UNSUPPORTED), each with a hint.
 */
#ifndef YKSSH_ENROLL_H
#define YKSSH_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"
#include "ykssh/secret.h"
#include "ykssh/sshkey.h"

struct ykssh_enroll_ui {
	void	*arg;
	/*
	 * Fill `pin` with the token's PIN (prompt names the token); return
	 * NULL or an error (e.g. CANCELLED).
	 */
	struct ykssh_err *(*get_pin)(void *arg, const char *prompt,
	    struct ykssh_secret *pin);
	/*
	 * The token has no PIN and the key needs one: ask for a new PIN
	 * (twice) into `pin`, or return an error to decline.
	 */
	struct ykssh_err *(*new_pin)(void *arg, const char *token,
	    struct ykssh_secret *pin);
	/* A yes/no question; 1 = yes. */
	int	(*confirm)(void *arg, const char *question);
};

struct ykssh_enroll_opts {
	const char	*home;		/* required: the user's home */
	const char *const *devices;	/* tokens to choose among; */
	size_t		 ndevices;	/* 0: every token plugged in */
	enum ykssh_keytype type;	/* UNSPEC: ED25519_SK */
	const char	*application;	/* NULL: "ssh:" (ssh:LABEL if
					   resident with a label) */
	const char	*user;		/* resident user id, NULL: none */
	int		 resident;
	int		 verify_required;
	int		 no_touch_required;
	const char	*label;		/* names files and application */
	const char	*comment;	/* NULL: user@host */
	const char	*output;	/* stub path; NULL: ~/.ssh/id_... */
	const char	*attestation;	/* path to write it to, or NULL */
	const uint8_t	*challenge;	/* NULL: random */
	size_t		 challenge_len;
	int		 force;		/* replace files (with a backup) */
};

struct ykssh_enroll_result {
	struct ykssh_sshkey *key;
	char		*fingerprint;
	char		*pub_line;	/* without newline */
	char		*stub_path;
	char		*pub_path;
	char		*attestation_path;	/* NULL if not written */
	char		*backups[3];		/* backups made, or NULL */
	char		*token_path;
	char		*token_model;
	char		*token_aaguid;
	char		*token_firmware;
	char		*attestation_fmt;
	int		 attestation_has_x5c;
	int		 pin_used;
	unsigned long	 ctap_requests;		/* CTAPHID requests sent */
};

/*
 * After the key exists: the ~/.ssh/config entry and the registration.
 *
 * The entry is named after the label (default: the stub's file name) and
 * points the host at the stub.  Host: the given alias; else the server's
 * SSH host (bitbucket.org, or the Data Center host with port 7999), and
 * when another ykssh entry already owns that name, the alias
 * "<host>-<label>" with HostName set (git remotes then use the alias).
 */
struct ykssh_bb;
struct ykssh_bb_server;

struct ykssh_enroll_wire_opts {
	int		 no_config;
	const char	*config_path;	/* NULL: ~/.ssh/config */
	const char	*host;		/* alias, or NULL (see above) */
	const char	*persist;	/* ControlPersist, or NULL */
	struct ykssh_bb	*bb;		/* NULL: do not register */
	const struct ykssh_bb_server *srv;	/* required with bb */
	const char	*bb_label;	/* registration label */
	int		 bb_label_explicit;	/* chosen by the user */
	unsigned	 expires_days;
};

struct ykssh_enroll_wired {
	char		*config_path;	/* NULL if no entry was written */
	char		*config_label;
	char		*host;		/* what to use in git URLs */
	char		*hostname;	/* NULL unless an alias */
	unsigned	 port;
	size_t		 config_line;
	char		*config_backup;
	char		*bb_id;		/* NULL if not registered */
	char		*bb_label;
	int		 bb_already;
};

struct ykssh_err *ykssh_enroll_wire(struct ykssh_ctx *ctx,
    const struct ykssh_enroll_opts *o, const struct ykssh_enroll_result *r,
    const struct ykssh_enroll_wire_opts *w, struct ykssh_enroll_wired **wiredp)
    YKSSH_MUST_CHECK;
void ykssh_enroll_wired_free(struct ykssh_enroll_wired *w);

/* Errors: see fido.h, plus FILE_EXISTS, PERMISSION, UNSAFE_FILE, SYSTEM. */
struct ykssh_err *ykssh_enroll_fido(struct ykssh_ctx *ctx,
    const struct ykssh_enroll_opts *opts, const struct ykssh_enroll_ui *ui,
    struct ykssh_enroll_result **resultp) YKSSH_MUST_CHECK;
void ykssh_enroll_result_free(struct ykssh_enroll_result *r);

#endif /* YKSSH_ENROLL_H */
