/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Safe replacement of small user files (~/.ssh/config, key files).
 *
 * Call flow for a read-modify-write:
 *
 *	ykssh_atomicfile_resolve(path, &target)      follow a symlink chain
 *	ykssh_atomicfile_lock(target, 2000, &lock)    flock next to the target
 *	ykssh_atomicfile_read(target, max, &data, &len, &exists)
 *	... compute the new bytes ...
 *	ykssh_atomicfile_write(ctx, target, new, newlen, &opts, &backup)
 *	ykssh_atomicfile_unlock(lock)
 *
 * ykssh_atomicfile_write() never leaves a mix of old and new bytes: it
 * writes a temporary file in the target's directory (created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600), gives it the old file's mode and
 * owner, fsyncs it, optionally lets the caller verify it, renames it over
 * the target and fsyncs the directory.  A crash leaves the old file or the
 * new one, plus at worst a stale ".<name>.ykssh-tmp-*" file that the next
 * write (under the lock) removes.  Symlinks are never followed when
 * creating the temporary or backup file.
 */
#ifndef YKSSH_ATOMICFILE_H
#define YKSSH_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "ykssh/ctx.h"
#include "ykssh/error.h"

struct ykssh_atomicfile_lock;

/* Steps reported to the test hook, in order. */
#define YKSSH_ATOMICFILE_STEP_BACKUP	"backup"	/* backup written */
#define YKSSH_ATOMICFILE_STEP_TEMP	"temp"		/* temp created */
#define YKSSH_ATOMICFILE_STEP_WRITTEN	"written"	/* bytes written */
#define YKSSH_ATOMICFILE_STEP_SYNCED	"synced"	/* temp fsynced */
#define YKSSH_ATOMICFILE_STEP_RENAMED	"renamed"	/* rename done */
#define YKSSH_ATOMICFILE_STEP_DIRSYNCED	"dirsynced"	/* dir fsynced */

struct ykssh_atomicfile_opts {
	/* Mode of a file that does not exist yet (0 means 0600). */
	mode_t		 new_mode;
	/*
	 * If non-zero, the mode of the result even when the file exists
	 * (key files: a stub must be 0600 whatever the old file had).
	 */
	mode_t		 mode;
	/* Copy the old file to a backup before replacing it. */
	int		 backup;
	/*
	 * Create only: fail with FILE_EXISTS if path exists, also if it
	 * appears while the temporary is written (RENAME_NOREPLACE).
	 */
	int		 no_replace;
	/*
	 * Backup name: NULL means "<target>.ykssh-backup-<UTC timestamp>"
	 * (with "-N" appended if taken); otherwise exactly this path, and
	 * an existing path is an error.
	 */
	const char	*backup_path;
	/*
	 * For the default backup name: the path whose directory and name it
	 * is built from (NULL = the target).  ~/.ssh/config passes the link,
	 * so backups of a symlinked config stay in ~/.ssh, not in the
	 * dotfiles repository.
	 */
	const char	*backup_base;
	/*
	 * Called with the fsynced temporary file before the rename; an error
	 * aborts the write (the temporary is removed, the target untouched).
	 */
	struct ykssh_err *(*verify)(void *arg, const char *tmp_path);
	void		*verify_arg;
	/* Test hook: called after each step (YKSSH_ATOMICFILE_STEP_*). */
	void		(*step_hook)(void *arg, const char *step);
	void		*step_arg;
};

/*
 * Follows path through up to 40 symlinks (relative links are resolved
 * against the link's directory) and returns the final path in *targetp
 * (malloc'd).  The target need not exist.  Errors: UNSAFE_FILE (loop, too
 * many links), SYSTEM, NOMEM.
 */
struct ykssh_err *ykssh_atomicfile_resolve(const char *path, char **targetp)
    YKSSH_MUST_CHECK;

/*
 * Reads a regular file of at most max bytes into *datap (malloc'd, NUL
 * terminated, *lenp bytes before the NUL).  A missing file is not an error:
 * *existsp = 0 and *datap = an empty string.  Errors: UNSAFE_FILE (not a
 * regular file), INVALID_ARGUMENT (larger than max), PERMISSION, SYSTEM.
 */
struct ykssh_err *ykssh_atomicfile_read(const char *path, size_t max,
    char **datap, size_t *lenp, int *existsp) YKSSH_MUST_CHECK;

/*
 * Takes an exclusive flock(2) on ".<name>.ykssh-lock" in path's directory,
 * retrying for up to timeout_ms.  The lock file is created 0600 and never
 * removed.  Errors: LOCKED (another process holds it), SYSTEM.
 */
struct ykssh_err *ykssh_atomicfile_lock(const char *path, int timeout_ms,
    struct ykssh_atomicfile_lock **lockp) YKSSH_MUST_CHECK;
/* Releases the lock; NULL is ok. */
void ykssh_atomicfile_unlock(struct ykssh_atomicfile_lock *lock);

/*
 * Atomically replaces `path` (not a symlink: resolve it first) with len
 * bytes of data, as described above.  The caller should hold the lock.
 * If opts->backup and the file exists, the old contents are first copied to
 * a backup file (0600) whose path is returned in *backupp (malloc'd; NULL
 * when none was made; backupp may be NULL).
 * Errors: UNSAFE_FILE (target not a regular file, or its mode is group or
 * world writable, which ssh rejects), FILE_EXISTS (explicit backup path
 * taken), PERMISSION (cannot keep owner, directory not writable), SYSTEM,
 * and whatever opts->verify returns.
 */
struct ykssh_err *ykssh_atomicfile_write(struct ykssh_ctx *ctx,
    const char *path, const void *data, size_t len,
    const struct ykssh_atomicfile_opts *opts, char **backupp)
    YKSSH_MUST_CHECK;

/*
 * Makes sure directory `dir` exists; creates it (one level) with `mode` if
 * missing.  Errors: UNSAFE_FILE (exists but is not a directory), SYSTEM.
 */
struct ykssh_err *ykssh_atomicfile_mkdir(const char *dir, mode_t mode)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_ATOMICFILE_H */
