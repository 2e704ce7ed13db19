/* SPDX-License-Identifier: BSD-2-Clause */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ykssh/atomicfile.h"

#define MAX_SYMLINKS	40
#define TMP_TAG		".ykssh-tmp-"
#define LOCK_TAG	".ykssh-lock"

struct ykssh_atomicfile_lock {
	int	 fd;
};

/* Splits path into a malloc'd directory ("." if none) and base name. */
static struct ykssh_err *
split_path(const char *path, char **dirp, const char **basep)
{
	const char *slash;
	char *dir;

	*dirp = NULL;
	*basep = NULL;
	if ((slash = strrchr(path, '/')) == NULL) {
		dir = strdup(".");
		*basep = path;
	} else if (slash == path) {
		dir = strdup("/");
		*basep = slash + 1;
	} else {
		dir = strndup(path, (size_t)(slash - path));
		*basep = slash + 1;
	}
	if (dir == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	if (**basep == '\0') {
		free(dir);
		return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "%s names a directory, not a file", path);
	}
	*dirp = dir;
	return NULL;
}

static char *
path_join(const char *dir, const char *prefix, const char *base,
    const char *suffix)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s", dir, prefix, base, suffix) == -1)
		return NULL;
	return p;
}

struct ykssh_err *
ykssh_atomicfile_resolve(const char *path, char **targetp)
{
	struct ykssh_err *e = NULL;
	char *cur = NULL, *dir = NULL, *next = NULL;
	const char *base;
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;
	int hops;

	*targetp = NULL;
	if ((cur = strdup(path)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	for (hops = 0;; hops++) {
		if (lstat(cur, &st) == -1) {
			if (errno == ENOENT)
				break;
			e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot stat %s",
			    cur);
			goto out;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (hops >= MAX_SYMLINKS) {
			e = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
			    "too many symbolic links resolving %s", path),
			    "check the link chain with 'ls -l %s'", path);
			goto out;
		}
		if ((n = readlink(cur, link, sizeof(link) - 1)) == -1) {
			e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot read link %s",
			    cur);
			goto out;
		}
		link[n] = '\0';
		if (link[0] == '/') {
			next = strdup(link);
		} else {
			if ((e = split_path(cur, &dir, &base)) != NULL)
				goto out;
			next = path_join(dir, "", link, "");
			free(dir);
			dir = NULL;
		}
		if (next == NULL) {
			e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		free(cur);
		cur = next;
		next = NULL;
	}
	*targetp = cur;
	cur = NULL; /* transferred */
out:
	free(cur);
	free(dir);
	free(next);
	return e;
}

struct ykssh_err *
ykssh_atomicfile_read(const char *path, size_t max, char **datap,
    size_t *lenp, int *existsp)
{
	struct ykssh_err *e = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1;

	*datap = NULL;
	*lenp = 0;
	*existsp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT) {
			if ((*datap = strdup("")) == NULL)
				return YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
			return NULL;
		}
		return YKSSH_ERRNO(errno == EACCES ? YKSSH_ERR_PERMISSION :
		    YKSSH_ERR_SYSTEM, "cannot open %s", path);
	}
	if (fstat(fd, &st) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "%s is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		e = YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT,
		    "%s is larger than %zu bytes", path, max);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot read %s",
			    path);
			goto out;
		}
		if (n == 0)
			break;	/* shrank under us: take what is there */
		len += (size_t)n;
	}
	buf[len] = '\0';
	*datap = buf;
	buf = NULL; /* transferred */
	*lenp = len;
	*existsp = 1;
out:
	free(buf);
	close(fd);
	return e;
}

struct ykssh_err *
ykssh_atomicfile_lock(const char *path, int timeout_ms,
    struct ykssh_atomicfile_lock **lockp)
{
	struct ykssh_err *e = NULL;
	struct ykssh_atomicfile_lock *lock = NULL;
	char *dir = NULL, *lpath = NULL;
	const char *base;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int fd = -1, waited = 0;

	*lockp = NULL;
	if ((e = split_path(path, &dir, &base)) != NULL)
		goto out;
	if ((lpath = path_join(dir, ".", base, LOCK_TAG)) == NULL ||
	    (lock = calloc(1, sizeof(*lock))) == NULL) {
		e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((fd = open(lpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600)) == -1) {
		e = YKSSH_ERRNO(errno == EACCES ? YKSSH_ERR_PERMISSION :
		    YKSSH_ERR_SYSTEM, "cannot open lock file %s", lpath);
		goto out;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot lock %s",
			    lpath);
			goto out;
		}
		if (waited >= timeout_ms) {
			e = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_LOCKED,
			    "another ykssh is editing %s (lock %s held)",
			    path, lpath), "wait for it to finish, then "
			    "run this command again");
			goto out;
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
	lock->fd = fd;
	fd = -1;
	*lockp = lock;
	lock = NULL; /* transferred */
out:
	if (fd != -1)
		close(fd);
	free(lock);
	free(lpath);
	free(dir);
	return e;
}

void
ykssh_atomicfile_unlock(struct ykssh_atomicfile_lock *lock)
{
	if (lock == NULL)
		return;
	(void)flock(lock->fd, LOCK_UN);
	close(lock->fd);
	free(lock);
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Creates a fresh file "<dir>/.<base><tag><random>" with O_EXCL|O_NOFOLLOW:
 * a planted symlink or file makes open fail and we pick another name.
 */
static struct ykssh_err *
create_temp(const char *dir, const char *base, int *fdp, char **pathp)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[10];
	char suffix[sizeof(rnd) + sizeof(TMP_TAG)];
	char *p = NULL;
	size_t i;
	int fd, tries;

	*fdp = -1;
	*pathp = NULL;
	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
			    "cannot get random bytes");
		memcpy(suffix, TMP_TAG, sizeof(TMP_TAG) - 1);
		for (i = 0; i < sizeof(rnd); i++)
			suffix[sizeof(TMP_TAG) - 1 + i] =
			    alnum[rnd[i] % (sizeof(alnum) - 1)];
		suffix[sizeof(TMP_TAG) - 1 + sizeof(rnd)] = '\0';
		if ((p = path_join(dir, ".", base, suffix)) == NULL)
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY, 0600);
		if (fd != -1) {
			*fdp = fd;
			*pathp = p;
			return NULL;
		}
		if (errno != EEXIST) {
			struct ykssh_err *e = YKSSH_ERRNO(errno == EACCES ?
			    YKSSH_ERR_PERMISSION : YKSSH_ERR_SYSTEM,
			    "cannot create a temporary file in %s", dir);

			free(p);
			return e;
		}
		free(p);
	}
	return YKSSH_ERR(YKSSH_ERR_SYSTEM,
	    "cannot find a free temporary file name in %s", dir);
}

/*
 * Removes temporaries left by an interrupted earlier write of the same
 * file.  Only regular files we own with our exact prefix are removed; the
 * caller holds the lock, so no live writer owns them.
 */
static void
clean_stale(struct ykssh_ctx *ctx, const char *dir, const char *base)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char *prefix = NULL;
	size_t plen;
	int dfd;

	if (asprintf(&prefix, ".%s%s", base, TMP_TAG) == -1)
		return;
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL)
		goto out;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			ykssh_debug(ctx, "removed stale temporary %s/%s", dir,
			    de->d_name);
	}
	closedir(d);
out:
	free(prefix);
}

static void
step(const struct ykssh_atomicfile_opts *opts, const char *name)
{
	if (opts != NULL && opts->step_hook != NULL)
		opts->step_hook(opts->step_arg, name);
}

/* Copies the old file into a fresh backup via temp + link (no replace). */
static struct ykssh_err *
make_backup(struct ykssh_ctx *ctx, const char *path, const char *dir,
    const char *base, const struct ykssh_atomicfile_opts *opts,
    char **backupp)
{
	struct ykssh_err *e = NULL;
	char *data = NULL, *tmp = NULL, *bpath = NULL, *bdir = NULL;
	char stamp[32];
	size_t len;
	time_t now;
	struct tm tm;
	int fd = -1, exists, n;

	*backupp = NULL;
	if ((e = ykssh_atomicfile_read(path, 64 * 1024 * 1024, &data, &len,
	    &exists)) != NULL || !exists)
		goto out;
	/* The temporary must be in the backup's directory for link(). */
	if (opts->backup_path != NULL || opts->backup_base != NULL) {
		if ((e = split_path(opts->backup_path != NULL ?
		    opts->backup_path : opts->backup_base, &bdir,
		    &base)) != NULL)
			goto out;
		dir = bdir;
	}
	if ((e = create_temp(dir, base, &fd, &tmp)) != NULL)
		goto out;
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot write %s", tmp);
		goto out;
	}
	if (opts->backup_path != NULL) {
		if (link(tmp, opts->backup_path) == -1) {
			e = YKSSH_ERRNO(errno == EEXIST ?
			    YKSSH_ERR_FILE_EXISTS : YKSSH_ERR_SYSTEM,
			    "cannot create backup %s", opts->backup_path);
			goto out;
		}
		if ((bpath = strdup(opts->backup_path)) == NULL) {
			e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	} else {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		for (n = 0; n < 100; n++) {
			free(bpath);
			bpath = NULL;
			if ((n == 0 ? asprintf(&bpath, "%s/%s.ykssh-backup-%s",
			    dir, base, stamp) : asprintf(&bpath,
			    "%s/%s.ykssh-backup-%s-%d", dir, base, stamp,
			    n)) == -1) {
				bpath = NULL;
				e = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				goto out;
			}
			if (link(tmp, bpath) == 0)
				break;
			if (errno != EEXIST) {
				e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
				    "cannot create backup %s", bpath);
				goto out;
			}
		}
		if (n == 100) {
			e = YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
			    "too many backups named %s", bpath);
			goto out;
		}
	}
	ykssh_debug(ctx, "backup of %s in %s", path, bpath);
	*backupp = bpath;
	bpath = NULL; /* transferred */
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(bpath);
	free(bdir);
	free(data);
	return e;
}

/*
 * Moves the finished temporary file into place.  With no_replace, a file
 * that appeared at `path` since we looked is never replaced: renameat2's
 * RENAME_NOREPLACE, or link(2) (which fails on an existing name) where the
 * file system lacks it.
 */
static struct ykssh_err *
install_temp(const char *tmp, const char *path, int no_replace)
{
	if (!no_replace) {
		if (rename(tmp, path) == -1)
			return YKSSH_ERRNO(YKSSH_ERR_SYSTEM,
			    "cannot rename %s to %s", tmp, path);
		return NULL;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return NULL;
	if (errno == EINVAL || errno == ENOSYS) {
		if (link(tmp, path) == 0) {
			(void)unlink(tmp);
			return NULL;
		}
	}
	if (errno == EEXIST)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
		    "%s appeared while ykssh was writing it", path),
		    "check what created it, then run ykssh again");
	return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot move %s to %s", tmp,
	    path);
}

struct ykssh_err *
ykssh_atomicfile_write(struct ykssh_ctx *ctx, const char *path,
    const void *data, size_t len, const struct ykssh_atomicfile_opts *opts,
    char **backupp)
{
	static const struct ykssh_atomicfile_opts defaults;
	struct ykssh_err *e = NULL;
	char *dir = NULL, *tmp = NULL, *backup = NULL;
	const char *base;
	struct stat st, tst;
	mode_t mode;
	int exists, fd = -1, dfd = -1;

	if (backupp != NULL)
		*backupp = NULL;
	if (opts == NULL)
		opts = &defaults;
	if ((e = split_path(path, &dir, &base)) != NULL)
		goto out;
	if (lstat(path, &st) == 0) {
		exists = 1;
		if (opts->no_replace) {
			e = YKSSH_ERR(YKSSH_ERR_FILE_EXISTS,
			    "%s already exists", path);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			e = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
			    "%s is not a regular file", path),
			    "resolve symbolic links before writing");
			goto out;
		}
		mode = opts->mode != 0 ? opts->mode : st.st_mode & 07777;
	} else if (errno == ENOENT) {
		exists = 0;
		mode = opts->mode != 0 ? opts->mode :
		    opts->new_mode != 0 ? opts->new_mode : 0600;
	} else {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot stat %s", path);
		goto out;
	}
	if ((mode & 022) != 0) {
		e = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "%s would be writable by group or others (mode %04o), "
		    "which ssh rejects with \"Bad owner or permissions\"",
		    path, (unsigned)mode), "run 'chmod go-w %s'", path);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot open directory %s",
		    dir);
		goto out;
	}
	clean_stale(ctx, dir, base);
	if (exists && opts->backup) {
		if ((e = make_backup(ctx, path, dir, base, opts, &backup)) !=
		    NULL)
			goto out;
		step(opts, YKSSH_ATOMICFILE_STEP_BACKUP);
	}
	if ((e = create_temp(dir, base, &fd, &tmp)) != NULL)
		goto out;
	step(opts, YKSSH_ATOMICFILE_STEP_TEMP);
	if (write_all(fd, data, len) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot write %s", tmp);
		goto out;
	}
	step(opts, YKSSH_ATOMICFILE_STEP_WRITTEN);
	if (fstat(fd, &tst) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot stat %s", tmp);
		goto out;
	}
	if (exists && (tst.st_uid != st.st_uid || tst.st_gid != st.st_gid) &&
	    fchown(fd, st.st_uid, st.st_gid) == -1) {
		e = ykssh_err_hint(YKSSH_ERRNO(YKSSH_ERR_PERMISSION,
		    "cannot give the new %s its owner %u:%u", path,
		    (unsigned)st.st_uid, (unsigned)st.st_gid),
		    "run ykssh as the owner of %s", path);
		goto out;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot finish %s", tmp);
		goto out;
	}
	step(opts, YKSSH_ATOMICFILE_STEP_SYNCED);
	if (close(fd) == -1) {
		fd = -1;
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot close %s", tmp);
		goto out;
	}
	fd = -1;
	if (opts->verify != NULL &&
	    (e = opts->verify(opts->verify_arg, tmp)) != NULL)
		goto out;
	if ((e = install_temp(tmp, path, opts->no_replace)) != NULL)
		goto out;
	free(tmp);
	tmp = NULL;
	step(opts, YKSSH_ATOMICFILE_STEP_RENAMED);
	if (fsync(dfd) == -1) {
		e = YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot sync directory %s",
		    dir);
		goto out;
	}
	step(opts, YKSSH_ATOMICFILE_STEP_DIRSYNCED);
	ykssh_debug(ctx, "replaced %s (%zu bytes, mode %04o)", path, len,
	    (unsigned)mode);
	if (backupp != NULL) {
		*backupp = backup;
		backup = NULL; /* transferred */
	}
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		(void)unlink(tmp);
	if (dfd != -1)
		close(dfd);
	free(tmp);
	free(backup);
	free(dir);
	return e;
}

struct ykssh_err *
ykssh_atomicfile_mkdir(const char *dir, mode_t mode)
{
	struct stat st;

	if (mkdir(dir, mode) == 0)
		return NULL;
	if (errno != EEXIST)
		return YKSSH_ERRNO(errno == EACCES ? YKSSH_ERR_PERMISSION :
		    YKSSH_ERR_SYSTEM, "cannot create directory %s", dir);
	if (stat(dir, &st) == -1)
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot stat %s", dir);
	if (!S_ISDIR(st.st_mode))
		return YKSSH_ERR(YKSSH_ERR_UNSAFE_FILE,
		    "%s exists but is not a directory", dir);
	return NULL;
}
