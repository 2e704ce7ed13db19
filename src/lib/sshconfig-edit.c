/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Applying and removing ykssh blocks in config text.
 *
 * Placement (docs/sshconfig.md has the reasoning):
 *  - an existing block of the same label is replaced in place, unless a
 *    line above it would now set one of its options first; then it moves;
 *  - a new block goes before the first line that may set one of its
 *    options for the host (at that line's Host/Match line, or at the line
 *    itself at the top level, followed by a "Host *" line that gives the
 *    following top-level lines back to every host); otherwise at the end.
 * What ykssh adds around a block (blank separators, a final newline) is
 * recorded in the block's checksum, so removal takes back exactly that.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshconfig-internal.h"

#define INDENT	"    "

/* A growable string. */
struct sb {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void
ykssh_sshconfig_report_free(struct ykssh_sshconfig_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	free(rep->path);
	free(rep->backup);
	free(rep->diff);
	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	free(rep);
}

static int
add_note(struct ykssh_sshconfig_report *rep, const char *fmt, ...)
    YKSSH_PRINTF(2, 3);

static int
add_note(struct ykssh_sshconfig_report *rep, const char *fmt, ...)
{
	va_list ap;
	char **nv, *s;
	int r;

	if (rep == NULL)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1)
		return -1;
	if ((nv = reallocarray(rep->notes, rep->nnotes + 1,
	    sizeof(*nv))) == NULL) {
		free(s);
		return -1;
	}
	rep->notes = nv;
	rep->notes[rep->nnotes++] = s;
	return 0;
}

/* "%" is a token in IdentityFile and ControlPath: double it. */
static char *
quote_value(const char *v, int percent)
{
	char *tmp, *q, *p;
	const char *s;

	if (!percent)
		return ykssh_sc_quote_arg(v);
	if ((tmp = malloc(strlen(v) * 2 + 1)) == NULL)
		return NULL;
	for (p = tmp, s = v; *s != '\0'; s++) {
		if (*s == '%')
			*p++ = '%';
		*p++ = *s;
	}
	*p = '\0';
	q = ykssh_sc_quote_arg(tmp);
	free(tmp);
	return q;
}

struct want {
	int		 opt[SC_NOPT];	/* options the block writes */
	int		 reopen;	/* ends with "Host *" */
	int		 match_header;	/* "Match originalhost" for "Host" */
};

char *
ykssh_sc_quote_value(const char *v, int percent)
{
	return quote_value(v, percent);
}

static void
opt_line(struct sb *b, const char *kw, const char *v, int percent,
    const char *eol)
{
	char *q;

	if ((q = quote_value(v, percent)) == NULL) {
		b->oom = 1;
		return;
	}
	sb_str(b, INDENT);
	sb_str(b, kw);
	sb_str(b, " ");
	sb_str(b, q);
	sb_str(b, eol);
	free(q);
}

/* The block's text, from the begin marker to the end marker included. */
static struct ykssh_err *
render(const struct ykssh_sshconfig_entry *e, const struct want *wt,
    const char *eol, unsigned int flags, char **outp)
{
	struct ykssh_err *err = NULL;
	struct sc_config *cfg = NULL;
	struct sb b = { 0 };
	const char *host = e->host != NULL ? e->host : "bitbucket.org";
	char num[16];
	size_t i;

	*outp = NULL;
	sb_str(&b, "# " SC_MARK_BEGIN " ");
	sb_str(&b, e->label);
	if (e->key_id != NULL) {
		sb_str(&b, " ");
		sb_str(&b, e->key_id);
	}
	sb_str(&b, eol);
	/*
	 * When ssh reads the config a second time (Match final, Canonicalize-
	 * Hostname), "Host" lines then match the HostName, so "Host
	 * bitbucket.org" would also apply to other aliases of that server.
	 * "Match originalhost" matches only the name typed, in both passes.
	 */
	sb_str(&b, wt->match_header ? "Match originalhost " : "Host ");
	sb_str(&b, host);
	sb_str(&b, eol);
	if (wt->opt[SC_OPT_HOSTNAME])
		opt_line(&b, "HostName", e->hostname != NULL ? e->hostname :
		    host, 0, eol);
	if (wt->opt[SC_OPT_PORT]) {
		snprintf(num, sizeof(num), "%u", e->port ? e->port : 22);
		opt_line(&b, "Port", num, 0, eol);
	}
	opt_line(&b, "User", e->user != NULL ? e->user : "git", 0, eol);
	opt_line(&b, "IdentityFile", e->identity_file, 1, eol);
	/* ssh tries the identities in order: a backup token's key last. */
	for (i = 0; i < e->nmore_identity_files; i++)
		opt_line(&b, "IdentityFile", e->more_identity_files[i], 1,
		    eol);
	opt_line(&b, "IdentitiesOnly", "yes", 0, eol);
	if (wt->opt[SC_OPT_PKCS11])
		opt_line(&b, "PKCS11Provider", e->pkcs11_provider, 0, eol);
	if (e->persist != NULL) {
		opt_line(&b, "ControlMaster", "auto", 0, eol);
		opt_line(&b, "ControlPath", "~/.ssh/cm-%C", 0, eol);
		opt_line(&b, "ControlPersist", e->persist, 0, eol);
	}
	if (wt->reopen) {
		sb_str(&b, "Host *");
		sb_str(&b, eol);
	}
	if (b.oom)
		goto nomem;
	if ((err = ykssh_sc_parse(b.p, b.len, &cfg)) != NULL)
		goto out;
	snprintf(num, sizeof(num), "%08x",
	    ykssh_sc_block_sum(cfg, 0, cfg->n, flags));
	sb_str(&b, "# " SC_MARK_END " ");
	sb_str(&b, e->label);
	sb_str(&b, " ");
	sb_str(&b, num);
	sb_str(&b, eol);
	if (b.oom)
		goto nomem;
	*outp = b.p;
	b.p = NULL; /* transferred */
	goto out;
nomem:
	err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	ykssh_sc_free(cfg);
	free(b.p);
	return err;
}

static int
is_blank(const struct sc_config *cfg, size_t i)
{
	return i < cfg->n && cfg->lines[i].type == SC_BLANK;
}

/* Line indexes a removal takes out, and whether to drop one EOL before. */
static void
removal_span(const struct sc_config *cfg, const struct sc_block *b,
    size_t *fromp, size_t *top, size_t *drop_eol)
{
	size_t from = b->begin, to = b->end;

	if ((b->flags & SC_SEP_BEFORE) && from > 0 && is_blank(cfg, from - 1))
		from--;
	if ((b->flags & SC_SEP_AFTER) && is_blank(cfg, to + 1))
		to++;
	/* The end of line we added is in the style of the block's lines. */
	*drop_eol = (b->flags & SC_ADDED_EOL) && to + 1 == cfg->n &&
	    from > 0 && cfg->lines[from - 1].eol >= cfg->lines[b->begin].eol ?
	    cfg->lines[b->begin].eol : 0;
	*fromp = from;
	*top = to;
}

static size_t
line_off(const struct sc_config *cfg, size_t i)
{
	return i < cfg->n ? (size_t)(cfg->lines[i].raw - cfg->data) :
	    cfg->len;
}

/* cfg without block b, as bytes. */
static int
cut_block(const struct sc_config *cfg, const struct sc_block *b,
    struct sb *out)
{
	size_t from, to, a;
	size_t drop;

	removal_span(cfg, b, &from, &to, &drop);
	a = line_off(cfg, from) - drop;
	sb_add(out, cfg->data, a);
	sb_add(out, cfg->data + line_off(cfg, to + 1),
	    cfg->len - line_off(cfg, to + 1));
	return out->oom ? -1 : 0;
}

static struct ykssh_err *
setup_env(const struct ykssh_sshconfig_opts *opts, struct sc_env *env,
    char **freep)
{
	struct passwd *pw;
	char *dir = NULL;

	memset(env, 0, sizeof(*env));
	*freep = NULL;
	env->main_name = opts != NULL && opts->name != NULL ? opts->name :
	    "config";
	env->no_include = opts != NULL &&
	    (opts->flags & YKSSH_SSHCONFIG_NO_INCLUDE) != 0;
	pw = getpwuid(getuid());
	env->local_user = pw != NULL ? pw->pw_name : NULL;
	env->home = opts != NULL && opts->home != NULL ? opts->home :
	    (pw != NULL ? pw->pw_dir : "/");
	if (opts != NULL && opts->ssh_dir != NULL)
		env->ssh_dir = opts->ssh_dir;
	else {
		if (asprintf(&dir, "%s/.ssh", env->home) == -1)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		env->ssh_dir = dir;
		*freep = dir;
	}
	return NULL;
}

/*
 * Finds the block of `label`, and checks no other block owns `host` or
 * is labelled `newlabel` (the label a renamed block takes, or NULL).
 */
static struct ykssh_err *
find_own(const struct sc_config *cfg, const struct sc_block *b, size_t n,
    const char *label, const char *newlabel, const char *host,
    const struct sc_block **own)
{
	const struct sc_line *l;
	size_t i, j, k;

	*own = NULL;
	for (i = 0; i < n; i++) {
		if (strcmp(cfg->lines[b[i].begin].m_label, label) == 0) {
			*own = &b[i];
			continue;
		}
		if (newlabel != NULL &&
		    strcmp(cfg->lines[b[i].begin].m_label, newlabel) == 0)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "line %zu: a ykssh block labelled '%s' already "
			    "exists", b[i].begin + 1, newlabel), "remove it "
			    "first ('ykssh config remove %s')", newlabel);
		if (host == NULL)
			continue;
		for (j = b[i].begin; j < b[i].end; j++) {
			l = &cfg->lines[j];
			if (l->type != SC_OPTION || (strcmp(l->kw, "host") != 0 &&
			    strcmp(l->kw, "match") != 0))
				continue;
			for (k = 0; k < l->argc; k++)
				if (strcmp(l->argv[k], host) == 0)
					return ykssh_err_hint(YKSSH_ERR(
					    YKSSH_ERR_CONFIG, "line %zu: the "
					    "ykssh block '%s' already "
					    "configures Host %s",
					    b[i].begin + 1,
					    cfg->lines[b[i].begin].m_label,
					    host), "use another host alias "
					    "for a second key (for example "
					    "--host %s-%s --hostname %s), or "
					    "remove '%s' first", host, label,
					    host,
					    cfg->lines[b[i].begin].m_label);
			break;
		}
	}
	return NULL;
}

/* Does an option line follow `pos` before the next Host/Match line? */
static int
toplevel_follows(const struct sc_config *cfg, size_t pos)
{
	const struct sc_line *l;

	for (; pos < cfg->n; pos++) {
		l = &cfg->lines[pos];
		if (l->type == SC_OPTION)
			return strcmp(l->kw, "host") != 0 &&
			    strcmp(l->kw, "match") != 0;
	}
	return 0;
}

/*
 * Never insert inside another ykssh block: go above it instead.  That is
 * the same for ssh when only comments lie between its begin marker and
 * the anchor, or when the anchor is at the top level (the block then ends
 * with "Host *"); otherwise refuse.
 */
static struct ykssh_err *
outside_blocks(const struct sc_config *cfg, const struct sc_hit *h,
    size_t *pos)
{
	size_t i = *pos, j;

	while (i > 0 && cfg->lines[i - 1].type != SC_BEGIN &&
	    cfg->lines[i - 1].type != SC_END)
		i--;
	if (i == 0 || cfg->lines[i - 1].type != SC_BEGIN)
		return NULL;
	i--;
	for (j = i; !h->toplevel && j < *pos; j++)
		if (cfg->lines[j].type == SC_OPTION)
			return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "%s wins for this host, and it is inside the "
			    "ykssh block '%s' (line %zu)", h->where,
			    cfg->lines[i].m_label, i + 1), "remove or fix that "
			    "block first");
	*pos = i;
	while (*pos > 0 && cfg->lines[*pos - 1].type == SC_COMMENT)
		(*pos)--;
	return NULL;
}

static int
old_reopen(const struct sc_config *cfg, const struct sc_block *b)
{
	const struct sc_line *l;

	if (b->end == 0 || b->end - 1 <= b->begin)
		return 0;
	l = &cfg->lines[b->end - 1];
	return l->type == SC_OPTION && strcmp(l->kw, "host") == 0 &&
	    l->argc == 1 && strcmp(l->argv[0], "*") == 0;
}

static void
want_opts(const struct ykssh_sshconfig_entry *e, const struct ykssh_sc_walk *w,
    const int *force, struct want *wt)
{
	memset(wt, 0, sizeof(*wt));
	wt->opt[SC_OPT_USER] = wt->opt[SC_OPT_IDFILE] =
	    wt->opt[SC_OPT_IDONLY] = 1;
	/* Written when asked for, or when another line would set them. */
	wt->opt[SC_OPT_HOSTNAME] = e->hostname != NULL ||
	    w->hit[SC_OPT_HOSTNAME].found || force[SC_OPT_HOSTNAME];
	wt->opt[SC_OPT_PORT] = e->port != 0 || w->hit[SC_OPT_PORT].found ||
	    force[SC_OPT_PORT];
	wt->opt[SC_OPT_PKCS11] = e->kind == YKSSH_SSHCONFIG_PIV;
	wt->opt[SC_OPT_CMASTER] = wt->opt[SC_OPT_CPATH] =
	    wt->opt[SC_OPT_CPERSIST] = e->persist != NULL;
}

/* The earliest written option set before line `pos`, or -1. */
static int
first_conflict(const struct ykssh_sc_walk *w, const struct want *wt, size_t pos)
{
	int k, best = -1;

	for (k = 0; k < SC_NOPT; k++) {
		if (!wt->opt[k] || !w->hit[k].found || w->hit[k].anchor >= pos)
			continue;
		if (best == -1 || w->hit[k].anchor < w->hit[best].anchor)
			best = k;
	}
	return best;
}

static int
note_hit(struct ykssh_sshconfig_report *rep, const char *what,
    const struct sc_hit *h, const char *opt, const char *host)
{
	char via[48] = "";

	if (h->via)
		snprintf(via, sizeof(via), ", included from line %zu", h->via);
	return add_note(rep, "%s sets %s for %s%s (%s%s%s%s); %s", h->where,
	    opt, host, h->maybe ? " if it applies" : "",
	    h->ctx != NULL ? "block \"" : "top level, all hosts",
	    h->ctx != NULL ? h->ctx : "", h->ctx != NULL ? "\"" : "", via,
	    what);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
clear_notes(struct ykssh_sshconfig_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	rep->notes = NULL;
	rep->nnotes = 0;
}

/*
 * One placement: the new text in *out, the block's first line in
 * rep->line, its length in *blk_lines, what it writes in *wt.  `force`
 * lists options to write even though no line sets them without our block.
 */
static struct ykssh_err *
place_once(const char *in, size_t inlen,
    const struct ykssh_sshconfig_entry *e, const struct sc_env *env,
    int force_edit, const int *force, struct sb *out,
    struct ykssh_sshconfig_report *rep, struct want *wt, size_t *blk_lines)
{
	struct ykssh_err *err = NULL;
	struct sc_config *cfg = NULL, *cut = NULL;
	struct sc_block *blocks = NULL;
	const struct sc_block *own;
	struct ykssh_sc_walk w;
	struct sb rest = { 0 };
	const char *host = e->host != NULL ? e->host : "bitbucket.org";
	const char *eol;
	char *block = NULL;
	size_t n, nn, pos, i;
	unsigned int flags;
	int k;

	memset(&w, 0, sizeof(w));
	if ((err = ykssh_sc_parse(in, inlen, &cfg)) != NULL ||
	    (err = ykssh_sc_find_blocks(cfg, &blocks, &n)) != NULL ||
	    (err = find_own(cfg, blocks, n, e->replaces != NULL ?
	    e->replaces : e->label, e->replaces != NULL &&
	    strcmp(e->replaces, e->label) != 0 ? e->label : NULL, host,
	    &own)) != NULL)
		goto out;
	eol = cfg->crlf ? "\r\n" : "\n";

	if (own != NULL) {
		if (own->edited && !force_edit) {
			err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
			    "lines %zu-%zu: the ykssh block '%s' was edited "
			    "by hand", own->begin + 1, own->end + 1,
			    cfg->lines[own->begin].m_label),
			    "move your changes outside the block, or pass "
			    "--force to replace it (the old file is kept as "
			    "a backup)");
			goto out;
		}
		/* Keep the block's own line ends (the file may be mixed). */
		eol = cfg->lines[own->begin].eol == 2 ? "\r\n" : "\n";
		if ((err = ykssh_sc_walk(cfg, host, own->begin, own->end, env,
		    &w)) != NULL)
			goto out;
		want_opts(e, &w, force, wt);
		wt->match_header = w.final_pass;
		if ((k = first_conflict(&w, wt, own->begin)) == -1) {
			/* In place: same separators, same "Host *". */
			wt->reopen = old_reopen(cfg, own);
			if ((err = render(e, wt, eol, own->flags, &block)) !=
			    NULL)
				goto out;
			sb_add(out, in, line_off(cfg, own->begin));
			sb_str(out, block);
			*blk_lines = count_lines(block);
			sb_add(out, in + line_off(cfg, own->end + 1),
			    inlen - line_off(cfg, own->end + 1));
			rep->line = own->begin + 1;
			goto done;
		}
		if (note_hit(rep, "moved the ykssh block above it",
		    &w.hit[k], sc_optnames[k], host) == -1)
			goto nomem;
		/* Take it out and place it as a new block. */
		if (cut_block(cfg, own, &rest) == -1)
			goto nomem;
		if ((err = ykssh_sc_parse(rest.p != NULL ? rest.p : "",
		    rest.len, &cut)) != NULL)
			goto out;
		in = rest.p != NULL ? rest.p : "";
		inlen = rest.len;
		ykssh_sc_free(cfg);
		cfg = cut;
		cut = NULL;
		ykssh_sc_walk_free(&w);
	}

	if ((err = ykssh_sc_walk(cfg, host, 1, 0, env, &w)) != NULL)
		goto out;
	want_opts(e, &w, force, wt);
	wt->match_header = w.final_pass;
	flags = 0;
	if ((k = first_conflict(&w, wt, SIZE_MAX)) == -1) {
		pos = cfg->n;
	} else {
		if (note_hit(rep, "placed the ykssh block above it",
		    &w.hit[k], sc_optnames[k], host) == -1)
			goto nomem;
		pos = w.hit[k].anchor;
		/* Comments right above the anchor stay with it. */
		while (pos > 0 && cfg->lines[pos - 1].type == SC_COMMENT)
			pos--;
		if ((err = outside_blocks(cfg, &w.hit[k], &pos)) != NULL)
			goto out;
		wt->reopen = w.hit[k].toplevel &&
		    toplevel_follows(cfg, pos);
	}
	if (pos == cfg->n) {
		if (pos > 0 && !is_blank(cfg, pos - 1))
			flags |= SC_SEP_BEFORE;
		if (pos > 0 && cfg->lines[pos - 1].eol == 0)
			flags |= SC_ADDED_EOL;
	} else {
		if (!is_blank(cfg, pos))
			flags |= SC_SEP_AFTER;
		if (pos > 0 && !is_blank(cfg, pos - 1))
			flags |= SC_SEP_BEFORE;
	}
	if ((err = render(e, wt, eol, flags, &block)) != NULL)
		goto out;
	sb_add(out, in, line_off(cfg, pos));
	if (flags & SC_ADDED_EOL)
		sb_str(out, eol);
	if (flags & SC_SEP_BEFORE)
		sb_str(out, eol);
	for (i = 0, nn = 0; i < out->len; i++)
		nn += out->p[i] == '\n';
	rep->line = nn + 1;
	sb_str(out, block);
	*blk_lines = count_lines(block);
	if (flags & SC_SEP_AFTER)
		sb_str(out, eol);
	sb_add(out, in + line_off(cfg, pos), inlen - line_off(cfg, pos));
done:
	if (out->p == NULL)
		sb_str(out, "");
	if (out->oom)
		goto nomem;
	goto out;
nomem:
	err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	ykssh_sc_walk_free(&w);
	free(block);
	free(rest.p);
	free(blocks);
	ykssh_sc_free(cfg);
	ykssh_sc_free(cut);
	return err;
}

struct ykssh_err *
ykssh_sshconfig_apply_text(const char *in, size_t inlen,
    const struct ykssh_sshconfig_entry *e,
    const struct ykssh_sshconfig_opts *opts, char **outp, size_t *outlenp,
    struct ykssh_sshconfig_report **repp)
{
	struct ykssh_err *err = NULL;
	struct ykssh_sshconfig_report *rep = NULL;
	struct sc_config *chk = NULL;
	struct ykssh_sc_walk w, w2;
	struct want wt;
	struct sb out = { 0 };
	const char *host = e->host != NULL ? e->host : "bitbucket.org";
	char *envfree = NULL;
	size_t blk_lines = 0;
	struct sc_env env;
	int k, iter, again, force[SC_NOPT];
	int force_edit = opts != NULL &&
	    (opts->flags & YKSSH_SSHCONFIG_FORCE);

	memset(&w, 0, sizeof(w));
	memset(&w2, 0, sizeof(w2));
	memset(force, 0, sizeof(force));
	*outp = NULL;
	*outlenp = 0;
	if (repp != NULL)
		*repp = NULL;
	if ((err = ykssh_sshconfig_entry_check(e)) != NULL)
		goto out;
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		goto nomem;
	if ((err = setup_env(opts, &env, &envfree)) != NULL)
		goto out;
	/*
	 * Our block changes what later lines do for the host: with "User
	 * git" set first, a later "Match user git" applies; with "HostName"
	 * set, "Match host" sees it.  Such a line may then set an option the
	 * block does not write (HostName, Port): walk the result as ssh
	 * would, and if one does, write that option too and place again.
	 */
	for (iter = 0;; iter++) {
		free(out.p);
		memset(&out, 0, sizeof(out));
		clear_notes(rep);
		ykssh_sc_walk_free(&w2);
		ykssh_sc_free(chk);
		chk = NULL;
		if ((err = place_once(in, inlen, e, &env, force_edit, force,
		    &out, rep, &wt, &blk_lines)) != NULL)
			goto out;
		if ((err = ykssh_sc_parse(out.p, out.len, &chk)) != NULL ||
		    (err = ykssh_sc_walk(chk, host, 1, 0, &env, &w2)) != NULL)
			goto out;
		again = 0;
		for (k = SC_OPT_HOSTNAME; k <= SC_OPT_PORT; k++)
			if (!wt.opt[k] && w2.hit[k].found) {
				force[k] = 1;
				again = 1;
			}
		/* ssh's final pass may set what the first one left unset. */
		if (w2.final_pass) {
			struct sc_env env2 = env;

			env2.final_host = e->hostname != NULL ? e->hostname :
			    host;
			env2.final_user = e->user != NULL ? e->user : "git";
			ykssh_sc_walk_free(&w);
			if ((err = ykssh_sc_walk(chk, host, 1, 0, &env2, &w)) !=
			    NULL)
				goto out;
			for (k = SC_OPT_HOSTNAME; k <= SC_OPT_PORT; k++)
				if (!wt.opt[k] && w.hit[k].found) {
					force[k] = 1;
					again = 1;
				}
			ykssh_sc_walk_free(&w);
		}
		if (!again || iter == 2)
			break;
	}
	/*
	 * Self-check on the result: for every option we write, the first
	 * line that sets it for the host is in our block (whose Host line is
	 * line index rep->line).
	 */
	for (k = 0; k < SC_NOPT; k++) {
		if (!wt.opt[k] || !w2.hit[k].found ||
		    w2.hit[k].anchor == rep->line)
			continue;
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "%s wins "
		    "over the ykssh block: it sets %s for %s first%s%s%s",
		    w2.hit[k].where, sc_optnames[k], host,
		    w2.hit[k].ctx ? " (in \"" : "",
		    w2.hit[k].ctx ? w2.hit[k].ctx : "",
		    w2.hit[k].ctx ? "\")" : ""), "move or remove that line, "
		    "then run this command again");
		goto out;
	}
	if (wt.match_header && add_note(rep, "ssh reads this config twice "
	    "(Match final or CanonicalizeHostname), and the second time "
	    "\"Host\" lines match the HostName: the block starts with "
	    "\"Match originalhost %s\" so that it applies only to the name "
	    "typed", host) == -1)
		goto nomem;
	/* Lines after ours that also set an option: worth knowing. */
	if ((err = ykssh_sc_walk(chk, host, rep->line - 1, rep->line - 1 +
	    blk_lines - 1, &env, &w)) != NULL)
		goto out;
	for (k = 0; k < SC_NOPT; k++)
		if (wt.opt[k] && w.hit[k].found && note_hit(rep,
		    "the ykssh block comes first", &w.hit[k], sc_optnames[k],
		    host) == -1)
			goto nomem;
	rep->changed = out.len != inlen || memcmp(out.p, in, inlen) != 0;
	*outp = out.p;
	*outlenp = out.len;
	out.p = NULL; /* transferred */
	if (repp != NULL) {
		*repp = rep;
		rep = NULL; /* transferred */
	}
	goto out;
nomem:
	err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	ykssh_sc_walk_free(&w);
	ykssh_sc_walk_free(&w2);
	free(out.p);
	free(envfree);
	ykssh_sc_free(chk);
	ykssh_sshconfig_report_free(rep);
	return err;
}

struct ykssh_err *
ykssh_sshconfig_remove_text(const char *in, size_t inlen, const char *label,
    const struct ykssh_sshconfig_opts *opts, char **outp, size_t *outlenp)
{
	struct ykssh_err *err = NULL;
	struct sc_config *cfg = NULL;
	struct sc_block *blocks = NULL;
	const struct sc_block *own;
	struct sb out = { 0 };
	size_t n;
	int force = opts != NULL && (opts->flags & YKSSH_SSHCONFIG_FORCE);

	*outp = NULL;
	*outlenp = 0;
	if ((err = ykssh_sc_parse(in, inlen, &cfg)) != NULL ||
	    (err = ykssh_sc_find_blocks(cfg, &blocks, &n)) != NULL ||
	    (err = find_own(cfg, blocks, n, label, NULL, NULL, &own)) !=
	    NULL)
		goto out;
	if (own == NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "no ykssh block labelled '%s'", label),
		    "'ykssh config show' lists the blocks ykssh owns");
		goto out;
	}
	if (own->edited && !force) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG,
		    "lines %zu-%zu: the ykssh block '%s' was edited by hand",
		    own->begin + 1, own->end + 1, label), "move your changes "
		    "outside the block, or pass --force to remove it anyway "
		    "(the old file is kept as a backup)");
		goto out;
	}
	if (cut_block(cfg, own, &out) == -1) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (out.p == NULL)
		sb_str(&out, "");
	if (out.oom) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	*outp = out.p;
	*outlenp = out.len;
	out.p = NULL; /* transferred */
out:
	free(out.p);
	free(blocks);
	ykssh_sc_free(cfg);
	return err;
}
