/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Is a ykssh block what ssh uses?  The block's own values, and for each
 * option the line that ssh would take it from first when that line is
 * outside the block (an earlier Host or Match block, or a top-level line).
 * For ykssh doctor; ssh -G says what the effective values are, this says
 * which line is to blame.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshconfig-internal.h"

_Static_assert(YKSSH_SSHCONFIG_NOPT == SC_NOPT, "option tables differ");
_Static_assert(YKSSH_SSHCONFIG_OPT_USER == SC_OPT_USER &&
    YKSSH_SSHCONFIG_OPT_HOSTNAME == SC_OPT_HOSTNAME &&
    YKSSH_SSHCONFIG_OPT_PORT == SC_OPT_PORT &&
    YKSSH_SSHCONFIG_OPT_IDFILE == SC_OPT_IDFILE &&
    YKSSH_SSHCONFIG_OPT_IDONLY == SC_OPT_IDONLY &&
    YKSSH_SSHCONFIG_OPT_PKCS11 == SC_OPT_PKCS11, "option indexes differ");

void
ykssh_sshconfig_effect_clear(struct ykssh_sshconfig_effect *ef)
{
	size_t i;

	if (ef == NULL)
		return;
	free(ef->host);
	for (i = 0; i < YKSSH_SSHCONFIG_NOPT; i++) {
		free(ef->own[i]);
		free(ef->winner[i]);
	}
	memset(ef, 0, sizeof(*ef));
}

const char *
ykssh_sshconfig_opt_name(int k)
{
	return k >= 0 && k < SC_NOPT ? sc_optnames[k] : NULL;
}

/* The block's host: "Host X" or "Match originalhost X". */
static const char *
block_host(const struct sc_config *cfg, const struct sc_block *b)
{
	const struct sc_line *l;
	size_t i;

	for (i = b->begin; i <= b->end; i++) {
		l = &cfg->lines[i];
		if (l->type != SC_OPTION || l->argc == 0)
			continue;
		if (strcmp(l->kw, "host") == 0)
			return l->argv[0];
		if (strcmp(l->kw, "match") == 0 && l->argc >= 2)
			return l->argv[1];
	}
	return NULL;
}

static struct ykssh_err *
effect(const struct sc_config *cfg, const struct sc_block *b,
    const struct sc_env *env, struct ykssh_sshconfig_effect *ef)
{
	struct ykssh_sc_walk w;
	struct ykssh_err *err;
	const struct sc_line *l;
	const char *host;
	size_t i;
	int k;

	memset(&w, 0, sizeof(w));
	ef->first_line = b->begin + 1;
	ef->edited = b->edited;
	if ((host = block_host(cfg, b)) == NULL)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "%s:%zu: the ykssh block has no Host line", env->main_name,
		    b->begin + 1), "'ykssh config apply --force' rewrites it");
	if ((ef->host = strdup(host)) == NULL)
		goto nomem;
	for (i = b->begin; i <= b->end; i++) {
		l = &cfg->lines[i];
		if (l->type != SC_OPTION || l->argc == 0 ||
		    (k = ykssh_sc_optindex(l->kw)) == -1 || ef->own[k] != NULL)
			continue;
		if ((ef->own[k] = strdup(l->argv[0])) == NULL)
			goto nomem;
	}
	if ((err = ykssh_sc_walk(cfg, host, b->begin, b->end, env, &w)) !=
	    NULL)
		return err;
	for (k = 0; k < SC_NOPT; k++) {
		const struct sc_hit *h = &w.hit[k];

		if (!h->found || h->anchor >= b->begin)
			continue;
		if (asprintf(&ef->winner[k], "%s%s%s%s", h->where,
		    h->ctx != NULL ? " (" : "", h->ctx != NULL ? h->ctx : "",
		    h->ctx != NULL ? ")" : "") == -1) {
			ef->winner[k] = NULL;
			ykssh_sc_walk_free(&w);
			goto nomem;
		}
	}
	ykssh_sc_walk_free(&w);
	return NULL;
nomem:
	return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
}

struct ykssh_err *
ykssh_sshconfig_effect_file(const struct ykssh_sshconfig_opts *opts,
    const char *path, const char *label, struct ykssh_sshconfig_effect *ef)
{
	struct ykssh_err *err = NULL;
	struct sc_config *cfg = NULL;
	struct sc_block *blocks = NULL;
	struct sc_env env;
	struct passwd *pw;
	char *data = NULL, *dir = NULL;
	size_t len, n, i;
	int exists;

	memset(ef, 0, sizeof(*ef));
	memset(&env, 0, sizeof(env));
	env.main_name = opts != NULL && opts->name != NULL ? opts->name :
	    "config";
	env.no_include = opts != NULL &&
	    (opts->flags & YKSSH_SSHCONFIG_NO_INCLUDE) != 0;
	pw = getpwuid(getuid());
	env.local_user = pw != NULL ? pw->pw_name : NULL;
	env.home = opts != NULL && opts->home != NULL ? opts->home :
	    (pw != NULL ? pw->pw_dir : "/");
	if (opts != NULL && opts->ssh_dir != NULL)
		env.ssh_dir = opts->ssh_dir;
	else if (asprintf(&dir, "%s/.ssh", env.home) == -1) {
		dir = NULL;
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	} else
		env.ssh_dir = dir;
	if ((err = ykssh_atomicfile_read(path, YKSSH_SSHCONFIG_MAX_SIZE, &data,
	    &len, &exists)) != NULL)
		goto out;
	if (!exists) {
		err = YKSSH_ERR(YKSSH_ERR_FILE_NOT_FOUND, "%s: no such file",
		    path);
		goto out;
	}
	if ((err = ykssh_sc_parse(data, len, &cfg)) != NULL ||
	    (err = ykssh_sc_find_blocks(cfg, &blocks, &n)) != NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(cfg->lines[blocks[i].begin].m_label, label) == 0)
			break;
	if (i == n) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "%s: no ykssh block '%s'",
		    path, label);
		goto out;
	}
	if ((err = effect(cfg, &blocks[i], &env, ef)) != NULL)
		ykssh_sshconfig_effect_clear(ef);
out:
	free(blocks);
	ykssh_sc_free(cfg);
	free(data);
	free(dir);
	return err;
}
