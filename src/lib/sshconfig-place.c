/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which line would set an option for a host first?
 *
 * ssh reads its config top to bottom and keeps the first value it obtains
 * for each option (IdentityFile accumulates, in order).  ykssh_sc_walk()
 * follows readconf.c for one host: lines before the first Host/Match apply
 * to all hosts; "Host" matches patterns against the name typed; "Match"
 * criteria are evaluated where we can (all, host, originalhost, user,
 * localuser) and are "maybe" where we cannot (exec, canonical, final,
 * anything newer); "Include" is followed (globs, ~, relative to ~/.ssh) with
 * the includer's active state, and restored afterwards.  Every setting is
 * attributed to a line of the main file (its Host/Match line, or the line
 * itself at the top level) before which a block would take precedence.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshconfig-internal.h"

#define NO	0
#define YES	1
#define MAYBE	2
#define MAX_DEPTH	16

const char *const sc_optnames[SC_NOPT] = {
	"User", "HostName", "Port", "IdentityFile", "IdentitiesOnly",
	"PKCS11Provider", "ControlMaster", "ControlPath", "ControlPersist"
};

struct wstate {
	const struct sc_env *env;
	const char	*host;		/* what Host lines match */
	const char	*orig;		/* the name typed (our alias) */
	int		 final;		/* the final pass */
	char		*hostname;	/* HostName obtained so far */
	char		*user;		/* User obtained so far */
	struct ykssh_sc_walk	*w;
	const char	*main_name;
};

int
ykssh_sc_optindex(const char *kw)
{
	size_t i;

	for (i = 0; i < SC_NOPT; i++)
		if (strcasecmp(kw, sc_optnames[i]) == 0)
			return (int)i;
	return -1;
}

void
ykssh_sc_walk_free(struct ykssh_sc_walk *w)
{
	size_t i;

	for (i = 0; i < SC_NOPT; i++) {
		free(w->hit[i].where);
		free(w->hit[i].ctx);
	}
	memset(w, 0, sizeof(*w));
}

static int
and3(int a, int b)
{
	if (a == NO || b == NO)
		return NO;
	if (a == MAYBE || b == MAYBE)
		return MAYBE;
	return YES;
}

static int
not3(int a)
{
	return a == MAYBE ? MAYBE : (a == YES ? NO : YES);
}

static int
eval_host(const struct wstate *st, const struct sc_line *l)
{
	const char *p;
	int active = NO;
	size_t i;

	for (i = 0; i < l->argc; i++) {
		p = l->argv[i];
		if (*p == '!') {
			if (ykssh_sc_match_pattern(st->host, p + 1))
				return NO;
		} else if (ykssh_sc_match_pattern(st->host, p))
			active = YES;
	}
	return active;
}

static int
eval_match(const struct wstate *st, const struct sc_line *l)
{
	const char *attr, *arg, *name;
	int r = YES, c, neg;
	size_t i;

	for (i = 0; i < l->argc; i++) {
		attr = l->argv[i];
		neg = *attr == '!';
		if (neg)
			attr++;
		if (strcasecmp(attr, "all") == 0) {
			c = YES;
		} else if (strcasecmp(attr, "canonical") == 0 ||
		    strcasecmp(attr, "final") == 0) {
			/*
			 * False in the first pass, true in the final one
			 * ("maybe" in the first keeps our block above).
			 * Reading "final", even in a block that does not
			 * apply, makes ssh do a final pass.
			 */
			if (strcasecmp(attr, "final") == 0)
				st->w->final_pass = 1;
			c = st->final ? YES : MAYBE;
		} else if (i + 1 >= l->argc) {
			c = MAYBE;	/* ssh will complain */
		} else {
			arg = l->argv[++i];
			if (strcasecmp(attr, "host") == 0) {
				name = st->hostname != NULL ? st->hostname :
				    st->host;
				c = ykssh_sc_match_pattern_list(name, arg,
				    1) == 1 ? YES : NO;
			} else if (strcasecmp(attr, "originalhost") == 0) {
				c = ykssh_sc_match_pattern_list(st->orig,
				    arg, 1) == 1 ? YES : NO;
			} else if (strcasecmp(attr, "user") == 0) {
				name = st->user != NULL ? st->user :
				    st->env->local_user;
				c = name != NULL &&
				    ykssh_sc_match_pattern_list(name, arg,
				    0) == 1 ? YES : NO;
			} else if (strcasecmp(attr, "localuser") == 0) {
				name = st->env->local_user;
				c = name != NULL &&
				    ykssh_sc_match_pattern_list(name, arg,
				    0) == 1 ? YES : NO;
			} else
				c = MAYBE;	/* exec, localnetwork, ... */
		}
		if (neg)
			c = not3(c);
		r = and3(r, c);
	}
	return r;
}

/* "%h" in HostName is the name typed; other tokens are left alone. */
static char *
expand_hostname(const char *v, const char *host)
{
	char *out, *p;
	size_t n = strlen(v) + 1, i;

	for (i = 0; v[i] != '\0'; i++)
		if (v[i] == '%' && v[i + 1] == 'h')
			n += strlen(host);
	if ((out = malloc(n)) == NULL)
		return NULL;
	for (p = out, i = 0; v[i] != '\0'; i++) {
		if (v[i] == '%' && v[i + 1] == 'h') {
			memcpy(p, host, strlen(host));
			p += strlen(host);
			i++;
		} else if (v[i] == '%' && v[i + 1] == '%') {
			*p++ = '%';
			i++;
		} else
			*p++ = v[i];
	}
	*p = '\0';
	return out;
}

static struct ykssh_err *
record(struct wstate *st, int k, int active, size_t anchor, int toplevel,
    size_t via, const char *fname, size_t lineno, const char *ctx,
    const struct sc_line *l)
{
	struct sc_hit *h = &st->w->hit[k];

	if (k == SC_OPT_HOSTNAME && active == YES && st->hostname == NULL &&
	    !h->found && (st->hostname = expand_hostname(l->argv[0],
	    st->orig)) == NULL)
		goto nomem;
	if (k == SC_OPT_USER && active == YES && st->user == NULL &&
	    !h->found && (st->user = strdup(l->argv[0])) == NULL)
		goto nomem;
	if (h->found)
		return NULL;
	h->found = 1;
	h->maybe = active == MAYBE;
	h->anchor = anchor;
	h->toplevel = toplevel;
	h->via = via;
	if (asprintf(&h->where, "%s:%zu", fname, lineno) == -1) {
		h->where = NULL;
		goto nomem;
	}
	if (ctx != NULL && (h->ctx = strdup(ctx)) == NULL)
		goto nomem;
	return NULL;
nomem:
	return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
}

/* The text of a line without its end of line and surrounding blanks. */
static char *
line_text(const struct sc_line *l)
{
	const char *p = l->raw, *e = l->raw + l->len - l->eol;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return strndup(p, (size_t)(e - p));
}

static struct ykssh_err *walk_file(struct wstate *st,
    const struct sc_config *cfg, const char *fname, int depth, int *active,
    size_t skip_b, size_t skip_e, size_t anchor, int toplevel, size_t via);

static char *
include_path(const struct sc_env *env, const char *arg)
{
	char *p = NULL;

	if (arg[0] == '~' && (arg[1] == '/' || arg[1] == '\0')) {
		if (asprintf(&p, "%s%s", env->home, arg + 1) == -1)
			p = NULL;
	} else if (arg[0] == '/' || arg[0] == '~') {
		p = strdup(arg);	/* ~user: left to glob */
	} else if (asprintf(&p, "%s/%s", env->ssh_dir, arg) == -1)
		p = NULL;
	return p;
}

static struct ykssh_err *
walk_include(struct wstate *st, const struct sc_line *l, int depth,
    int *active, size_t anchor, int toplevel, size_t via)
{
	struct ykssh_err *e = NULL;
	struct sc_config *inc = NULL;
	char *path = NULL, *data = NULL;
	size_t i, j, len;
	glob_t gl;
	int saved = *active, exists, have_gl = 0;

	/*
	 * From a block that does not apply, ssh reads the file with
	 * NEVERMATCH: nothing in it applies, but a "Match final" in it still
	 * asks for a final pass, so it is read all the same.
	 */
	if (depth >= MAX_DEPTH || st->env->no_include)
		return NULL;
	for (i = 0; i < l->argc; i++) {
		if ((path = include_path(st->env, l->argv[i])) == NULL) {
			e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		memset(&gl, 0, sizeof(gl));
		if (glob(path, GLOB_TILDE, NULL, &gl) != 0) {
			globfree(&gl);
			free(path);
			path = NULL;
			continue;
		}
		have_gl = 1;
		for (j = 0; j < gl.gl_pathc; j++) {
			e = ykssh_atomicfile_read(gl.gl_pathv[j],
			    YKSSH_SSHCONFIG_MAX_SIZE, &data, &len, &exists);
			if (e != NULL &&
			    ykssh_err_code(e) == YKSSH_ERR_UNSAFE_FILE) {
				/* A directory: ssh reads nothing from it. */
				ykssh_err_free(e);
				e = NULL;
				continue;
			}
			if (e != NULL) {
				e = YKSSH_ERR_WRAP(e, "cannot read %s, "
				    "included by %s", gl.gl_pathv[j],
				    st->main_name);
				goto out;
			}
			if ((e = ykssh_sc_parse(data, len, &inc)) != NULL)
				goto out;
			e = walk_file(st, inc, gl.gl_pathv[j], depth + 1,
			    active, 1, 0, anchor, toplevel, via);
			*active = saved;
			ykssh_sc_free(inc);
			inc = NULL;
			free(data);
			data = NULL;
			if (e != NULL)
				goto out;
		}
		globfree(&gl);
		have_gl = 0;
		free(path);
		path = NULL;
	}
out:
	if (have_gl)
		globfree(&gl);
	ykssh_sc_free(inc);
	free(data);
	free(path);
	return e;
}

static struct ykssh_err *
walk_file(struct wstate *st, const struct sc_config *cfg, const char *fname,
    int depth, int *active, size_t skip_b, size_t skip_e, size_t anchor,
    int toplevel, size_t via)
{
	struct ykssh_err *e = NULL;
	const struct sc_line *l;
	char *ctx = NULL;
	size_t i, hdr = SIZE_MAX, a;
	int cap = *active, k, tl;

	for (i = 0; i < cfg->n; i++) {
		l = &cfg->lines[i];
		if (i >= skip_b && i <= skip_e)
			continue;
		if (l->type != SC_OPTION)
			continue;
		if (strcmp(l->kw, "host") == 0 ||
		    strcmp(l->kw, "match") == 0) {
			*active = l->kw[0] == 'h' ? eval_host(st, l) :
			    eval_match(st, l);
			if (depth > 0)
				*active = and3(*active, cap);
			free(ctx);
			if ((ctx = line_text(l)) == NULL)
				goto nomem;
			hdr = i;
			continue;
		}
		/* Where a block must go to come before this line. */
		if (depth > 0) {
			a = anchor;
			tl = toplevel;
		} else {
			a = hdr != SIZE_MAX ? hdr : i;
			tl = hdr == SIZE_MAX;
		}
		if (strcmp(l->kw, "include") == 0) {
			if ((e = walk_include(st, l, depth, active, a, tl,
			    depth > 0 ? via : i + 1)) != NULL)
				goto out;
			continue;
		}
		if (*active != NO &&
		    strcmp(l->kw, "canonicalizehostname") == 0 &&
		    l->argc > 0 && strcasecmp(l->argv[0], "no") != 0)
			st->w->final_pass = 1;	/* ssh re-reads the config */
		if (*active == NO || l->argc == 0 ||
		    (k = ykssh_sc_optindex(l->kw)) == -1)
			continue;
		if ((e = record(st, k, *active, a, tl, via, fname, i + 1, ctx,
		    l)) != NULL)
			goto out;
	}
	goto out;
nomem:
	e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	free(ctx);
	return e;
}

struct ykssh_err *
ykssh_sc_walk(const struct sc_config *cfg, const char *host, size_t skip_b,
    size_t skip_e, const struct sc_env *env, struct ykssh_sc_walk *w)
{
	struct ykssh_err *e;
	struct wstate st;
	int active = YES;

	memset(w, 0, sizeof(*w));
	memset(&st, 0, sizeof(st));
	st.env = env;
	st.host = st.orig = host;
	st.w = w;
	st.main_name = env->main_name;
	if (env->final_host != NULL) {
		/*
		 * The final pass: Host lines match the HostName obtained in
		 * the first pass, and User/HostName are already set.
		 */
		st.final = 1;
		st.host = env->final_host;
		if ((st.hostname = strdup(env->final_host)) == NULL ||
		    (env->final_user != NULL &&
		    (st.user = strdup(env->final_user)) == NULL)) {
			free(st.hostname);
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
	}
	e = walk_file(&st, cfg, env->main_name, 0, &active, skip_b, skip_e,
	    0, 1, 0);
	free(st.hostname);
	free(st.user);
	if (e != NULL)
		ykssh_sc_walk_free(w);
	return e;
}
