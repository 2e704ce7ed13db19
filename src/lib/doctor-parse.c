/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading what ssh -G, ssh-add -L and ssh -v print, for ykssh doctor.
 * Outside data: each parser takes bytes with a length, tolerates any
 * content and keeps bounded amounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor-internal.h"

#define AGENT_MAX	256
#define LINE_MAX_LEN	4096

#define NOMEM()	YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory")

void
ykssh_dr_sshg_clear(struct dr_sshg *g)
{
	size_t i;

	free(g->user);
	free(g->hostname);
	free(g->port);
	free(g->hostkeyalias);
	free(g->identityagent);
	free(g->pkcs11provider);
	for (i = 0; i < g->nidfiles; i++)
		free(g->idfiles[i]);
	for (i = 0; i < g->nkhfiles; i++)
		free(g->khfiles[i]);
	memset(g, 0, sizeof(*g));
}

static int
set_once(char **dst, const char *v, size_t n)
{
	if (*dst != NULL)
		return 0;
	return (*dst = strndup(v, n)) == NULL ? -1 : 0;
}

/* The space-separated words of v into files[] (bounded). */
static int
add_words(char **files, size_t *n, const char *v, size_t len)
{
	size_t i = 0, j;

	while (i < len) {
		while (i < len && v[i] == ' ')
			i++;
		for (j = i; j < len && v[j] != ' '; j++)
			;
		if (j > i && *n < DR_MAX_FILES) {
			if ((files[*n] = strndup(v + i, j - i)) == NULL)
				return -1;
			(*n)++;
		}
		i = j;
	}
	return 0;
}

static int
is_none(const char *v, size_t n)
{
	return n == 4 && memcmp(v, "none", 4) == 0;
}

static int
one_line(struct dr_sshg *g, const char *kw, size_t kwlen, const char *v,
    size_t n)
{
#define KW(s)	(kwlen == sizeof(s) - 1 && memcmp(kw, s, kwlen) == 0)
	if (KW("user"))
		return set_once(&g->user, v, n);
	if (KW("hostname"))
		return set_once(&g->hostname, v, n);
	if (KW("port"))
		return set_once(&g->port, v, n);
	if (KW("hostkeyalias") && !is_none(v, n))
		return set_once(&g->hostkeyalias, v, n);
	if (KW("identityagent") && !is_none(v, n))
		return set_once(&g->identityagent, v, n);
	if (KW("identityagent"))
		return set_once(&g->identityagent, "none", 4);
	if (KW("pkcs11provider") && !is_none(v, n))
		return set_once(&g->pkcs11provider, v, n);
	if (KW("identitiesonly")) {
		g->identitiesonly = n == 3 && memcmp(v, "yes", 3) == 0;
		return 0;
	}
	if (KW("identityfile")) {
		if (n > 0 && g->nidfiles < DR_MAX_FILES) {
			if ((g->idfiles[g->nidfiles] = strndup(v, n)) == NULL)
				return -1;
			g->nidfiles++;
		}
		return 0;
	}
	if (KW("userknownhostsfile") || KW("globalknownhostsfile"))
		return add_words(g->khfiles, &g->nkhfiles, v, n);
	return 0;
#undef KW
}

struct ykssh_err *
ykssh_dr_parse_sshg(const char *text, size_t len, struct dr_sshg *g)
{
	const char *p = text, *end = text + len, *nl, *sp;
	size_t n;

	memset(g, 0, sizeof(*g));
	if (memchr(text, '\0', len) != NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "ssh -G output holds a NUL byte");
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if ((sp = memchr(p, ' ', n)) != NULL &&
		    one_line(g, p, (size_t)(sp - p), sp + 1,
		    n - (size_t)(sp - p) - 1) != 0) {
			ykssh_dr_sshg_clear(g);
			return NOMEM();
		}
		p = nl + (nl < end);
	}
	if (g->user == NULL || g->hostname == NULL || g->port == NULL) {
		ykssh_dr_sshg_clear(g);
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "ssh -G printed no user, hostname or port");
	}
	return NULL;
}

void
ykssh_dr_agent_free(struct dr_agentkey *k, size_t n)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < n; i++) {
		ykssh_sshkey_free(k[i].key);
		free(k[i].fingerprint);
		free(k[i].comment);
	}
	free(k);
}

struct ykssh_err *
ykssh_dr_parse_agent(const char *text, size_t len, struct dr_agentkey **keysp,
    size_t *np)
{
	struct dr_agentkey *keys = NULL, *tmp;
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err = NULL, *e;
	const char *p = text, *end = text + len, *nl;
	char *line = NULL, *comment = NULL, *fp = NULL;
	size_t n = 0;

	*keysp = NULL;
	*np = 0;
	while (p < end && n < AGENT_MAX) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) > LINE_MAX_LEN ||
		    memchr(p, '\0', (size_t)(nl - p)) != NULL) {
			p = nl + (nl < end);
			continue;
		}
		if ((line = strndup(p, (size_t)(nl - p))) == NULL)
			goto nomem;
		p = nl + (nl < end);
		e = ykssh_sshkey_parse_public(line, &k, &comment);
		free(line);
		line = NULL;
		if (e != NULL) {
			/* Not a key line ("The agent has no identities."). */
			ykssh_err_free(e);
			continue;
		}
		if ((e = ykssh_sshkey_fingerprint(k, &fp)) != NULL) {
			err = e;
			goto out;
		}
		if ((tmp = reallocarray(keys, n + 1, sizeof(*keys))) == NULL)
			goto nomem;
		keys = tmp;
		keys[n].key = k;
		keys[n].fingerprint = fp;
		keys[n].comment = comment;
		k = NULL;	/* transferred */
		fp = comment = NULL;
		n++;
	}
	*keysp = keys;
	*np = n;
	keys = NULL;
	n = 0;
	goto out;
nomem:
	err = NOMEM();
out:
	ykssh_sshkey_free(k);
	free(fp);
	free(comment);
	ykssh_dr_agent_free(keys, n);
	return err;
}

/* Does the line [p, p+n) contain s? */
static int
has(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s), i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(p + i, s, m) == 0)
			return 1;
	return 0;
}

/* Does the line [p, p+n) start with s?  (It need not end in a NUL.) */
static int
starts(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s);

	return n >= m && memcmp(p, s, m) == 0;
}

static char *
clean(const char *p, size_t n)
{
	char *s;
	size_t i;

	if (n > 200)
		n = 200;
	if ((s = strndup(p, n)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	return s;
}

/* "Server accepts key: PATH TYPE SHA256:xxx ..." -> "SHA256:xxx" */
static char *
accepted_fp(const char *p, size_t n)
{
	size_t i, j;

	for (i = 0; i + 7 <= n; i++) {
		if (memcmp(p + i, "SHA256:", 7) != 0)
			continue;
		for (j = i + 7; j < n && p[j] != ' '; j++)
			;
		return clean(p + i, j - i);
	}
	return NULL;
}

enum dr_auth
ykssh_dr_classify_auth(const char *text, size_t len, int timed_out,
    char **fpp, char **linep)
{
	const char *p = text, *end = text + len, *nl;
	enum dr_auth r = DR_AUTH_OTHER;
	int ok = 0, denied = 0, changed = 0, unknown = 0, net = 0, touch = 0;
	char *fp = NULL, *last = NULL;
	size_t n;

	if (fpp != NULL)
		*fpp = NULL;
	if (linep != NULL)
		*linep = NULL;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (has(p, n, "Authenticated to "))
			ok = 1;
		else if (has(p, n, "Permission denied (") &&
		    has(p, n, "publickey"))
			denied = 1;
		else if (has(p, n, "REMOTE HOST IDENTIFICATION HAS CHANGED"))
			changed = 1;
		else if (has(p, n, "Host key verification failed"))
			unknown = 1;
		else if (has(p, n, "Could not resolve hostname") ||
		    has(p, n, "Network is unreachable") ||
		    has(p, n, "No route to host") ||
		    has(p, n, "Connection refused") ||
		    has(p, n, "Connection timed out") ||
		    has(p, n, "Operation timed out"))
			net = 1;
		else if (has(p, n, "Confirm user presence"))
			touch = 1;
		if (fp == NULL && has(p, n, "Server accepts key:"))
			fp = accepted_fp(p, n);
		if (n > 0 && !starts(p, n, "debug") &&
		    !starts(p, n, "Authenticated") &&
		    !starts(p, n, "Transferred")) {
			free(last);
			last = clean(p, n);
		}
		p = nl + (nl < end);
	}
	if (ok)
		r = DR_AUTH_OK;
	else if (changed)
		r = DR_AUTH_HOSTKEY_CHANGED;
	else if (unknown)
		r = DR_AUTH_HOSTKEY_UNKNOWN;
	else if (denied)
		r = DR_AUTH_DENIED;
	else if (net)
		r = DR_AUTH_NETWORK;
	else if (timed_out && touch)
		r = DR_AUTH_TOUCH;
	else if (timed_out)
		r = DR_AUTH_NETWORK;
	if (fpp != NULL) {
		*fpp = fp;
		fp = NULL;
	}
	if (linep != NULL) {
		*linep = last;
		last = NULL;
	}
	free(fp);
	free(last);
	return r;
}
