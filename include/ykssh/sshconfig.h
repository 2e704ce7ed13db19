/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ~/.ssh/config: a format-preserving, idempotent editor.
 *
 * ykssh owns only the blocks it wrote, delimited by marker comments:
 *
 *	# ykssh:begin <label> [<key id>]
 *	Host bitbucket.org
 *		User git
 *		IdentityFile ~/.ssh/id_ed25519_sk_work
 *		IdentitiesOnly yes
 *	# ykssh:end <label> <checksum>
 *
 * Everything else is kept byte for byte.  The checksum (8 hex digits)
 * covers the begin line and the body, so hand edits inside a block are
 * detected (and only replaced or removed with YKSSH_SSHCONFIG_FORCE).  See
 * docs/sshconfig.md for the format, the placement rules (ssh's "first
 * match wins") and the safety guarantees.
 *
 * Call flow (file level):
 *
 *	struct ykssh_sshconfig_entry e = { .kind = YKSSH_SSHCONFIG_FIDO2,
 *	    .label = "work", .identity_file = "~/.ssh/id_ed25519_sk_work" };
 *	err = ykssh_sshconfig_apply_file(ctx, path, &e, &opts, &report);
 *	... print report->diff / report->notes ...
 *	ykssh_sshconfig_report_free(report);
 *
 * The text-level functions (ykssh_sshconfig_apply_text, _remove_text) do
 * the same edits on bytes in memory without touching the disk except to
 * read Include'd files.
 */
#ifndef YKSSH_SSHCONFIG_H
#define YKSSH_SSHCONFIG_H

#include <stddef.h>

#include "ykssh/atomicfile.h"
#include "ykssh/ctx.h"
#include "ykssh/error.h"

/* Largest config file (and Include'd file) read: 16 MiB. */
#define YKSSH_SSHCONFIG_MAX_SIZE	(16 * 1024 * 1024)

enum ykssh_sshconfig_kind {
	YKSSH_SSHCONFIG_FIDO2 = 1,	/* IdentityFile = the sk key stub */
	YKSSH_SSHCONFIG_PIV		/* PKCS11Provider + IdentityFile .pub */
};

/*
 * What one enrolled key needs in ssh_config.  Strings are borrowed.
 *  label		required: [A-Za-z0-9._-], at most 64 characters; names
 *			the block (one block per label)
 *  key_id		optional: fingerprint or other id shown in the marker
 *			(printable, no whitespace)
 *  host		Host alias; NULL = "bitbucket.org".  Lower case
 *			[a-z0-9._-] (ssh matches Host case-sensitively against
 *			the name typed, and git lowercases nothing)
 *  hostname		HostName; NULL = none (the alias is the real name)
 *  port		0 = none (22); Data Center uses 7999
 *  user		NULL = "git"
 *  identity_file	required: "~/..." or an absolute path
 *  pkcs11_provider	required for PIV: absolute path of the module
 *  persist		NULL, or a ControlPersist time ("10m", "1h30m"): adds
 *			ControlMaster auto, ControlPath ~/.ssh/cm-%C and
 *			ControlPersist
 *  more_identity_files	NULL, or nmore_identity_files more IdentityFile
 *			paths, written after identity_file in this order (ssh
 *			tries them in order: a backup token's key); the same
 *			rules as identity_file
 *  replaces		NULL, or the label of an existing block this entry
 *			takes the place of, in place, under the new label
 *			(the label must not name another block)
 */
struct ykssh_sshconfig_entry {
	enum ykssh_sshconfig_kind kind;
	const char	*label;
	const char	*key_id;
	const char	*host;
	const char	*hostname;
	unsigned int	 port;
	const char	*user;
	const char	*identity_file;
	const char	*pkcs11_provider;
	const char	*persist;
	const char *const *more_identity_files;
	size_t		 nmore_identity_files;
	const char	*replaces;
};

/* Flags for struct ykssh_sshconfig_opts. */
#define YKSSH_SSHCONFIG_DRY_RUN		0x01	/* compute + diff, no write */
#define YKSSH_SSHCONFIG_FORCE		0x02	/* replace hand-edited block */
#define YKSSH_SSHCONFIG_NO_SSH_CHECK	0x04	/* do not run ssh -G */
#define YKSSH_SSHCONFIG_NO_BACKUP	0x08	/* no backup file */
#define YKSSH_SSHCONFIG_NO_INCLUDE	0x10	/* Include'd files unread
						   (fuzzing, tests) */

struct ykssh_sshconfig_opts {
	int		 flags;
	/* File name used in messages ("~/.ssh/config:12"); NULL = "config". */
	const char	*name;
	/*
	 * Directory for relative Include paths and home for "~" in Include,
	 * as ssh computes them: NULL = from the password database (ssh uses
	 * getpwuid(), not $HOME).
	 */
	const char	*ssh_dir;
	const char	*home;
	/* ssh binary for the ssh -G checks; NULL = "ssh" from PATH. */
	const char	*ssh_path;
	/* Milliseconds to wait for another ykssh's lock; 0 = 2000. */
	int		 lock_timeout_ms;
	/* Test hook passed to the atomic writer. */
	void		(*step_hook)(void *arg, const char *step);
	void		*step_arg;
};

/*
 * The outcome of an apply or remove.  Strings are owned by the report.
 *  changed	the new bytes differ from the old ones
 *  written	the file was replaced (0 with DRY_RUN or when unchanged)
 *  path	the file edited (symlinks resolved)
 *  backup	backup of the old file, or NULL
 *  diff	unified diff old -> new ("" when unchanged)
 *  line	1-based line of the block's begin marker in the new file
 *		(0 after a remove)
 *  notes	human sentences: why the block went where it did, lines
 *		that also set an option for the host (file:line)
 */
struct ykssh_sshconfig_report {
	int		 changed;
	int		 written;
	char		*path;
	char		*backup;
	char		*diff;
	size_t		 line;
	char		**notes;
	size_t		 nnotes;
};

void ykssh_sshconfig_report_free(struct ykssh_sshconfig_report *rep);

/*
 * Checks an entry: labels, host names, paths ssh could not read back,
 * durations.  Errors: INVALID_ARGUMENT (message names the field).
 */
struct ykssh_err *ykssh_sshconfig_entry_check(
    const struct ykssh_sshconfig_entry *e) YKSSH_MUST_CHECK;

/*
 * In memory: applies entry e to the config text in[0..inlen) and returns
 * the new text in *outp (malloc'd, NUL terminated, *outlenp bytes).  If the
 * block of e->label exists it is replaced in place (or moved when
 * something before it would win); otherwise it is appended, or inserted
 * before the first line that would set one of its options for the host
 * first.  Applying the same entry again returns identical bytes.
 * `repp` (may be NULL) receives a report without path/backup/diff.
 * Errors: INVALID_ARGUMENT (bad entry), CONFIG (inconsistent markers,
 * hand-edited block without FORCE, another block already owns the host,
 * or an earlier line that would still win: the message names file:line),
 * NOMEM.
 */
struct ykssh_err *ykssh_sshconfig_apply_text(const char *in, size_t inlen,
    const struct ykssh_sshconfig_entry *e,
    const struct ykssh_sshconfig_opts *opts, char **outp, size_t *outlenp,
    struct ykssh_sshconfig_report **repp) YKSSH_MUST_CHECK;

/*
 * In memory: removes the block of `label` and the blank separator lines
 * (and final newline) ykssh added with it.  Errors: CONFIG (no such
 * block (inconsistent markers, hand-edited block without FORCE),
 * NOMEM.
 */
struct ykssh_err *ykssh_sshconfig_remove_text(const char *in, size_t inlen,
    const char *label, const struct ykssh_sshconfig_opts *opts,
    char **outp, size_t *outlenp) YKSSH_MUST_CHECK;

/*
 * File level: resolves symlinks, creates the parent directory 0700 if
 * missing, takes the lock, checks the current file with `ssh -G -F`
 * (refusing to touch a file ssh rejects, with ssh's message), edits,
 * checks the new file with `ssh -G -F` (our values must be what ssh
 * computes), makes one backup and replaces the file atomically
 * (atomicfile.h).  With DRY_RUN only the report (with its diff) is made.
 * Errors: as the text functions, plus LOCKED, UNSAFE_FILE, PERMISSION,
 * SYSTEM, CONFIG (ssh rejects the file: its message is included).
 */
struct ykssh_err *ykssh_sshconfig_apply_file(struct ykssh_ctx *ctx,
    const char *path, const struct ykssh_sshconfig_entry *e,
    const struct ykssh_sshconfig_opts *opts,
    struct ykssh_sshconfig_report **repp) YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_sshconfig_remove_file(struct ykssh_ctx *ctx,
    const char *path, const char *label,
    const struct ykssh_sshconfig_opts *opts,
    struct ykssh_sshconfig_report **repp) YKSSH_MUST_CHECK;

/*
 * One block ykssh owns, as found in a file.  The option values are read
 * back from the block's lines (meaningful when it was not edited), so
 * ykssh_sshconfig_block_entry() can rebuild the entry that wrote it.
 */
struct ykssh_sshconfig_block {
	char		*label;
	char		*key_id;	/* or NULL */
	char		*host;		/* first Host pattern inside, or NULL */
	size_t		 first_line;	/* 1-based, begin marker */
	size_t		 last_line;	/* 1-based, end marker */
	int		 edited;	/* checksum does not match */
	char		**identity_files; /* in order, '%%' undone */
	size_t		 nidentity_files;
	char		*hostname;	/* or NULL */
	unsigned int	 port;		/* 0: none */
	char		*user;		/* or NULL */
	char		*pkcs11_provider; /* or NULL (FIDO2) */
	char		*persist;	/* ControlPersist, or NULL */
};

/*
 * The entry that writes block b again (strings borrowed from b; the
 * identity files after the first in e->more_identity_files).  Errors:
 * CONFIG when the block has no IdentityFile or no Host (edited by hand).
 */
struct ykssh_err *ykssh_sshconfig_block_entry(
    const struct ykssh_sshconfig_block *b, struct ykssh_sshconfig_entry *e)
    YKSSH_MUST_CHECK;

/*
 * Lists the blocks in config text.  *blocksp is a malloc'd array of *np
 * entries, freed with ykssh_sshconfig_blocks_free().  Errors: CONFIG
 * (inconsistent markers), NOMEM.
 */
struct ykssh_err *ykssh_sshconfig_list(const char *in, size_t inlen,
    struct ykssh_sshconfig_block **blocksp, size_t *np) YKSSH_MUST_CHECK;
void ykssh_sshconfig_blocks_free(struct ykssh_sshconfig_block *b, size_t n);
/* The same for a file; a missing file has no blocks. */
struct ykssh_err *ykssh_sshconfig_list_file(const char *path,
    struct ykssh_sshconfig_block **blocksp, size_t *np) YKSSH_MUST_CHECK;

/*
 * Runs `ssh -G -F path host` and returns its "key value" lines for the
 * options ykssh cares about (user, hostname, port, identityfile,
 * identitiesonly, pkcs11provider, controlmaster, controlpath,
 * controlpersist) as a NULL-terminated array of malloc'd "key value"
 * strings.  Errors: CONFIG (ssh rejected the file; message has ssh's
 * stderr), SYSTEM (ssh could not be run).
 */
struct ykssh_err *ykssh_sshconfig_ssh_query(
    const struct ykssh_sshconfig_opts *opts, const char *path,
    const char *host, char ***linesp) YKSSH_MUST_CHECK;
void ykssh_sshconfig_strv_free(char **v);

/*
 * The default config path: "$HOME/.ssh/config", or the password database
 * home when HOME is unset or empty.  Errors: CONFIG, NOMEM.
 */
struct ykssh_err *ykssh_sshconfig_default_path(char **pathp)
    YKSSH_MUST_CHECK;

/*
 * What a ykssh block sets and whether ssh takes it from there (ykssh
 * doctor).  Options are indexed YKSSH_SSHCONFIG_OPT_*, spelled as ssh
 * does by ykssh_sshconfig_opt_name().
 *  host	the block's Host (or Match originalhost) name
 *  own[k]	the value the block sets, or NULL
 *  winner[k]	"file:line (Host ...)" of a line outside the block that ssh
 *		reads first for that host (it wins; for IdentityFile it is
 *		tried first), or NULL
 *  first_line	1-based line of the block's begin marker
 *  edited	the block was edited by hand
 */
#define YKSSH_SSHCONFIG_NOPT		9
#define YKSSH_SSHCONFIG_OPT_USER	0
#define YKSSH_SSHCONFIG_OPT_HOSTNAME	1
#define YKSSH_SSHCONFIG_OPT_PORT	2
#define YKSSH_SSHCONFIG_OPT_IDFILE	3
#define YKSSH_SSHCONFIG_OPT_IDONLY	4
#define YKSSH_SSHCONFIG_OPT_PKCS11	5
struct ykssh_sshconfig_effect {
	char		*host;
	char		*own[YKSSH_SSHCONFIG_NOPT];
	char		*winner[YKSSH_SSHCONFIG_NOPT];
	size_t		 first_line;
	int		 edited;
};
const char *ykssh_sshconfig_opt_name(int k);
/*
 * Errors: FILE_NOT_FOUND (no config), CONFIG (no block `label`, markers
 * inconsistent), NOMEM.  opts: name, home, ssh_dir, NO_INCLUDE as for
 * apply.  Nothing to clear on error.
 */
struct ykssh_err *ykssh_sshconfig_effect_file(
    const struct ykssh_sshconfig_opts *opts, const char *path,
    const char *label, struct ykssh_sshconfig_effect *ef) YKSSH_MUST_CHECK;
void ykssh_sshconfig_effect_clear(struct ykssh_sshconfig_effect *ef);

/*
 * Changes only the key id in the begin marker of the block of `label`
 * (and its checksum), as after a key rotation that kept the key's file
 * name: nothing ssh reads changes.  The file level takes the lock, keeps
 * a backup and replaces the file atomically.  Errors: INVALID_ARGUMENT
 * (key id), CONFIG (no such block, or a hand-edited one), NOMEM; the file
 * level as ykssh_sshconfig_apply_file.
 */
struct ykssh_err *ykssh_sshconfig_set_key_id_text(const char *in,
    size_t inlen, const char *label, const char *key_id, char **outp,
    size_t *outlenp) YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_sshconfig_set_key_id_file(struct ykssh_ctx *ctx,
    const char *path, const char *label, const char *key_id,
    struct ykssh_sshconfig_report **repp) YKSSH_MUST_CHECK;
/*
 * The same, and the block's first IdentityFile line names identity_file
 * (NULL: unchanged), as after the rotation of a PIV key (a new .pub).
 */
struct ykssh_err *ykssh_sshconfig_switch_key_text(const char *in,
    size_t inlen, const char *label, const char *key_id,
    const char *identity_file, char **outp, size_t *outlenp)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_sshconfig_switch_key_file(struct ykssh_ctx *ctx,
    const char *path, const char *label, const char *key_id,
    const char *identity_file, struct ykssh_sshconfig_report **repp)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_SSHCONFIG_H */
