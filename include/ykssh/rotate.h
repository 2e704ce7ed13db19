/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rotation: replace the key of a ykssh config entry with a new one, so
 * that a working key exists at every moment.
 *
 *	ykssh_rotate(ctx, &opts, &report)
 *
 * Steps, each recorded in a journal (~/.ssh/.ykssh-rotate-LABEL, 0600,
 * replaced atomically) once done:
 *
 *	planned		the old key found and read; the journal created
 *	enrolled	the new key made on the token, its files beside the old
 *			ones (<stub>.new, <stub>.new.pub)
 *	registered	the new key registered with Bitbucket
 *	proven		ssh logged in with the new key alone (ssh -T style)
 *	backed-up	the old files hard-linked to <stub>.old[.N] and
 *			<stub>.pub.old[.N]
 *	pub-cleared	the old .pub removed (ssh then reads the public key
 *			from the stub: stub and .pub never disagree)
 *	stub-switched	the new stub renamed over the old one
 *	pub-switched	the new .pub renamed into place
 *	config		the config entry names the new key's fingerprint
 *	old-removed	the old key deleted from Bitbucket
 *	token		the old resident credential deleted (opts.on_token)
 *
 * A PIV key (an entry with PKCS11Provider) keeps working from its slot
 * while the new key is made in another slot (opts.piv_slot, else the
 * first empty one of 9a, 9c, 9d, 9e, 82..95) with the old key's
 * algorithm and PIN and touch policies; its steps are:
 *
 *	planned		the old key's slot found on the card, the new slot
 *			and file names (id_piv_SLOT_LABEL.pub) decided
 *	enrolled	the new key made in the new slot, its .pub and
 *			attestation chain written (as enroll --piv does)
 *	registered, proven	as above (ssh with PKCS11Provider and the new
 *			.pub alone)
 *	config		the entry's IdentityFile names the new .pub
 *	old-files	the old .pub and attestation renamed to *.old
 *	old-removed	the old key deleted from Bitbucket
 *	token		the old slot's key and certificate deleted
 *			(opts.on_token)
 *
 * then the journal is removed.  With a journal present, ykssh_rotate
 * resumes after its last step: it never makes a second new key and never
 * removes the old key before the new one is proven and in place.  A
 * failed step leaves the journal; the report says what state each key is
 * in.
 */
#ifndef YKSSH_ROTATE_H
#define YKSSH_ROTATE_H

#include "ykssh/ctx.h"
#include "ykssh/enroll.h"
#include "ykssh/error.h"
#include "ykssh/sshkey.h"

struct ykssh_bb;

enum ykssh_rotate_step {
	YKSSH_ROTATE_NONE = 0,		/* nothing done yet */
	YKSSH_ROTATE_PLANNED,
	YKSSH_ROTATE_ENROLLED,
	YKSSH_ROTATE_REGISTERED,
	YKSSH_ROTATE_PROVEN,
	YKSSH_ROTATE_BACKED_UP,
	YKSSH_ROTATE_PUB_CLEARED,
	YKSSH_ROTATE_STUB_SWITCHED,
	YKSSH_ROTATE_PUB_SWITCHED,
	YKSSH_ROTATE_CONFIG,
	YKSSH_ROTATE_OLD_FILES,		/* PIV only */
	YKSSH_ROTATE_OLD_REMOVED,
	YKSSH_ROTATE_TOKEN,
	YKSSH_ROTATE_DONE		/* journal removed */
};

/* "planned", "enrolled", ... ("none", "done" at the ends). */
const char *ykssh_rotate_step_name(enum ykssh_rotate_step step);
/* The step of that name, or -1. */
int ykssh_rotate_step_from_name(const char *name);

/* Tri-state options: keep what the old key has unless set. */
#define YKSSH_ROTATE_KEEP	(-1)

struct ykssh_rotate_opts {
	const char	*home;		/* required */
	const char	*label;		/* the config entry's label */
	const char	*config_path;	/* NULL: home/.ssh/config */
	struct ykssh_bb	*bb;		/* required: the registration */
	const char *const *devices;	/* tokens, as for enroll */
	size_t		 ndevices;
	/* The new key; KEEP/UNSPEC/NULL: as the old key. */
	enum ykssh_keytype type;
	int		 resident;		/* KEEP, 0 or 1 */
	int		 verify_required;	/* KEEP, 0 or 1 */
	int		 no_touch_required;	/* KEEP, 0 or 1 */
	const char	*user;		/* resident user id (NULL: new one) */
	int		 expires_set;	/* else the old registration's */
	unsigned	 expires_days;	/* 0: none (with expires_set) */
	int		 on_token;	/* delete the old resident key */
	int		 no_check;	/* skip the live ssh check */
	const char	*check_user;	/* ssh login user of the check */
	const char	*ssh_path;	/* NULL: "ssh" */
	int		 abort;		/* undo an unfinished rotation */
	/* The new key's attestation, as for enroll (NULL: default dirs). */
	const struct ykssh_attest_trust *trust;
	int		 allow_unattested;
	/* PIV: the new key's slot (0: the first empty one), the reader. */
	uint8_t		 piv_slot;
	const char	*reader;	/* NULL: the first YubiKey */
	const struct ykssh_enroll_ui *ui;	/* PIN and questions */
	/*
	 * Progress: called as each step starts (may be NULL); step NONE
	 * with the journal's path when an unfinished rotation resumes.
	 */
	void		(*progress)(void *arg, enum ykssh_rotate_step step,
			    const char *detail);
	void		*arg;
};

struct ykssh_rotate_report {
	char		*label;
	char		*journal;	/* its path */
	char		*old_fingerprint;
	char		*new_fingerprint;	/* NULL until enrolled */
	char		*stub_path;	/* the entry's key (canonical) */
	char		*pub_path;
	char		*new_stub;	/* side files of the new key */
	char		*new_pub;
	char		*backup_stub;	/* the old key's files afterwards */
	char		*backup_pub;
	char		*new_type;	/* "sk-ssh-ed25519@openssh.com" */
	char		*new_application;
	uint8_t		 new_flags;
	uint8_t		 old_flags;
	unsigned	 expires_days;	/* of the new registration */
	int		 resumed;	/* a journal was found */
	int		 checked;	/* the live check passed (not skipped) */
	char		*check_detail;	/* what the check saw */
	int		 old_bb_absent;	/* already gone from Bitbucket */
	int		 token_state;	/* 0 skipped, 1 deleted, 2 absent */
	/* The new key's attestation did not verify (allow_unattested). */
	int		 unattested;
	/* A PIV key: its slots (the paths: pub_path, backup_pub). */
	int		 piv;
	uint8_t		 old_slot;
	uint8_t		 new_slot;
	enum ykssh_rotate_step done;	/* last step completed */
	/* One sentence each: where each key stands now (never NULL). */
	char		*old_state;
	char		*new_state;
};
void ykssh_rotate_report_free(struct ykssh_rotate_report *r);

/*
 * Rotates (or, with opts.abort, undoes an unfinished rotation before the
 * switch).  *reportp is set whenever the old key was found, also on
 * error.  Errors: FILE_NOT_FOUND (no entry of that label, or its key
 * files are missing), CONFIG, SLOT_OCCUPIED (no free PIV slot), the token's
 * errors (enroll.h), Bitbucket's (bitbucket.h), REJECTED (the server
 * refused the new key's login), NETWORK (the ssh host cannot be reached),
 * DEVICE_NOT_FOUND (the token step waits for the token); each leaves the
 * journal so that running it again finishes the job.
 */
struct ykssh_err *ykssh_rotate(struct ykssh_ctx *ctx,
    const struct ykssh_rotate_opts *opts, struct ykssh_rotate_report **reportp)
    YKSSH_MUST_CHECK;

/*
 * The live check alone: logs in to the host of `host` (as ssh -G -F
 * config_path computes its HostName, Port, User, known hosts, proxies and
 * SecurityKeyProvider) with only `identity`, through real ssh.  Nothing
 * else of the config is used (no other identity, no agent, no control
 * master).  *detailp: what ssh said.  Errors: REJECTED (the server
 * refused the key), NETWORK (host unreachable, connection refused or
 * timed out: nothing was proven), CONFIG (host key unknown or changed),
 * SYSTEM (ssh could not run).
 */
struct ykssh_err *ykssh_rotate_check_login(const char *ssh_path,
    const char *config_path, const char *host, const char *user,
    const char *identity, char **detailp) YKSSH_MUST_CHECK;
/* The same for a PIV key: identity is its .pub, pkcs11 the module. */
struct ykssh_err *ykssh_rotate_check_login_pkcs11(const char *ssh_path,
    const char *config_path, const char *host, const char *user,
    const char *identity, const char *pkcs11, char **detailp)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_ROTATE_H */
