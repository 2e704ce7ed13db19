/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the bitbucket module, for bitbucket*.c and their tests. */
#ifndef YKSSH_BITBUCKET_INTERNAL_H
#define YKSSH_BITBUCKET_INTERNAL_H

#include <curl/curl.h>

#include "ykssh/bitbucket.h"

/*
 * libcurl, loaded when a client is opened (dlopen), so commands that never
 * talk to Bitbucket do not load it and its 30 dependencies.
 */
struct ykssh_bb_curl {
	void		*dl;
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	void		 (*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	char		*(*easy_escape)(CURL *, const char *, int);
	void		 (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
};

struct ykssh_bb {
	struct ykssh_ctx	*ctx;
	enum ykssh_bb_product	 product;
	char			*base;		/* no trailing slash */
	char			*origin;	/* scheme://host[:port] */
	char			*account;	/* Cloud: "{uuid}" once known */
	const struct ykssh_bb_credentials *cred;
	struct ykssh_bb_curl	 c;
	CURL			*curl;
	int			 timeout_ms;
	int			 max_retries;
	int			 max_wait_s;
	unsigned long		 requests;
	unsigned long		 connections;
};

struct ykssh_bb_reply {
	long	 status;
	char	*body;		/* NUL-terminated, len bytes */
	size_t	 len;
	long	 retry_after;	/* seconds, -1 if absent */
};

void ykssh_bb_reply_clear(struct ykssh_bb_reply *r);

/* Loads libcurl into bb->c.  Errors: UNSUPPORTED (not installed). */
struct ykssh_err *ykssh_bb_curl_load(struct ykssh_bb *bb) YKSSH_MUST_CHECK;
void ykssh_bb_curl_unload(struct ykssh_bb *bb);
/* Sets up the handle every request of this client uses (auth, TLS). */
struct ykssh_err *ykssh_bb_http_init(struct ykssh_bb *bb, const char *cacert)
    YKSSH_MUST_CHECK;
/*
 * One request with the retry policy: GET and DELETE (idempotent) are
 * retried on 429 (Retry-After, bounded), 5xx and dropped connections with
 * backoff; POST only on 429 (not processed).  A non-2xx final status is
 * returned in *r, not as an error: the caller maps it (ykssh_bb_status_err).
 */
struct ykssh_err *ykssh_bb_request(struct ykssh_bb *bb, const char *method,
    const char *url, const char *json_body, struct ykssh_bb_reply *r)
    YKSSH_MUST_CHECK;
/* The error for an HTTP status and its body (product-specific shapes). */
struct ykssh_err *ykssh_bb_status_err(const struct ykssh_bb *bb,
    const struct ykssh_bb_reply *r, const char *what) YKSSH_MUST_CHECK;

/* JSON (bitbucket-json.c): all strict, all bounded. */
struct ykssh_err *ykssh_bb_json_page(enum ykssh_bb_product product,
    const char *body, size_t len, struct ykssh_bb_keylist *append,
    char **cloud_next, long *dc_next_start) YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_bb_json_key(enum ykssh_bb_product product,
    const char *body, size_t len, struct ykssh_bb_key **keyp)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_bb_json_user(const char *body, size_t len, char **uuidp)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_bb_json_version(const char *body, size_t len,
    char **versionp) YKSSH_MUST_CHECK;
/*
 * Data Center SSH settings {"enabled":true,"baseUrl":"ssh://host:port"}:
 * 0 with the host (malloc'd) and port, -1 when disabled or unusable.
 */
int ykssh_bb_json_ssh_settings(const char *body, size_t len, char **hostp,
    unsigned *portp);
/*
 * The server's error message (Cloud {"error":{"message"}} or DC
 * {"errors":[{"message"}]}), and for Cloud scope errors the required and
 * granted scopes.  Never fails: missing parts are NULL.
 */
void ykssh_bb_json_error(const char *body, size_t len, char **messagep,
    char **requiredp, char **grantedp);

#endif /* YKSSH_BITBUCKET_INTERNAL_H */
