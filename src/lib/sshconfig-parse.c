/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading ssh_config the way ssh 9.x does (readconf.c
 * process_config_line_depth, misc.c strdelim and argv_split, match.c),
 * while keeping every byte: each line is a slice of the input.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshconfig-internal.h"

#define WS	" \t\r\n"

static void
line_clear(struct sc_line *l)
{
	free(l->kw);
	ykssh_sc_strv_free(l->argv, l->argc);
	free(l->m_label);
	free(l->m_arg);
}

void
ykssh_sc_free(struct sc_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n; i++)
		line_clear(&cfg->lines[i]);
	free(cfg->lines);
	free(cfg);
}

void
ykssh_sc_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* misc.c strdelim_internal(s, split_equals = 1). */
static char *
strdelim_eq(char **s)
{
	char *old;
	int wspace = 0;

	if (*s == NULL)
		return NULL;
	old = *s;
	*s = strpbrk(*s, WS "\"=");
	if (*s == NULL)
		return old;
	if (**s == '"') {
		memmove(*s, *s + 1, strlen(*s));
		if ((*s = strchr(*s, '"')) == NULL)
			return NULL;	/* no matching quote */
		**s = '\0';
		*s += strspn(*s + 1, WS) + 1;
		return old;
	}
	if (**s == '=')
		wspace = 1;
	**s = '\0';
	*s += strspn(*s + 1, WS) + 1;
	if (**s == '=' && !wspace)
		*s += strspn(*s + 1, WS) + 1;
	return old;
}

/*
 * misc.c argv_split(s, ..., terminate_on_comment = 1).  Returns 0, -1 on
 * unbalanced quotes, -2 on allocation failure.
 */
int
ykssh_sc_split_args(const char *s, char ***argvp, size_t *argcp)
{
	char **argv = NULL, **nv, *arg;
	size_t argc = 0, i, j;
	int quote, r = -2;

	*argvp = NULL;
	*argcp = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			continue;
		if (s[i] == '#')
			break;
		quote = 0;
		if ((nv = realloc(argv, (argc + 1) * sizeof(*argv))) == NULL)
			goto out;
		argv = nv;
		if ((arg = calloc(1, strlen(s + i) + 1)) == NULL)
			goto out;
		argv[argc++] = arg;
		for (j = 0; s[i] != '\0'; i++) {
			if (s[i] == '\\') {
				if (s[i + 1] == '\'' || s[i + 1] == '"' ||
				    s[i + 1] == '\\' ||
				    (quote == 0 && s[i + 1] == ' ')) {
					i++;
					arg[j++] = s[i];
				} else
					arg[j++] = s[i];
			} else if (quote == 0 && (s[i] == ' ' || s[i] == '\t'))
				break;
			else if (quote == 0 && (s[i] == '"' || s[i] == '\''))
				quote = s[i];
			else if (quote != 0 && s[i] == quote)
				quote = 0;
			else
				arg[j++] = s[i];
		}
		if (s[i] == '\0') {
			if (quote != 0) {
				r = -1;
				goto out;
			}
			break;
		}
	}
	*argvp = argv;
	*argcp = argc;
	argv = NULL; /* transferred */
	r = 0;
out:
	ykssh_sc_strv_free(argv, argc);
	return r;
}

char *
ykssh_sc_quote_arg(const char *s)
{
	char *out, *p;

	if (*s != '\0' && strpbrk(s, " \t\"'\\#") == NULL)
		return strdup(s);
	if ((out = malloc(strlen(s) * 2 + 3)) == NULL)
		return NULL;
	p = out;
	*p++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return out;
}

static int
valid_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Classifies "# ykssh:begin ..." / "# ykssh:end ..." comments. */
static int
parse_marker(struct sc_line *l, const char *text)
{
	const char *p = text, *tok[4];
	size_t tlen[4], nt = 0;
	int begin;

	p += strspn(p, " \t");
	if (strncmp(p, SC_MARK_BEGIN, strlen(SC_MARK_BEGIN)) == 0)
		begin = 1;
	else if (strncmp(p, SC_MARK_END, strlen(SC_MARK_END)) == 0)
		begin = 0;
	else
		return 0;
	while (*p != '\0') {
		p += strspn(p, " \t\r\f");
		if (*p == '\0')
			break;
		if (nt == 4)
			goto bad;
		tok[nt] = p;
		tlen[nt] = strcspn(p, " \t\r\f");
		p += tlen[nt++];
	}
	if (tlen[0] != strlen(begin ? SC_MARK_BEGIN : SC_MARK_END) ||
	    nt < 2 || nt > 3 || !valid_label(tok[1], tlen[1]))
		goto bad;
	l->type = begin ? SC_BEGIN : SC_END;
	if ((l->m_label = strndup(tok[1], tlen[1])) == NULL)
		return -1;
	if (nt == 3 && (l->m_arg = strndup(tok[2], tlen[2])) == NULL)
		return -1;
	return 0;
bad:
	l->type = SC_BADMARK;
	return 0;
}

/* Returns 0 or -1 on allocation failure. */
static int
parse_line(struct sc_line *l)
{
	char *copy, *s, *kw;
	size_t n, i;
	int r = -1, sr;

	l->type = SC_OPAQUE;
	n = l->len - l->eol;
	if (memchr(l->raw, '\0', n) != NULL)
		return 0;	/* ssh would stop at the NUL: not ours */
	if ((copy = strndup(l->raw, n)) == NULL)
		return -1;
	/* Strip trailing whitespace (but never the first byte, like ssh). */
	for (i = n; i > 1; i--) {
		if (strchr(WS "\f", copy[i - 1]) == NULL)
			break;
		copy[i - 1] = '\0';
	}
	if (copy[strspn(copy, WS)] == '\0' || (n == 1 && copy[0] == '\f')) {
		l->type = copy[strspn(copy, WS)] == '\0' ? SC_BLANK :
		    SC_OPAQUE;
		r = 0;
		goto out;
	}
	if (copy[strspn(copy, WS)] == '#') {
		l->type = SC_COMMENT;
		r = parse_marker(l, copy + strspn(copy, WS) + 1);
		goto out;
	}
	s = copy;
	if ((kw = strdelim_eq(&s)) != NULL && *kw == '\0')
		kw = strdelim_eq(&s);
	if (kw == NULL || *kw == '\0' || *kw == '#') {
		r = 0;		/* ssh ignores it; so do we */
		goto out;
	}
	if (s != NULL)
		s += strspn(s, WS);
	if (s == NULL || *s == '\0') {
		r = 0;		/* "no argument after keyword" */
		goto out;
	}
	if ((sr = ykssh_sc_split_args(s, &l->argv, &l->argc)) == -2)
		goto out;
	if (sr == -1) {
		r = 0;		/* "invalid quotes" */
		goto out;
	}
	if ((l->kw = strdup(kw)) == NULL)
		goto out;
	for (i = 0; l->kw[i] != '\0'; i++)
		l->kw[i] = (char)tolower((unsigned char)l->kw[i]);
	l->type = SC_OPTION;
	r = 0;
out:
	free(copy);
	return r;
}

struct ykssh_err *
ykssh_sc_parse(const char *data, size_t len, struct sc_config **cfgp)
{
	struct ykssh_err *e = NULL;
	struct sc_config *cfg = NULL;
	struct sc_line *nl;
	const char *p, *end = data + len, *lf;
	size_t cap = 0;

	*cfgp = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		goto nomem;
	cfg->data = data;
	cfg->len = len;
	for (p = data; p < end; p = lf) {
		if (cfg->n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nl = reallocarray(cfg->lines, cap,
			    sizeof(*nl))) == NULL)
				goto nomem;
			cfg->lines = nl;
		}
		nl = &cfg->lines[cfg->n];
		memset(nl, 0, sizeof(*nl));
		cfg->n++;
		nl->raw = p;
		if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			lf = end;
			nl->eol = 0;
		} else {
			lf++;
			nl->eol = (lf - p >= 2 && lf[-2] == '\r') ? 2 : 1;
		}
		nl->len = (size_t)(lf - p);
		if (cfg->n == 1 || (cfg->lines[0].eol == 0 && nl->eol != 0))
			cfg->crlf = nl->eol == 2;
		if (parse_line(nl) == -1)
			goto nomem;
	}
	*cfgp = cfg;
	return NULL;
nomem:
	ykssh_sc_free(cfg);
	e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	return e;
}

/* FNV-1a, 32 bits: a typo detector, not a security boundary. */
unsigned int
ykssh_sc_block_sum(const struct sc_config *cfg, size_t begin, size_t end,
    unsigned int flags)
{
	uint32_t h = 2166136261u;
	const struct sc_line *l;
	size_t i, j, n;

	for (i = begin; i < end && i < cfg->n; i++) {
		l = &cfg->lines[i];
		n = l->len - l->eol;
		for (j = 0; j < n; j++) {
			h ^= (unsigned char)l->raw[j];
			h *= 16777619u;
		}
		h ^= '\n';
		h *= 16777619u;
	}
	h ^= flags & SC_SEP_ALL;
	h *= 16777619u;
	return h;
}

struct ykssh_err *
ykssh_sc_find_blocks(const struct sc_config *cfg, struct sc_block **blocksp,
    size_t *np)
{
	struct ykssh_err *e = NULL;
	struct sc_block *b = NULL, *nb;
	const struct sc_line *l;
	unsigned long sum;
	unsigned int f;
	size_t i, j, n = 0, open = SIZE_MAX;
	char *ep;

	*blocksp = NULL;
	*np = 0;
	for (i = 0; i < cfg->n; i++) {
		l = &cfg->lines[i];
		if (l->type == SC_BADMARK) {
			e = YKSSH_ERR(YKSSH_ERR_CONFIG, "line %zu: unreadable "
			    "ykssh marker comment", i + 1);
			goto out;
		}
		if (l->type == SC_BEGIN) {
			if (open != SIZE_MAX) {
				e = YKSSH_ERR(YKSSH_ERR_CONFIG, "line %zu: "
				    "ykssh block '%s' starts before the "
				    "block above it ends", i + 1, l->m_label);
				goto out;
			}
			for (j = 0; j < n; j++)
				if (strcmp(cfg->lines[b[j].begin].m_label,
				    l->m_label) == 0) {
					e = YKSSH_ERR(YKSSH_ERR_CONFIG,
					    "line %zu: second ykssh block "
					    "labelled '%s'", i + 1,
					    l->m_label);
					goto out;
				}
			open = i;
		} else if (l->type == SC_END) {
			if (open == SIZE_MAX || strcmp(l->m_label,
			    cfg->lines[open].m_label) != 0) {
				e = YKSSH_ERR(YKSSH_ERR_CONFIG, "line %zu: "
				    "ykssh:end '%s' does not close an open "
				    "ykssh:begin with that label", i + 1,
				    l->m_label);
				goto out;
			}
			if ((nb = reallocarray(b, n + 1, sizeof(*b))) == NULL) {
				e = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
			b = nb;
			memset(&b[n], 0, sizeof(b[n]));
			b[n].begin = open;
			b[n].end = i;
			b[n].edited = 1;
			if (l->m_arg != NULL && strlen(l->m_arg) == 8) {
				sum = strtoul(l->m_arg, &ep, 16);
				for (f = 0; *ep == '\0' && f <= SC_SEP_ALL;
				    f++)
					if (ykssh_sc_block_sum(cfg, open, i,
					    f) == sum) {
						b[n].flags = f;
						b[n].edited = 0;
						break;
					}
			}
			if (b[n].edited) {
				/* Best guess at what ykssh added around it. */
				if (open > 0 &&
				    cfg->lines[open - 1].type == SC_BLANK)
					b[n].flags |= SC_SEP_BEFORE;
				if (i + 1 < cfg->n &&
				    cfg->lines[i + 1].type == SC_BLANK)
					b[n].flags |= SC_SEP_AFTER;
			}
			n++;
			open = SIZE_MAX;
		}
	}
	if (open != SIZE_MAX) {
		e = YKSSH_ERR(YKSSH_ERR_CONFIG, "line %zu: ykssh block '%s' "
		    "has no ykssh:end marker", open + 1,
		    cfg->lines[open].m_label);
		goto out;
	}
	*blocksp = b;
	b = NULL; /* transferred */
	*np = n;
out:
	free(b);
	if (e != NULL)
		e = ykssh_err_hint(e, "fix the '# ykssh:' marker comments by "
		    "hand; ykssh changed nothing and edits the file only "
		    "when they pair up");
	return e;
}

int
ykssh_sc_match_pattern(const char *s, const char *pattern)
{
	for (;;) {
		if (*pattern == '\0')
			return *s == '\0';
		if (*pattern == '*') {
			while (*pattern == '*')
				pattern++;
			if (*pattern == '\0')
				return 1;
			if (*pattern != '?') {
				for (; *s != '\0'; s++)
					if (*s == *pattern &&
					    ykssh_sc_match_pattern(s + 1,
					    pattern + 1))
						return 1;
				return 0;
			}
			for (; *s != '\0'; s++)
				if (ykssh_sc_match_pattern(s, pattern))
					return 1;
			return 0;
		}
		if (*s == '\0')
			return 0;
		if (*pattern != '?' && *pattern != *s)
			return 0;
		s++;
		pattern++;
	}
}

int
ykssh_sc_match_pattern_list(const char *s, const char *list, int dolower)
{
	char sub[1024];
	size_t i = 0, k, len = strlen(list);
	int negated, positive = 0;

	while (i < len) {
		negated = list[i] == '!';
		if (negated)
			i++;
		for (k = 0; i < len && k < sizeof(sub) - 1 && list[i] != ',';
		    k++, i++)
			sub[k] = dolower ?
			    (char)tolower((unsigned char)list[i]) : list[i];
		if (k >= sizeof(sub) - 1)
			return 0;
		if (i < len && list[i] == ',')
			i++;
		sub[k] = '\0';
		if (ykssh_sc_match_pattern(s, sub)) {
			if (negated)
				return -1;
			positive = 1;
		}
	}
	return positive;
}
