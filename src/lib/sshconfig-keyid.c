/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Changing only the key id of a block (a rotated key keeps its file
 * name): the begin marker and the checksum change, nothing ssh reads, so
 * the block means exactly what it meant.  A rotated PIV key has a new
 * .pub: its first IdentityFile line changes too, nothing else.
 * Re-applying the entry instead could add lines (HostName, Port) that
 * later user lines made necessary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshconfig-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/sshconfig.h"

static int
key_id_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

struct ykssh_err *
ykssh_sshconfig_set_key_id_text(const char *in, size_t inlen,
    const char *label, const char *key_id, char **outp, size_t *outlenp)
{
	return ykssh_sshconfig_switch_key_text(in, inlen, label, key_id, NULL,
	    outp, outlenp);
}

/* "<indent>IdentityFile <file><eol>", the indent of the line replaced. */
static char *
identity_line(const struct sc_line *l, const char *file)
{
	size_t ind = 0;
	char *q, *s;

	while (ind < l->len && (l->raw[ind] == ' ' || l->raw[ind] == '\t'))
		ind++;
	if ((q = ykssh_sc_quote_value(file, 1)) == NULL)
		return NULL;
	if (asprintf(&s, "%.*sIdentityFile %s%s", (int)ind, l->raw, q,
	    l->eol == 2 ? "\r\n" : l->eol == 1 ? "\n" : "") < 0)
		s = NULL;
	free(q);
	return s;
}

struct ykssh_err *
ykssh_sshconfig_switch_key_text(const char *in, size_t inlen,
    const char *label, const char *key_id, const char *identity_file,
    char **outp, size_t *outlenp)
{
	const char *src;
	char *line = NULL;
	size_t slen;
	int switched = 0;
	struct sc_config *cfg = NULL, *nc = NULL;
	struct sc_block *b = NULL;
	struct ykssh_err *err = NULL;
	const struct sc_line *bl, *el;
	char *mid = NULL, *out = NULL, *tmp;
	const char *eol;
	size_t n = 0, i, k, pre, post, midlen;
	unsigned int sum;

	*outp = NULL;
	*outlenp = 0;
	if (!key_id_ok(key_id))
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "a key id is "
		    "printable and has no blanks");
	if ((err = ykssh_sc_parse(in, inlen, &cfg)) != NULL ||
	    (err = ykssh_sc_find_blocks(cfg, &b, &n)) != NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(cfg->lines[b[i].begin].m_label, label) == 0)
			break;
	if (i == n) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "no ykssh block '%s'",
		    label);
		goto out;
	}
	if (b[i].edited) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "line %zu: "
		    "the ykssh block '%s' was edited by hand", b[i].begin + 1,
		    label), "check it, then re-create it with 'ykssh config "
		    "apply --force'");
		goto out;
	}
	bl = &cfg->lines[b[i].begin];
	el = &cfg->lines[b[i].end];
	eol = bl->eol == 2 ? "\r\n" : "\n";
	/* The new begin line and the body, then their checksum. */
	if (asprintf(&mid, "# %s %s %s%s", SC_MARK_BEGIN, label, key_id,
	    eol) < 0) {
		mid = NULL;
		goto nomem;
	}
	midlen = strlen(mid);
	for (k = b[i].begin + 1; k < b[i].end; k++) {
		src = cfg->lines[k].raw;
		slen = cfg->lines[k].len;
		/* The first IdentityFile names the key (others: backups). */
		if (identity_file != NULL && !switched &&
		    cfg->lines[k].type == SC_OPTION &&
		    strcmp(cfg->lines[k].kw, "identityfile") == 0) {
			if ((line = identity_line(&cfg->lines[k],
			    identity_file)) == NULL)
				goto nomem;
			src = line;
			slen = strlen(line);
			switched = 1;
		}
		if ((tmp = realloc(mid, midlen + slen + 1)) == NULL)
			goto nomem;
		mid = tmp;
		memcpy(mid + midlen, src, slen);
		midlen += slen;
		mid[midlen] = '\0';
		free(line);
		line = NULL;
	}
	if (identity_file != NULL && !switched) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "the ykssh block '%s' has "
		    "no IdentityFile", label);
		goto out;
	}
	if ((err = ykssh_sc_parse(mid, midlen, &nc)) != NULL)
		goto out;
	sum = ykssh_sc_block_sum(nc, 0, nc->n, b[i].flags);
	pre = (size_t)(bl->raw - cfg->data);
	post = (size_t)(el->raw - cfg->data) + el->len;
	if (asprintf(&out, "%.*s%s# %s %s %08x%s%.*s", (int)pre, cfg->data,
	    mid, SC_MARK_END, label, sum, el->eol == 0 ? "" :
	    el->eol == 2 ? "\r\n" : "\n", (int)(inlen - post),
	    cfg->data + post) < 0) {
		out = NULL;
		goto nomem;
	}
	*outlenp = strlen(out);
	*outp = out;
	out = NULL;	/* transferred */
	goto out;
nomem:
	err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	free(line);
	free(b);
	ykssh_sc_free(nc);
	ykssh_sc_free(cfg);
	free(mid);
	free(out);
	return err;
}

struct ykssh_err *
ykssh_sshconfig_set_key_id_file(struct ykssh_ctx *ctx, const char *path,
    const char *label, const char *key_id,
    struct ykssh_sshconfig_report **repp)
{
	return ykssh_sshconfig_switch_key_file(ctx, path, label, key_id, NULL,
	    repp);
}

struct ykssh_err *
ykssh_sshconfig_switch_key_file(struct ykssh_ctx *ctx, const char *path,
    const char *label, const char *key_id, const char *identity_file,
    struct ykssh_sshconfig_report **repp)
{
	struct ykssh_sshconfig_report *rep = NULL;
	struct ykssh_atomicfile_lock *lock = NULL;
	struct ykssh_atomicfile_opts ao;
	struct ykssh_err *err = NULL;
	char *target = NULL, *old = NULL, *new = NULL;
	size_t oldlen, newlen;
	int exists;

	*repp = NULL;
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if ((err = ykssh_atomicfile_resolve(path, &target)) != NULL ||
	    (err = ykssh_atomicfile_lock(path, 2000, &lock)) != NULL ||
	    (err = ykssh_atomicfile_read(target, YKSSH_SSHCONFIG_MAX_SIZE,
	    &old, &oldlen, &exists)) != NULL ||
	    (err = ykssh_sshconfig_switch_key_text(old, oldlen, label, key_id,
	    identity_file, &new, &newlen)) != NULL)
		goto out;
	if ((rep->path = strdup(target)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	rep->changed = newlen != oldlen || memcmp(new, old, oldlen) != 0;
	if (!rep->changed)
		goto done;
	memset(&ao, 0, sizeof(ao));
	ao.new_mode = 0600;
	ao.backup = 1;
	ao.backup_base = path;
	if ((err = ykssh_atomicfile_write(ctx, target, new, newlen, &ao,
	    &rep->backup)) != NULL)
		goto out;
	rep->written = 1;
done:
	*repp = rep;
	rep = NULL;	/* transferred */
out:
	if (err != NULL)
		err = YKSSH_ERR_WRAP(err, "%s", path);
	ykssh_atomicfile_unlock(lock);
	ykssh_sshconfig_report_free(rep);
	free(target);
	free(old);
	free(new);
	return err;
}
