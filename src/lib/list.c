/* SPDX-License-Identifier: BSD-2-Clause */
/* The keys ykssh knows, joined across sources; see list.h. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ykssh/attest.h"
#include "ykssh/bitbucket.h"
#include "ykssh/fido.h"
#include "ykssh/piv.h"
#include "ykssh/list.h"
#include "ykssh/sshconfig.h"
#include "ykssh/sshkey.h"

#define WARN_DAYS	14

const char *
ykssh_list_problem_text(unsigned flag)
{
	switch (flag) {
	case YKSSH_LIST_NO_FILES:
		return "config entry without key file: 'ykssh recover' "
		    "(resident key) or 'ykssh revoke' it";
	case YKSSH_LIST_NO_STUB:
		return "public key without its stub: ssh cannot use it; "
		    "'ykssh recover' (resident key) or 'ykssh revoke' it";
	case YKSSH_LIST_NOT_REGISTERED:
		return "not registered on Bitbucket: 'ykssh register' it";
	case YKSSH_LIST_NOT_LOCAL:
		return "on the token but not on this machine: 'ykssh recover' "
		    "(with --piv for a PIV card)";
	case YKSSH_LIST_EXPIRING:
		return "registration expires soon: 'ykssh rotate LABEL' "
		    "replaces the key";
	case YKSSH_LIST_EXPIRED:
		return "registration has expired: Bitbucket refuses the key; "
		    "'ykssh rotate LABEL' replaces it";
	case YKSSH_LIST_EDITED:
		return "config entry edited by hand: 'ykssh config apply "
		    "--force' restores it";
	case YKSSH_LIST_NO_CONFIG:
		return "no ykssh config entry: ssh uses it only as a default "
		    "key name; 'ykssh config apply' adds one";
	default:
		return "?";
	}
}

static void
item_clear(struct ykssh_list_item *it)
{
	free(it->fingerprint);
	free(it->type);
	free(it->application);
	free(it->pub_path);
	free(it->stub_path);
	free(it->config_label);
	free(it->config_host);
	free(it->backup);
	free(it->backup_of);
	free(it->bb_id);
	free(it->bb_label);
	free(it->bb_last_used);
	free(it->bb_expires);
}

void
ykssh_list_free(struct ykssh_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		item_clear(&l->items[i]);
	free(l->items);
	free(l->token_model);
	free(l);
}

/* The item for fp, added (with its key's type) when new; NULL: no memory. */
static struct ykssh_list_item *
item_for(struct ykssh_list *l, const char *fp, const struct ykssh_sshkey *k)
{
	struct ykssh_list_item *it, *tmp;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i].fingerprint, fp) == 0)
			return &l->items[i];
	if ((tmp = reallocarray(l->items, l->n + 1, sizeof(*tmp))) == NULL)
		return NULL;
	l->items = tmp;
	it = &l->items[l->n];
	memset(it, 0, sizeof(*it));
	it->registered = it->on_token = it->attest = -1;
	if ((it->fingerprint = strdup(fp)) == NULL)
		return NULL;
	l->n++;
	if (k != NULL && ykssh_sshkey_type_name(ykssh_sshkey_type(k)) !=
	    NULL && (it->type = strdup(ykssh_sshkey_type_name(
	    ykssh_sshkey_type(k)))) == NULL)
		return NULL;
	if (k != NULL && ykssh_sshkey_type_is_sk(ykssh_sshkey_type(k)) &&
	    (it->application = strdup(ykssh_sshkey_application(k))) == NULL)
		return NULL;
	return it;
}

static int
set_str(char **dst, const char *s)
{
	if (s == NULL || *dst != NULL)
		return 0;
	return (*dst = strdup(s)) == NULL ? -1 : 0;
}

#define NOMEM()	YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory")

/*
 * The entries' keys.  A marker names each key of its block, in
 * IdentityFile order: "fp", or "fp,backup-fp" when a backup token's key
 * shares the entry (ykssh enroll --backup: label "<label>-backup").
 */
static struct ykssh_err *
add_config(struct ykssh_list *l, const char *config)
{
	struct ykssh_sshconfig_block *b;
	struct ykssh_list_item *it;
	struct ykssh_err *err;
	const char *p;
	char *fp;
	size_t n, i, j, len;
	int bad;

	if ((err = ykssh_sshconfig_list_file(config, &b, &n)) != NULL)
		return err;
	for (i = 0; err == NULL && i < n; i++) {
		for (j = 0, p = b[i].key_id; err == NULL && p != NULL;
		    j++, p = p[len] == ',' ? p + len + 1 : NULL) {
			len = strcspn(p, ",");
			if (len <= 7 || strncmp(p, "SHA256:", 7) != 0)
				continue;
			if ((fp = strndup(p, len)) == NULL) {
				err = NOMEM();
				break;
			}
			it = item_for(l, fp, NULL);
			free(fp);
			bad = it == NULL ||
			    set_str(&it->config_label, b[i].label) != 0 ||
			    set_str(&it->config_host, b[i].host) != 0;
			if (!bad && j == 1)
				bad = set_str(&it->backup_of, b[i].label);
			if (!bad && j == 0 && b[i].nidentity_files > 1 &&
			    it->backup == NULL &&
			    asprintf(&it->backup, "%s-backup",
			    b[i].label) < 0) {
				it->backup = NULL;
				bad = 1;
			}
			if (bad) {
				err = NOMEM();
				break;
			}
			if (b[i].edited)
				it->problems |= YKSSH_LIST_EDITED;
		}
	}
	ykssh_sshconfig_blocks_free(b, n);
	return err;
}

/* Is fp one that a config entry names? */
static int
in_config(const struct ykssh_list *l, const char *fp)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->items[i].config_label != NULL &&
		    strcmp(l->items[i].fingerprint, fp) == 0)
			return 1;
	return 0;
}

static struct ykssh_err *
add_file(struct ykssh_list *l, const char *path)
{
	struct ykssh_sshkey *k = NULL;
	struct ykssh_list_item *it;
	struct ykssh_err *err;
	char *fp = NULL;
	struct stat st;
	size_t n;
	int exists;

	if ((err = ykssh_sshkey_load_public(path, &k, NULL, &exists)) ==
	    NULL && exists)
		err = ykssh_sshkey_fingerprint(k, &fp);
	if (err != NULL || !exists) {
		/* Not a public key: not ours to list. */
		ykssh_err_free(err);
		err = NULL;
		goto out;
	}
	if (!ykssh_sshkey_type_is_sk(ykssh_sshkey_type(k)) &&
	    !in_config(l, fp))
		goto out;
	if ((it = item_for(l, fp, k)) == NULL || set_str(&it->pub_path,
	    path) != 0) {
		err = NOMEM();
		goto out;
	}
	if (it->type == NULL && set_str(&it->type, ykssh_sshkey_type_name(
	    ykssh_sshkey_type(k))) != 0) {
		err = NOMEM();
		goto out;
	}
	if (ykssh_sshkey_type_is_sk(ykssh_sshkey_type(k))) {
		if (it->application == NULL && set_str(&it->application,
		    ykssh_sshkey_application(k)) != 0) {
			err = NOMEM();
			goto out;
		}
		n = strlen(path) - 4;
		if ((it->stub_path = strndup(path, n)) == NULL) {
			err = NOMEM();
			goto out;
		}
		if (lstat(it->stub_path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(it->stub_path);
			it->stub_path = NULL;
			it->problems |= YKSSH_LIST_NO_STUB;
		}
	}
out:
	ykssh_sshkey_free(k);
	free(fp);
	return err;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pub of ~/.ssh, in name order (stable output). */
static struct ykssh_err *
add_files(struct ykssh_list *l, const char *sshdir)
{
	struct ykssh_err *err = NULL;
	struct dirent *de;
	char **names = NULL, **tmp, *path;
	size_t n = 0, i, len;
	DIR *d;

	if ((d = opendir(sshdir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0)
			continue;
		if ((tmp = reallocarray(names, n + 1, sizeof(*names))) ==
		    NULL || (tmp[n] = strdup(de->d_name)) == NULL) {
			if (tmp != NULL)
				names = tmp;
			err = NOMEM();
			break;
		}
		names = tmp;
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; err == NULL && i < n; i++) {
		if (asprintf(&path, "%s/%s", sshdir, names[i]) < 0) {
			err = NOMEM();
			break;
		}
		err = add_file(l, path);
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

/* Whole days from now until an ISO 8601 time (UTC); INT_MAX if unknown. */
static int
days_until(const char *iso, time_t now)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return INT_MAX;
	if ((t = timegm(&tm)) == (time_t)-1)
		return INT_MAX;
	if (t <= now)
		return -(int)((now - t) / 86400) - 1;
	return (int)((t - now) / 86400);
}

static struct ykssh_err *
add_bitbucket(struct ykssh_list *l, struct ykssh_bb *bb, time_t now,
    unsigned warn)
{
	struct ykssh_bb_keylist *kl = NULL;
	struct ykssh_list_item *it;
	struct ykssh_err *err;
	size_t i;

	if ((err = ykssh_bb_list(bb, &kl)) != NULL)
		return err;
	for (i = 0; i < l->n; i++)
		l->items[i].registered = 0;
	for (i = 0; i < kl->n; i++) {
		const struct ykssh_bb_key *k = &kl->keys[i];

		if (k->fingerprint == NULL)
			continue;
		if ((it = item_for(l, k->fingerprint, NULL)) == NULL ||
		    set_str(&it->bb_id, k->id) != 0 ||
		    set_str(&it->bb_label, k->label) != 0 ||
		    set_str(&it->bb_last_used, k->last_used) != 0 ||
		    set_str(&it->bb_expires, k->expires) != 0) {
			err = NOMEM();
			break;
		}
		if (it->type == NULL && k->text != NULL) {
			size_t n = strcspn(k->text, " ");

			if ((it->type = strndup(k->text, n)) == NULL) {
				err = NOMEM();
				break;
			}
		}
		it->registered = 1;
		if (k->expires != NULL) {
			it->days_left = days_until(k->expires, now);
			if (it->days_left < 0)
				it->problems |= YKSSH_LIST_EXPIRED;
			else if (it->days_left != INT_MAX &&
			    (unsigned)it->days_left < warn)
				it->problems |= YKSSH_LIST_EXPIRING;
		}
	}
	ykssh_bb_keylist_free(kl);
	return err;
}

/* The keys in a PIV card's slots (no PIN needed). */
static struct ykssh_err *
add_token_piv(struct ykssh_ctx *ctx, struct ykssh_list *l,
    const struct ykssh_list_opts *o)
{
	struct ykssh_piv *piv = NULL;
	struct ykssh_piv_slot_key sk;
	struct ykssh_list_item *it;
	struct ykssh_err *err;
	char *fp;
	uint8_t slot;
	size_t i;

	if ((err = ykssh_piv_open(ctx, o->reader, &piv)) != NULL)
		return err;
	l->token_piv = 1;
	if (asprintf(&l->token_model, "%s (PIV, %s)", ykssh_piv_model(piv),
	    ykssh_piv_reader(piv)) < 0) {
		l->token_model = NULL;
		err = NOMEM();
		goto out;
	}
	for (i = 0; i < l->n; i++)
		l->items[i].on_token = 0;
	for (i = 0; (slot = ykssh_piv_key_slot(i)) != 0; i++) {
		if ((err = ykssh_piv_read_slot_key(piv, slot, NULL, 0,
		    &sk)) != NULL)
			break;
		fp = NULL;
		if (sk.key != NULL && (err = ykssh_sshkey_fingerprint(sk.key,
		    &fp)) == NULL) {
			if ((it = item_for(l, fp, sk.key)) == NULL)
				err = NOMEM();
			else
				it->on_token = 1;
		}
		free(fp);
		ykssh_piv_slot_key_clear(&sk);
		if (err != NULL)
			break;
	}
out:
	ykssh_piv_close(piv);
	return err;
}

static struct ykssh_err *
add_token(struct ykssh_ctx *ctx, struct ykssh_list *l,
    const struct ykssh_list_opts *o)
{
	struct ykssh_fido_residents rs;
	struct ykssh_list_item *it;
	struct ykssh_err *err;
	size_t i;

	if ((err = ykssh_fido_read_residents(ctx, o->devices, o->ndevices,
	    o->get_pin, o->arg, &rs)) != NULL)
		return err;
	l->token_model = rs.model;
	rs.model = NULL;
	for (i = 0; i < l->n; i++)
		l->items[i].on_token = 0;
	for (i = 0; i < rs.n; i++) {
		if ((it = item_for(l, rs.keys[i].fingerprint,
		    rs.keys[i].key)) == NULL) {
			err = NOMEM();
			break;
		}
		it->on_token = 1;
	}
	ykssh_fido_read_residents_clear(&rs);
	return err;
}

/* The status of each local key's saved attestation. */
static struct ykssh_err *
add_attest(struct ykssh_list *l, const struct ykssh_attest_trust *t)
{
	struct ykssh_attest_result *a;
	struct ykssh_err *err;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->items[i].pub_path == NULL)
			continue;
		err = ykssh_attest_verify_file(t, l->items[i].pub_path, NULL,
		    NULL, 0, &a);
		if (err != NULL && ykssh_err_code(err) == YKSSH_ERR_NOMEM)
			return err;
		l->items[i].attest = err != NULL ? YKSSH_ATTEST_INVALID :
		    (int)a->status;
		ykssh_err_free(err);
		ykssh_attest_result_free(a);
	}
	return NULL;
}

/* What is inconsistent, once every source is in. */
static void
judge(struct ykssh_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct ykssh_list_item *it = &l->items[i];
		int local = it->pub_path != NULL;

		if (it->config_label != NULL && !local)
			it->problems |= YKSSH_LIST_NO_FILES;
		if (local && it->registered == 0)
			it->problems |= YKSSH_LIST_NOT_REGISTERED;
		/* A PIV key is here when its .pub is. */
		if (it->on_token == 1 && it->stub_path == NULL &&
		    (!l->token_piv || it->pub_path == NULL))
			it->problems |= YKSSH_LIST_NOT_LOCAL;
		if (local && it->stub_path != NULL && it->config_label == NULL)
			it->problems |= YKSSH_LIST_NO_CONFIG;
	}
}

struct ykssh_err *
ykssh_list(struct ykssh_ctx *ctx, const struct ykssh_list_opts *o,
    struct ykssh_list **listp)
{
	struct ykssh_list *l;
	struct ykssh_err *err = NULL;
	char *sshdir = NULL, *config = NULL;
	time_t now = o->now != 0 ? o->now : time(NULL);

	*listp = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    asprintf(&sshdir, "%s/.ssh", o->home) < 0 ||
	    (o->config_path != NULL ? (config = strdup(o->config_path)) ==
	    NULL : asprintf(&config, "%s/config", sshdir) < 0)) {
		err = NOMEM();
		goto out;
	}
	/* Config first: it says which non-sk .pub files are ours (PIV). */
	if ((err = add_config(l, config)) != NULL ||
	    (err = add_files(l, sshdir)) != NULL)
		goto out;
	if (o->bb != NULL && (err = add_bitbucket(l, o->bb, now,
	    o->warn_days != 0 ? o->warn_days : WARN_DAYS)) != NULL)
		goto out;
	if (o->on_token && (err = o->piv ? add_token_piv(ctx, l, o) :
	    add_token(ctx, l, o)) != NULL)
		goto out;
	if (o->trust != NULL && (err = add_attest(l, o->trust)) != NULL)
		goto out;
	judge(l);
	*listp = l;
	l = NULL;
out:
	free(sshdir);
	free(config);
	ykssh_list_free(l);
	return err;
}
