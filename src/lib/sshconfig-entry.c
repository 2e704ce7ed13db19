/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checking entries before they are written, and listing the blocks ykssh
 * owns.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshconfig-internal.h"

static int
chars_ok(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
valid_duration(const char *s)
{
	int digits = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (digits > 0 && strchr("sSmMhHdDwW", *s) != NULL)
			digits = 0;
		else
			return 0;
	}
	return 1;
}

static struct ykssh_err *
bad(const char *field, const char *value, const char *why)
{
	return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "invalid %s '%s': %s",
	    field, value, why);
}

static struct ykssh_err *
check_path(const char *field, const char *p)
{
	if (!printable(p))
		return bad(field, "(control characters)",
		    "ssh reads one line per option");
	if (p[0] != '/' && strncmp(p, "~/", 2) != 0)
		return bad(field, p, "use an absolute path or ~/...");
	if (strstr(p, "${") != NULL)
		return bad(field, p, "ssh would expand ${...}");
	return NULL;
}

struct ykssh_err *
ykssh_sshconfig_entry_check(const struct ykssh_sshconfig_entry *e)
{
	struct ykssh_err *err;
	const char *host = e->host != NULL ? e->host : "bitbucket.org";
	size_t i;

	if (e->kind != YKSSH_SSHCONFIG_FIDO2 && e->kind != YKSSH_SSHCONFIG_PIV)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "unknown entry kind %d", (int)e->kind);
	if (e->label == NULL || *e->label == '\0' || strlen(e->label) > 64 ||
	    !chars_ok(e->label, "._-"))
		return bad("label", e->label ? e->label : "", "use 1-64 of "
		    "A-Z a-z 0-9 . _ -");
	if (e->key_id != NULL && (*e->key_id == '\0' ||
	    strlen(e->key_id) > 200 || strpbrk(e->key_id, " \t") != NULL ||
	    !printable(e->key_id)))
		return bad("key id", e->key_id, "printable, no spaces");
	if (*host == '\0' || strlen(host) > 253 || !chars_ok(host, "._-") ||
	    host[0] == '-')
		return bad("host", host, "use a plain host name or alias "
		    "(a-z 0-9 . _ -, no patterns)");
	if (!chars_ok(host, "._-0123456789abcdefghijklmnopqrstuvwxyz") ||
	    strpbrk(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL)
		return bad("host", host, "use lower case: ssh matches Host "
		    "patterns case-sensitively against the name typed");
	if (e->hostname != NULL && (*e->hostname == '\0' ||
	    strlen(e->hostname) > 253 || !chars_ok(e->hostname, ".-:_")))
		return bad("hostname", e->hostname, "use a DNS name or "
		    "address");
	if (e->port > 65535)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "invalid port %u", e->port);
	if (e->user != NULL && (*e->user == '\0' ||
	    !chars_ok(e->user, "._-")))
		return bad("user", e->user, "use a plain user name");
	if (e->identity_file == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "an identity file is required");
	if ((err = check_path("identity file", e->identity_file)) != NULL)
		return err;
	if (e->nmore_identity_files > 0 && e->more_identity_files == NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "identity files missing");
	for (i = 0; i < e->nmore_identity_files; i++) {
		if (e->more_identity_files[i] == NULL)
			return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
			    "identity file missing");
		if ((err = check_path("identity file",
		    e->more_identity_files[i])) != NULL)
			return err;
	}
	if (e->replaces != NULL && (*e->replaces == '\0' ||
	    strlen(e->replaces) > 64 || !chars_ok(e->replaces, "._-")))
		return bad("label", e->replaces, "use 1-64 of "
		    "A-Z a-z 0-9 . _ -");
	if (e->kind == YKSSH_SSHCONFIG_PIV) {
		if (e->pkcs11_provider == NULL)
			return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
			    "a PIV entry needs a PKCS#11 provider");
		if ((err = check_path("PKCS#11 provider",
		    e->pkcs11_provider)) != NULL)
			return err;
		if (strchr(e->pkcs11_provider, '%') != NULL)
			return bad("PKCS#11 provider", e->pkcs11_provider,
			    "no '%' please");
	} else if (e->pkcs11_provider != NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "a FIDO2 entry takes no PKCS#11 provider");
	if (e->persist != NULL && !valid_duration(e->persist))
		return bad("persist duration", e->persist, "use ssh's time "
		    "format, such as 10m or 1h30m");
	return NULL;
}

/* IdentityFile as written: "%%" stands for "%". */
static char *
undouble(const char *s)
{
	char *d, *p;

	if ((d = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (p = d; *s != '\0'; s++) {
		*p++ = *s;
		if (s[0] == '%' && s[1] == '%')
			s++;
	}
	*p = '\0';
	return d;
}

static int
set_once(char **dst, const char *v)
{
	if (*dst != NULL)
		return 0;
	return (*dst = strdup(v)) == NULL ? -1 : 0;
}

/* The values of the options ykssh writes, from a block's lines. */
static int
read_options(const struct sc_config *cfg, const struct sc_block *b,
    struct ykssh_sshconfig_block *r)
{
	const struct sc_line *l;
	char **nv;
	size_t j;
	unsigned long port;
	char *end;

	for (j = b->begin + 1; j < b->end; j++) {
		l = &cfg->lines[j];
		if (l->type != SC_OPTION || l->argc < 1)
			continue;
		if (strcmp(l->kw, "identityfile") == 0) {
			if ((nv = reallocarray(r->identity_files,
			    r->nidentity_files + 1, sizeof(*nv))) == NULL)
				return -1;
			r->identity_files = nv;
			if ((nv[r->nidentity_files] = undouble(l->argv[0])) ==
			    NULL)
				return -1;
			r->nidentity_files++;
		} else if (strcmp(l->kw, "hostname") == 0) {
			if (set_once(&r->hostname, l->argv[0]) == -1)
				return -1;
		} else if (strcmp(l->kw, "user") == 0) {
			if (set_once(&r->user, l->argv[0]) == -1)
				return -1;
		} else if (strcmp(l->kw, "pkcs11provider") == 0) {
			if (set_once(&r->pkcs11_provider, l->argv[0]) == -1)
				return -1;
		} else if (strcmp(l->kw, "controlpersist") == 0) {
			if (set_once(&r->persist, l->argv[0]) == -1)
				return -1;
		} else if (strcmp(l->kw, "port") == 0 && r->port == 0) {
			port = strtoul(l->argv[0], &end, 10);
			if (*end == '\0' && port > 0 && port <= 65535)
				r->port = (unsigned int)port;
		}
	}
	return 0;
}

struct ykssh_err *
ykssh_sshconfig_block_entry(const struct ykssh_sshconfig_block *b,
    struct ykssh_sshconfig_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (b->host == NULL || b->nidentity_files == 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "lines "
		    "%zu-%zu: the ykssh block '%s' has no Host or no "
		    "IdentityFile", b->first_line, b->last_line, b->label),
		    "remove the block ('ykssh config remove %s') and enroll "
		    "again", b->label);
	e->kind = b->pkcs11_provider != NULL ? YKSSH_SSHCONFIG_PIV :
	    YKSSH_SSHCONFIG_FIDO2;
	e->label = b->label;
	e->key_id = b->key_id;
	e->host = b->host;
	e->hostname = b->hostname;
	e->port = b->port;
	e->user = b->user;
	e->identity_file = b->identity_files[0];
	e->pkcs11_provider = b->pkcs11_provider;
	/* ControlMaster and ControlPath come with ControlPersist. */
	e->persist = b->persist;
	e->more_identity_files = (const char *const *)b->identity_files + 1;
	e->nmore_identity_files = b->nidentity_files - 1;
	return NULL;
}

struct ykssh_err *
ykssh_sshconfig_list(const char *in, size_t inlen,
    struct ykssh_sshconfig_block **blocksp, size_t *np)
{
	struct ykssh_err *err = NULL;
	struct sc_config *cfg = NULL;
	struct sc_block *b = NULL;
	struct ykssh_sshconfig_block *r = NULL;
	const struct sc_line *l;
	size_t n = 0, i, j, k;

	*blocksp = NULL;
	*np = 0;
	if ((err = ykssh_sc_parse(in, inlen, &cfg)) != NULL ||
	    (err = ykssh_sc_find_blocks(cfg, &b, &n)) != NULL)
		goto out;
	if (n > 0 && (r = calloc(n, sizeof(*r))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		l = &cfg->lines[b[i].begin];
		r[i].first_line = b[i].begin + 1;
		r[i].last_line = b[i].end + 1;
		r[i].edited = b[i].edited;
		if ((r[i].label = strdup(l->m_label)) == NULL ||
		    (l->m_arg != NULL &&
		    (r[i].key_id = strdup(l->m_arg)) == NULL))
			goto nomem;
		for (j = b[i].begin; j < b[i].end; j++) {
			l = &cfg->lines[j];
			if (l->type != SC_OPTION || (strcmp(l->kw, "host") != 0 &&
			    strcmp(l->kw, "match") != 0))
				continue;
			/* "Host H" or "Match originalhost H" */
			k = l->kw[0] == 'm' ? 1 : 0;
			if (l->argc > k && (r[i].host = strdup(l->argv[k])) ==
			    NULL)
				goto nomem;
			break;
		}
		if (read_options(cfg, &b[i], &r[i]) == -1)
			goto nomem;
	}
	*blocksp = r;
	*np = n;
	r = NULL; /* transferred */
	goto out;
nomem:
	err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	ykssh_sshconfig_blocks_free(r, n);
	free(b);
	ykssh_sc_free(cfg);
	return err;
}

void
ykssh_sshconfig_blocks_free(struct ykssh_sshconfig_block *b, size_t n)
{
	size_t i, j;

	if (b == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(b[i].label);
		free(b[i].key_id);
		free(b[i].host);
		for (j = 0; j < b[i].nidentity_files; j++)
			free(b[i].identity_files[j]);
		free(b[i].identity_files);
		free(b[i].hostname);
		free(b[i].user);
		free(b[i].pkcs11_provider);
		free(b[i].persist);
	}
	free(b);
}
