/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The keys ykssh knows, joined by fingerprint across the sources:
 *
 *	files		the .pub files of ~/.ssh holding security keys, and any
 *			.pub whose key a ykssh config entry names (PIV)
 *	config		ykssh's ~/.ssh/config entries
 *	bitbucket	the account's keys (when a client is given)
 *	token		the resident keys of an attached FIDO2 token, or the
 *			keys in the slots of a PIV card (on_token + piv)
 *
 * with what is inconsistent about each, as problem flags.
 */
#ifndef YKSSH_LIST_H
#define YKSSH_LIST_H

#include <stddef.h>
#include <time.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"

struct ykssh_attest_trust;
struct ykssh_bb;
struct ykssh_secret;

#define YKSSH_LIST_NO_FILES		0x01	/* config entry, no key file */
#define YKSSH_LIST_NO_STUB		0x02	/* .pub of an sk key, no stub */
#define YKSSH_LIST_NOT_REGISTERED	0x04	/* local key not on Bitbucket */
#define YKSSH_LIST_NOT_LOCAL		0x08	/* on the token, no stub here */
#define YKSSH_LIST_EXPIRING		0x10	/* registration ends soon */
#define YKSSH_LIST_EXPIRED		0x20	/* registration has ended */
#define YKSSH_LIST_EDITED		0x40	/* config entry edited by hand */
#define YKSSH_LIST_NO_CONFIG		0x80	/* local sk key, no entry */

struct ykssh_list_opts {
	const char	*home;
	const char	*config_path;	/* NULL: home/.ssh/config */
	struct ykssh_bb	*bb;		/* NULL: Bitbucket not asked */
	int		 on_token;	/* read the token's resident keys */
	const char *const *devices;
	size_t		 ndevices;
	int		 piv;		/* on_token: read a PIV card's slots */
	const char	*reader;	/* PIV reader, NULL: the first */
	struct ykssh_err *(*get_pin)(void *arg, const char *prompt,
			    struct ykssh_secret *pin);
	void		*arg;
	time_t		 now;		/* 0: time(NULL) */
	unsigned	 warn_days;	/* EXPIRING within; 0: 14 */
	/* Verify each key's saved attestation (NULL: not checked). */
	const struct ykssh_attest_trust *trust;
};

struct ykssh_list_item {
	char		*fingerprint;
	char		*type;		/* "sk-ssh-ed25519@openssh.com", ... */
	char		*application;	/* sk keys, when known */
	char		*pub_path;	/* or NULL */
	char		*stub_path;	/* or NULL */
	char		*config_label;	/* or NULL */
	char		*config_host;
	/* Backup tokens (ykssh enroll --backup): the labels of the pair. */
	char		*backup;	/* this key's backup, or NULL */
	char		*backup_of;	/* the key this one backs up, or NULL */
	int		 registered;	/* -1: not asked */
	char		*bb_id;
	char		*bb_label;
	char		*bb_last_used;
	char		*bb_expires;
	int		 days_left;	/* until bb_expires; meaningful with it */
	int		 on_token;	/* -1: not asked */
	unsigned	 problems;	/* YKSSH_LIST_* */
	int		 attest;	/* enum ykssh_attest_status of the
					   saved attestation; -1: not
					   checked (no .pub, no trust) */
};

struct ykssh_list {
	struct ykssh_list_item	*items;
	size_t			 n;
	char			*token_model;	/* when on_token */
	int			 token_piv;	/* the token was a PIV card */
};

/* One line for a problem flag, with the fix. */
const char *ykssh_list_problem_text(unsigned flag);

/*
 * Errors: reading the config (CONFIG), Bitbucket's, the token's.  A
 * missing ~/.ssh or config is an empty source.
 */
struct ykssh_err *ykssh_list(struct ykssh_ctx *ctx,
    const struct ykssh_list_opts *opts, struct ykssh_list **listp)
    YKSSH_MUST_CHECK;
void ykssh_list_free(struct ykssh_list *l);

#endif /* YKSSH_LIST_H */
