/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Enrollment: from a token to the files OpenSSH uses.
 *
 *	ykssh_enroll_fido(ctx, &opts, &ui, &result)
 *
 * checks the target files first (so no touch is wasted on a key that
 * cannot be saved), opens the token, asks for the PIN only when it is
 * needed, makes the key on the token, verifies its attestation against the
 * trusted roots (attest.h) and writes the stub (0600), the .pub line
 * (0644) and the attestation ("<stub>.attest", with the challenge; and
 * opts.attestation as ssh-keygen writes it), each atomically; an existing
 * file is replaced only with opts.force, after a backup.
 *
 * An attestation that does not verify (untrusted, invalid, self
 * attestation) refuses the key with ATTESTATION before any file is
 * written, unless opts.allow_unattested; a refused resident key is
 * deleted from the token again (the message says whether that worked).
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

#include "ykssh/attest.h"
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
	/*
	 * PIV: a new secret described by `what` (asked twice), e.g. the new
	 * PIN or PUK in --setup.
	 */
	struct ykssh_err *(*new_secret)(void *arg, const char *what,
	    struct ykssh_secret *s);
	/*
	 * PIV: an offer only an interactive user should see ("set up the
	 * token now?"); NULL or 0 = no.
	 */
	int	(*offer)(void *arg, const char *question);
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
	/*
	 * A backup token: refuse (CREDENTIAL_EXISTS) a token that holds this
	 * key, the primary's (ykssh_enroll_backup_plan); NULL: no check.
	 */
	const struct ykssh_sshkey *not_on;
	const struct ykssh_attest_trust *trust;	/* NULL: the default dirs */
	int		 allow_unattested;	/* keep a key whose
						   attestation fails */
};

struct ykssh_enroll_result {
	struct ykssh_sshkey *key;
	char		*fingerprint;
	char		*pub_line;	/* without newline */
	char		*stub_path;
	char		*pub_path;
	char		*attestation_path;	/* <stub>.attest */
	char		*attestation_copy;	/* opts.attestation or NULL */
	char		*backups[4];		/* backups made, or NULL */
	char		*token_path;
	char		*token_model;
	char		*token_aaguid;
	char		*token_firmware;
	char		*attestation_fmt;
	int		 attestation_has_x5c;
	struct ykssh_attest_result *attest;	/* the verification */
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

/*
 * The key to wire, FIDO2 or PIV (strings borrowed).  identity is what
 * IdentityFile names: the stub (FIDO2) or the .pub (PIV, with the PKCS#11
 * module in pkcs11_provider).  label names the block (NULL: the identity's
 * file name).
 */
struct ykssh_enroll_key {
	const struct ykssh_sshkey *key;
	const char	*fingerprint;
	const char	*pub_line;
	const char	*pub_path;
	const char	*identity;
	const char	*pkcs11_provider;	/* PIV only */
	const char	*label;
	/*
	 * A backup token's key: it joins the existing block of `label` as
	 * its last IdentityFile (ssh tries the primary first), and the
	 * marker's key id becomes "<primary fp>,<backup fp>".
	 */
	int		 backup;
};

struct ykssh_err *ykssh_enroll_wire(struct ykssh_ctx *ctx, const char *home,
    const struct ykssh_enroll_key *k, const struct ykssh_enroll_wire_opts *w,
    struct ykssh_enroll_wired **wiredp) YKSSH_MUST_CHECK;
void ykssh_enroll_wired_free(struct ykssh_enroll_wired *w);

/*
 * Errors: see fido.h, plus FILE_EXISTS, PERMISSION, UNSAFE_FILE, SYSTEM,
 * ATTESTATION (see above), and the trust directory's (attest.h).
 */
struct ykssh_err *ykssh_enroll_fido(struct ykssh_ctx *ctx,
    const struct ykssh_enroll_opts *opts, const struct ykssh_enroll_ui *ui,
    struct ykssh_enroll_result **resultp) YKSSH_MUST_CHECK;
void ykssh_enroll_result_free(struct ykssh_enroll_result *r);

/*
 * Backup tokens.  ykssh_enroll_backup_plan(home, config, label, &bp)
 * checks, before any token is touched, that `label` has a ykssh entry
 * in the config (config NULL: home/.ssh/config) with one FIDO2 key whose
 * stub is readable, and that the backup's names are free; it returns
 * what ykssh_enroll_fido needs (opts.output = backup_stub, opts.label =
 * backup_label, opts.type = type, opts.not_on = primary) and the wire
 * step (ykssh_enroll_key.label = label, .backup = 1).
 * Errors: FILE_NOT_FOUND (no entry, no stub), FILE_EXISTS (the entry
 * has a backup already, or an entry LABEL-backup exists), UNSUPPORTED
 * (a PIV entry), CONFIG (entry edited by hand), USAGE (label).
 */
struct ykssh_enroll_backup {
	char		*label;		/* the entry's (the primary's) */
	char		*backup_label;	/* label-backup */
	char		*primary_stub;	/* absolute path */
	char		*primary_fp;
	char		*backup_stub;	/* primary_stub + "-backup" */
	enum ykssh_keytype type;	/* the primary's */
	struct ykssh_sshkey *primary;	/* from its stub: key handle */
};

struct ykssh_err *ykssh_enroll_backup_plan(const char *home,
    const char *config_path, const char *label,
    struct ykssh_enroll_backup **bpp) YKSSH_MUST_CHECK;
void ykssh_enroll_backup_free(struct ykssh_enroll_backup *bp);
/*
 * The Bitbucket label for the backup key: "<the primary's label>
 * (backup)" when the primary is registered, else the backup label
 * (malloc'd in *labelp).  Errors: as ykssh_bb_list.
 */
struct ykssh_err *ykssh_enroll_backup_bb_label(struct ykssh_bb *bb,
    const struct ykssh_enroll_backup *bp, char **labelp) YKSSH_MUST_CHECK;
/*
 * A plain enroll under a label that already has a ykssh entry would
 * replace that entry: FILE_EXISTS (hint: --backup LABEL, or --force to
 * replace it) unless force.
 */
struct ykssh_err *ykssh_enroll_check_entry(const char *home,
    const char *config_path, const char *label, int force)
    YKSSH_MUST_CHECK;

/* The default key comment, "user@host" (malloc'd; NULL: no memory). */
char *ykssh_enroll_default_comment(void);
/*
 * A label names files and the application: 1 to 64 letters, digits, '-',
 * '_' and '.', not starting with '.'.  USAGE error otherwise.
 */
struct ykssh_err *ykssh_enroll_check_label(const char *label)
    YKSSH_MUST_CHECK;

/*
 * PIV enrollment: ykssh_enroll_piv(ctx, &opts, &ui, &result) plans the
 * files (the .pub and the attestation chain beside it), opens the card,
 * refuses an occupied slot without opts.force (saying what is there),
 * optionally hardens a factory token (opts.setup, or ui->offer), gets
 * management-key authentication (factory key, PIN-protected key after the
 * PIN, or ui->get_pin for the key in hex), generates the key, stores the
 * attestation certificate in the slot (so PKCS#11 modules see the key
 * without a touch) and writes the files; the card is reset at the end.
 * The attestation is verified against the trusted roots right after
 * ATTEST: one that does not verify refuses the enrollment (ATTESTATION)
 * unless opts.allow_unattested; the new key then stays in the slot (the
 * old one is gone), unused, and the message says so.
 */
struct ykssh_enroll_piv_opts {
	const char	*home;		/* required */
	const char	*reader;	/* NULL: first Yubico/YubiKey reader */
	uint8_t		 slot;		/* 0: 9a */
	uint8_t		 algorithm;	/* 0: ECCP256 */
	uint8_t		 pin_policy;	/* card byte; 0 = slot default */
	uint8_t		 touch_policy;	/* card byte; 0 = slot default */
	const char	*label;
	const char	*comment;	/* NULL: user@host */
	const char	*output;	/* .pub path; NULL ~/.ssh/id_piv_... */
	int		 force;		/* occupied slot, existing files */
	int		 setup;		/* new PIN, PUK, protected mgmt key */
	int		 allow_last_pin;	/* may spend the last PIN try */
	const struct ykssh_attest_trust *trust;	/* NULL: the default dirs */
	int		 allow_unattested;	/* keep a key whose
						   attestation fails */
};

struct ykssh_enroll_piv_result {
	struct ykssh_sshkey *key;
	char		*fingerprint;
	char		*pub_line;
	char		*pub_path;
	char		*attestation_path;	/* PEM: slot cert, F9 cert */
	struct ykssh_attest_result *attest;	/* its verification */
	char		*backups[2];
	char		*reader;
	char		*model;
	char		*firmware;
	uint32_t	 serial;
	uint8_t		 slot;
	uint8_t		 algorithm;
	uint8_t		 pin_policy;	/* effective, from metadata if known */
	uint8_t		 touch_policy;
	char		*replaced;	/* what --force replaced, or NULL */
	char		*pkcs11_module;	/* NULL if none installed */
	const char	*mgmt_algorithm;	/* "3des", "aes192", ... */
	int		 mgmt_protected;	/* PIN-protected key in use */
	int		 pin_used;
	int		 setup_done;
	/* Factory credentials still in place: 1 yes, 0 no, -1 unknown. */
	int		 factory_pin;
	int		 factory_puk;
	int		 factory_mgmt;
	unsigned long	 apdus;		/* APDUs sent by ykssh */
};

/*
 * Errors: DEVICE_NOT_FOUND (no reader/card/PIV), SLOT_OCCUPIED,
 * PIN_INVALID, PIN_BLOCKED, PIN_REQUIRED (last try refused), PIN_POLICY,
 * AUTH_MGMT_KEY, UNSUPPORTED (algorithm/firmware), FILE_EXISTS, DEVICE,
 * CANCELLED, ATTESTATION.  On an error after the key was generated, the
 * message says so.
 */
struct ykssh_err *ykssh_enroll_piv(struct ykssh_ctx *ctx,
    const struct ykssh_enroll_piv_opts *opts,
    const struct ykssh_enroll_ui *ui,
    struct ykssh_enroll_piv_result **resultp) YKSSH_MUST_CHECK;
void ykssh_enroll_piv_result_free(struct ykssh_enroll_piv_result *r);
/* The installed PKCS#11 module for PIV (libykcs11, else OpenSC), or NULL. */
const char *ykssh_enroll_piv_module(void);

#endif /* YKSSH_ENROLL_H */
