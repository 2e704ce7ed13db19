/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bitbucket SSH-key registration: Cloud (REST 2.0) and Data Center
 * (/rest/ssh/1.0), through one libcurl handle per client (one TLS
 * handshake, connection reuse, proxies from the environment as libcurl
 * reads them).  TLS verification is never disabled; a private CA is added
 * with opts.cacert.
 *
 *	ykssh_bb_find_credentials(ctx, &creq, &cred)   env, git, file, prompt
 *	ykssh_bb_open(ctx, &opts, cred, &bb)
 *	ykssh_bb_server_info(bb, &srv)                 what the server accepts
 *	ykssh_bb_register(bb, key, comment, label, days, &k, &already)
 *	ykssh_bb_list(bb, &list) / ykssh_bb_delete(bb, id_or_fp, &k)
 *	ykssh_bb_free(bb)
 *
 * Registration is idempotent: the account's keys are listed first (every
 * page) and matched on the key itself, not the label.  Reads are retried
 * on 429 (honouring Retry-After, bounded) and on server errors (bounded
 * backoff); a failed write is retried only after re-listing shows that it
 * did not land.
 *
 * Errors: AUTH (401: bad or expired credentials; app passwords), FORBIDDEN
 * (403: the missing scopes are named), NOT_FOUND, CONFLICT (the key is on
 * another account, or the label is taken), RATE_LIMITED, SERVER, REJECTED
 * (the server refuses the key: type, length), NETWORK, TLS, PROTOCOL
 * (malformed or oversized reply), CANCELLED.  Secrets never appear in
 * messages or logs.
 */
#ifndef YKSSH_BITBUCKET_H
#define YKSSH_BITBUCKET_H

#include <stddef.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"
#include "ykssh/secret.h"
#include "ykssh/sshkey.h"

#define YKSSH_BB_CLOUD_API		"https://api.bitbucket.org/2.0"
#define YKSSH_BB_CLOUD_SSH_HOST		"bitbucket.org"
#define YKSSH_BB_DC_SSH_PORT		7999
/* Largest reply accepted. */
#define YKSSH_BB_MAX_REPLY		(4 * 1024 * 1024)

enum ykssh_bb_product {
	YKSSH_BB_CLOUD = 1,
	YKSSH_BB_DC
};

enum ykssh_bb_auth {
	YKSSH_BB_AUTH_BASIC = 1,	/* e-mail/username + API token */
	YKSSH_BB_AUTH_BEARER		/* OAuth or DC HTTP access token */
};

struct ykssh_bb_opts {
	enum ykssh_bb_product product;
	const char	*url;		/* Cloud API base (NULL: default);
					   DC: server URL (required) */
	const char	*cacert;	/* extra CA bundle, or NULL */
	int		 timeout_ms;	/* per request, 0: 30000 */
	int		 max_retries;	/* reads, 0: 3 */
	int		 max_wait_s;	/* longest Retry-After honoured, 0: 60 */
};

/* Credentials and where they came from (for messages: never the value). */
struct ykssh_bb_credentials {
	enum ykssh_bb_auth	 kind;
	char			*user;		/* BASIC only */
	struct ykssh_secret	*secret;
	char			*source;	/* "$YKSSH_BITBUCKET_TOKEN" */
	int			 from_git;	/* reject it on 401 */
};
void ykssh_bb_credentials_free(struct ykssh_bb_credentials *c);

/* Where to look, and how to ask when nothing is found. */
struct ykssh_bb_cred_req {
	enum ykssh_bb_product product;
	const char	*url;		/* as in ykssh_bb_opts */
	const char	*token_file;	/* NULL: ~/.config/ykssh/bitbucket */
	const char	*home;
	/* Prompts; NULL: fail with AUTH and a hint instead of asking. */
	void		*arg;
	struct ykssh_err *(*get_secret)(void *arg, const char *prompt,
			    struct ykssh_secret *s);
	struct ykssh_err *(*get_text)(void *arg, const char *prompt,
			    char **textp);
};

/*
 * In order: $YKSSH_BITBUCKET_TOKEN (with $YKSSH_BITBUCKET_USER for Basic
 * authentication), `git credential fill` for the API host (the user's
 * credential helper, never prompting), the token file (which must be a
 * regular file of the user with mode 0600: UNSAFE_FILE otherwise), then
 * the prompts.  A Bitbucket Cloud app password (removed in 2026) is
 * refused with AUTH and the replacement named.
 */
struct ykssh_err *ykssh_bb_find_credentials(struct ykssh_ctx *ctx,
    const struct ykssh_bb_cred_req *req, struct ykssh_bb_credentials **credp)
    YKSSH_MUST_CHECK;

struct ykssh_bb;

/* Credentials are borrowed: they must outlive the client. */
struct ykssh_err *ykssh_bb_open(struct ykssh_ctx *ctx,
    const struct ykssh_bb_opts *opts, const struct ykssh_bb_credentials *cred,
    struct ykssh_bb **bbp) YKSSH_MUST_CHECK;
void ykssh_bb_free(struct ykssh_bb *bb);

/* What the target accepts, learned before a key is made. */
struct ykssh_bb_server {
	enum ykssh_bb_product product;
	char		*version;	/* Data Center version, or NULL */
	int		 accepts_sk;	/* 1 yes, 0 no, -1 undocumented */
	int		 sk_verify_required_works;	/* same scale */
	char		*ssh_host;	/* for ssh_config */
	unsigned	 ssh_port;	/* 0: 22 */
};
void ykssh_bb_server_free(struct ykssh_bb_server *s);
struct ykssh_err *ykssh_bb_server_info(struct ykssh_bb *bb,
    struct ykssh_bb_server **srvp) YKSSH_MUST_CHECK;
/*
 * Whether a key of `type` with sk `flags` will work on that server:
 * UNSUPPORTED with a hint naming the kind that will (PIV) when it will
 * not; NULL when it will or nobody knows (*warningp then says what to
 * watch for, or NULL).
 */
struct ykssh_err *ykssh_bb_check_key(const struct ykssh_bb_server *srv,
    enum ykssh_keytype type, uint8_t flags, const char **warningp)
    YKSSH_MUST_CHECK;

/* One registered key.  Strings may be NULL when the server omits them. */
struct ykssh_bb_key {
	char	*id;		/* Cloud "{uuid}", DC number */
	char	*label;
	char	*text;		/* authorized_keys line as stored */
	char	*fingerprint;	/* "SHA256:..." */
	char	*created;
	char	*last_used;
	char	*expires;
};
struct ykssh_bb_keylist {
	struct ykssh_bb_key	*keys;
	size_t			 n;
};
void ykssh_bb_key_free(struct ykssh_bb_key *k);
void ykssh_bb_keylist_free(struct ykssh_bb_keylist *l);

/*
 * The label ykssh gives a key when none is chosen: "<comment> <TYPE>
 * <YYYY-MM-DD>" (e.g. "alice@laptop ED25519-SK 2026-11-24"); NULL on
 * allocation failure.
 */
char *ykssh_bb_default_label(const struct ykssh_sshkey *key,
    const char *comment);

/* Every key of the authenticated account (all pages). */
struct ykssh_err *ykssh_bb_list(struct ykssh_bb *bb,
    struct ykssh_bb_keylist **listp) YKSSH_MUST_CHECK;
/*
 * Registers key (idempotent, see above).  expires_days 0: no expiry.
 * *alreadyp is set when the key was there before (its id is returned).
 * A label another key already has is a CONFLICT when the user chose it
 * (label_explicit); a default label takes the first free "label (N)".
 */
struct ykssh_err *ykssh_bb_register(struct ykssh_bb *bb,
    const struct ykssh_sshkey *key, const char *comment, const char *label,
    int label_explicit, unsigned expires_days, struct ykssh_bb_key **keyp,
    int *alreadyp) YKSSH_MUST_CHECK;
/* Deletes the key with that id or "SHA256:" fingerprint. */
struct ykssh_err *ykssh_bb_delete(struct ykssh_bb *bb, const char *which,
    struct ykssh_bb_key **deletedp) YKSSH_MUST_CHECK;

/* Requests sent and TCP/TLS connections opened so far (benchmarks). */
unsigned long ykssh_bb_requests(const struct ykssh_bb *bb);
unsigned long ykssh_bb_connections(const struct ykssh_bb *bb);

#endif /* YKSSH_BITBUCKET_H */
