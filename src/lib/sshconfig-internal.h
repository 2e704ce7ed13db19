/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshconfig internals, shared by sshconfig-*.c and the unit tests.
 *
 * A parsed config is the original bytes plus one struct sc_line per line
 * (a slice of those bytes, end of line included).  Printing concatenates
 * the slices, so parse-then-print is the identity by construction; edits
 * build a new byte string from slices and generated lines.
 */
#ifndef YKSSH_SSHCONFIG_INTERNAL_H
#define YKSSH_SSHCONFIG_INTERNAL_H

#include <stddef.h>

#include "ykssh/sshconfig.h"

enum sc_ltype {
	SC_BLANK,	/* only whitespace */
	SC_COMMENT,	/* first non-blank is '#' */
	SC_OPTION,	/* keyword + arguments, as ssh splits them */
	SC_OPAQUE,	/* ssh would reject it: kept, never interpreted */
	SC_BEGIN,	/* # ykssh:begin LABEL [ID] */
	SC_END,		/* # ykssh:end LABEL [SUM] */
	SC_BADMARK	/* a "# ykssh:" comment we cannot read */
};

struct sc_line {
	const char	*raw;	/* into cfg->data */
	size_t		 len;	/* including the end of line */
	size_t		 eol;	/* 0, 1 ("\n") or 2 ("\r\n") */
	enum sc_ltype	 type;
	char		*kw;	/* SC_OPTION: keyword, lower case */
	char		**argv;	/* SC_OPTION: arguments, unquoted */
	size_t		 argc;
	char		*m_label; /* SC_BEGIN/SC_END */
	char		*m_arg;	/* key id / checksum, or NULL */
};

struct sc_config {
	const char	*data;	/* borrowed */
	size_t		 len;
	struct sc_line	*lines;
	size_t		 n;
	int		 crlf;	/* the first end of line is "\r\n" */
};

/* A block we own: [begin, end] line indexes in a config. */
struct sc_block {
	size_t		 begin;
	size_t		 end;
	unsigned int	 flags;	/* SC_SEP_* decoded from the checksum */
	int		 edited;
};

/* What ykssh added around a block; folded into its checksum. */
#define SC_SEP_BEFORE	0x1	/* a blank line before the begin marker */
#define SC_SEP_AFTER	0x2	/* a blank line after the end marker */
#define SC_ADDED_EOL	0x4	/* an end of line for the last user line */
#define SC_SEP_ALL	0x7

#define SC_MARK_BEGIN	"ykssh:begin"
#define SC_MARK_END	"ykssh:end"

/* sshconfig-parse.c */
struct ykssh_err *ykssh_sc_parse(const char *data, size_t len,
    struct sc_config **cfgp) YKSSH_MUST_CHECK;
void ykssh_sc_free(struct sc_config *cfg);
/* ssh's argv_split() on one line's text after the keyword. */
int ykssh_sc_split_args(const char *s, char ***argvp, size_t *argcp)
    YKSSH_MUST_CHECK;
void ykssh_sc_strv_free(char **v, size_t n);
/* Quotes one argument so that ssh's argv_split() returns it unchanged. */
char *ykssh_sc_quote_arg(const char *s);
/* Checksum of the begin line + body of a block, with `flags`. */
unsigned int ykssh_sc_block_sum(const struct sc_config *cfg, size_t begin,
    size_t end, unsigned int flags);
/* Finds all blocks; checks markers pair up and labels are unique. */
struct ykssh_err *ykssh_sc_find_blocks(const struct sc_config *cfg,
    struct sc_block **blocksp, size_t *np) YKSSH_MUST_CHECK;
/* ssh's match_pattern(): '*' and '?' wildcards. */
int ykssh_sc_match_pattern(const char *s, const char *pattern);
/* ssh's match_pattern_list(): comma list with '!' negation: 1, 0, -1. */
int ykssh_sc_match_pattern_list(const char *s, const char *list, int dolower);

/* sshconfig-place.c */
#define SC_NOPT	9
extern const char *const sc_optnames[SC_NOPT];	/* ssh spelling */

#define SC_OPT_USER		0
#define SC_OPT_HOSTNAME		1
#define SC_OPT_PORT		2
#define SC_OPT_IDFILE		3
#define SC_OPT_IDONLY		4
#define SC_OPT_PKCS11		5
#define SC_OPT_CMASTER		6
#define SC_OPT_CPATH		7
#define SC_OPT_CPERSIST		8

/* The first line that may set one option for the host. */
struct sc_hit {
	int		 found;
	int		 maybe;	 /* active state unknown (e.g. Match exec) */
	size_t		 anchor; /* main-file line to insert before */
	int		 toplevel; /* anchor is not a Host/Match line */
	size_t		 via;	 /* 1-based main-file Include line, or 0 */
	char		*where;	 /* "file:line" of the setting */
	char		*ctx;	 /* its Host/Match line, NULL at top level */
};

struct ykssh_sc_walk {
	struct sc_hit	 hit[SC_NOPT];
	int		 final_pass;	/* Match final/canonical or
					   CanonicalizeHostname seen: ssh
					   reads the config a second time */
};

struct sc_env {
	const char	*main_name;	/* file name for messages */
	const char	*ssh_dir;
	const char	*home;
	const char	*local_user;
	int		 no_include;	/* treat Include'd files as empty */
	/* For a walk of ssh's final pass: the HostName and User of pass 1. */
	const char	*final_host;
	const char	*final_user;
};

/*
 * Walks cfg as ssh would for `host`, skipping lines [skip_b, skip_e]
 * (skip_b > skip_e for none), and records which lines set our options.
 */
struct ykssh_err *ykssh_sc_walk(const struct sc_config *cfg, const char *host,
    size_t skip_b, size_t skip_e, const struct sc_env *env,
    struct ykssh_sc_walk *w) YKSSH_MUST_CHECK;
void ykssh_sc_walk_free(struct ykssh_sc_walk *w);
int ykssh_sc_optindex(const char *kw);

/* sshconfig-diff.c */
struct ykssh_err *ykssh_sc_unified_diff(const char *a, size_t alen,
    const char *b, size_t blen, const char *aname, const char *bname,
    char **outp) YKSSH_MUST_CHECK;

/*
 * A value as ykssh writes it in an option line: quoted if needed, '%'
 * doubled when percent (IdentityFile).  malloc'd; NULL: no memory.
 */
char *ykssh_sc_quote_value(const char *v, int percent);

#endif /* YKSSH_SSHCONFIG_INTERNAL_H */
