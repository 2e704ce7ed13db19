/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Atomic file replacement: modes and owners kept, symlinks followed for
 * the target only, never for temporaries or backups, the lock, stale
 * temporaries, and a kill between every step leaving old or new bytes.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ykssh/atomicfile.h"

struct fx {
	char	 dir[64];
	char	 path[128];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/ykssh-atomic-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/config", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void
put(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd != -1);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *
get(const char *path)
{
	char *d;
	size_t n;
	int ex;
	struct ykssh_err *e = ykssh_atomicfile_read(path, 1 << 20, &d, &n,
	    &ex);

	assert_null(e);
	return ex ? d : (free(d), NULL);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Entries of dir whose name contains `tag`. */
static int
count(const char *dir, const char *tag)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, tag) != NULL;
	closedir(d);
	return n;
}

static void
test_new_file_0600(void **state)
{
	struct fx *fx = *state;
	char *s;

	assert_null(ykssh_atomicfile_write(NULL, fx->path, "abc\n", 4, NULL,
	    NULL));
	assert_int_equal(mode_of(fx->path), 0600);
	s = get(fx->path);
	assert_string_equal(s, "abc\n");
	free(s);
	assert_int_equal(count(fx->dir, ".ykssh-tmp-"), 0);
}

static void
test_mode_and_owner_kept(void **state)
{
	struct fx *fx = *state;
	struct stat st;

	put(fx->path, "old\n", 0640);
	if (geteuid() == 0)
		assert_int_equal(chown(fx->path, 1234, 4321), 0);
	assert_null(ykssh_atomicfile_write(NULL, fx->path, "new\n", 4, NULL,
	    NULL));
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1234);
		assert_int_equal(st.st_gid, 4321);
	}
}

static void
test_refuses_group_writable(void **state)
{
	struct fx *fx = *state;
	struct ykssh_err *e;
	char *s;

	put(fx->path, "old\n", 0664);
	e = ykssh_atomicfile_write(NULL, fx->path, "new\n", 4, NULL, NULL);
	assert_non_null(e);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_UNSAFE_FILE);
	assert_non_null(strstr(ykssh_err_message(e), "Bad owner or "
	    "permissions"));
	assert_non_null(strstr(ykssh_err_find_hint(e), "chmod go-w"));
	ykssh_err_free(e);
	s = get(fx->path);
	assert_string_equal(s, "old\n");
	free(s);
}

static void
test_symlink_target_edited_link_kept(void **state)
{
	struct fx *fx = *state;
	char real[160], mid[160], *target = NULL, *s;
	struct stat st;

	snprintf(real, sizeof(real), "%s/dotfiles", fx->dir);
	assert_int_equal(mkdir(real, 0700), 0);
	snprintf(real, sizeof(real), "%s/dotfiles/ssh_config", fx->dir);
	put(real, "old\n", 0600);
	snprintf(mid, sizeof(mid), "%s/mid", fx->dir);
	assert_int_equal(symlink("dotfiles/ssh_config", mid), 0);
	assert_int_equal(symlink("mid", fx->path), 0);
	assert_null(ykssh_atomicfile_resolve(fx->path, &target));
	assert_string_equal(target, real);
	assert_null(ykssh_atomicfile_write(NULL, target, "new\n", 4, NULL,
	    NULL));
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(mid, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	s = get(fx->path);
	assert_string_equal(s, "new\n");
	free(s);
	free(target);
	/* Writing to the link itself is refused. */
	{
		struct ykssh_err *e = ykssh_atomicfile_write(NULL, fx->path,
		    "x", 1, NULL, NULL);

		assert_int_equal(ykssh_err_code(e), YKSSH_ERR_UNSAFE_FILE);
		ykssh_err_free(e);
	}
}

static void
test_symlink_loop(void **state)
{
	struct fx *fx = *state;
	struct ykssh_err *e;
	char *t = NULL;

	assert_int_equal(symlink("config", fx->path), 0);
	e = ykssh_atomicfile_resolve(fx->path, &t);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_UNSAFE_FILE);
	assert_null(t);
	ykssh_err_free(e);
}

static void
test_backup_never_follows_symlink(void **state)
{
	struct fx *fx = *state;
	struct ykssh_atomicfile_opts o;
	struct ykssh_err *e;
	char bak[160], victim[160], *s;

	put(fx->path, "old\n", 0600);
	snprintf(victim, sizeof(victim), "%s/victim", fx->dir);
	put(victim, "precious\n", 0600);
	snprintf(bak, sizeof(bak), "%s/config.bak", fx->dir);
	assert_int_equal(symlink(victim, bak), 0);
	memset(&o, 0, sizeof(o));
	o.backup = 1;
	o.backup_path = bak;
	e = ykssh_atomicfile_write(NULL, fx->path, "new\n", 4, &o, NULL);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_FILE_EXISTS);
	ykssh_err_free(e);
	s = get(victim);
	assert_string_equal(s, "precious\n");
	free(s);
	s = get(fx->path);
	assert_string_equal(s, "old\n");
	free(s);
	assert_int_equal(count(fx->dir, ".ykssh-tmp-"), 0);
}

static void
test_backup_default_name(void **state)
{
	struct fx *fx = *state;
	struct ykssh_atomicfile_opts o;
	char *b = NULL, *s;

	put(fx->path, "old\n", 0644);
	memset(&o, 0, sizeof(o));
	o.backup = 1;
	assert_null(ykssh_atomicfile_write(NULL, fx->path, "new\n", 4, &o,
	    &b));
	assert_non_null(b);
	assert_non_null(strstr(b, "/config.ykssh-backup-"));
	assert_int_equal(mode_of(b), 0600);
	s = get(b);
	assert_string_equal(s, "old\n");
	free(s);
	free(b);
	/* Same second: a second backup gets another name. */
	assert_null(ykssh_atomicfile_write(NULL, fx->path, "new2\n", 5, &o,
	    &b));
	assert_int_equal(count(fx->dir, ".ykssh-backup-"), 2);
	free(b);
}

/* A symlinked config: backup next to the link, not in the dotfiles dir. */
static void
test_backup_next_to_link(void **state)
{
	struct fx *fx = *state;
	struct ykssh_atomicfile_opts o;
	char dot[160], real[200], *b = NULL;

	snprintf(dot, sizeof(dot), "%s/dotfiles", fx->dir);
	assert_int_equal(mkdir(dot, 0700), 0);
	snprintf(real, sizeof(real), "%s/ssh_config", dot);
	put(real, "old\n", 0600);
	assert_int_equal(symlink("dotfiles/ssh_config", fx->path), 0);
	memset(&o, 0, sizeof(o));
	o.backup = 1;
	o.backup_base = fx->path;
	assert_null(ykssh_atomicfile_write(NULL, real, "new\n", 4, &o, &b));
	assert_non_null(b);
	assert_int_equal(strncmp(b, fx->path, strlen(fx->path)), 0);
	assert_int_equal(count(fx->dir, "config.ykssh-backup-"), 1);
	assert_int_equal(count(dot, "ykssh"), 0);
	free(b);
}

static void
test_stale_temp_cleaned_symlink_ignored(void **state)
{
	struct fx *fx = *state;
	char stale[160], trap[160], victim[160], *s;

	snprintf(stale, sizeof(stale), "%s/.config.ykssh-tmp-AAAAAAAAAA",
	    fx->dir);
	put(stale, "half written", 0600);
	snprintf(victim, sizeof(victim), "%s/victim", fx->dir);
	put(victim, "precious\n", 0600);
	snprintf(trap, sizeof(trap), "%s/.config.ykssh-tmp-BBBBBBBBBB",
	    fx->dir);
	assert_int_equal(symlink(victim, trap), 0);
	assert_null(ykssh_atomicfile_write(NULL, fx->path, "new\n", 4, NULL,
	    NULL));
	assert_int_equal(access(stale, F_OK), -1);
	s = get(victim);
	assert_string_equal(s, "precious\n");
	free(s);
}

static struct ykssh_err *
verify_no(void *arg, const char *tmp)
{
	(void)arg;
	assert_int_equal(access(tmp, F_OK), 0);
	return YKSSH_ERR(YKSSH_ERR_CONFIG, "rejected by verify");
}

static void
test_verify_failure_keeps_old(void **state)
{
	struct fx *fx = *state;
	struct ykssh_atomicfile_opts o;
	struct ykssh_err *e;
	char *s;

	put(fx->path, "old\n", 0600);
	memset(&o, 0, sizeof(o));
	o.verify = verify_no;
	e = ykssh_atomicfile_write(NULL, fx->path, "new\n", 4, &o, NULL);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_CONFIG);
	ykssh_err_free(e);
	s = get(fx->path);
	assert_string_equal(s, "old\n");
	free(s);
	assert_int_equal(count(fx->dir, ".ykssh-tmp-"), 0);
}

static void
test_lock_contention(void **state)
{
	struct fx *fx = *state;
	struct ykssh_atomicfile_lock *l1 = NULL, *l2 = NULL;
	struct ykssh_err *e;
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		if (ykssh_atomicfile_lock(fx->path, 0, &l1) != NULL)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		sleep(2);
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	e = ykssh_atomicfile_lock(fx->path, 200, &l2);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_LOCKED);
	assert_non_null(strstr(ykssh_err_message(e), "another ykssh"));
	ykssh_err_free(e);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* The holder died: its lock died with it. */
	assert_null(ykssh_atomicfile_lock(fx->path, 200, &l2));
	ykssh_atomicfile_unlock(l2);
	close(p[0]);
	close(p[1]);
}

static const char *const steps[] = {
	YKSSH_ATOMICFILE_STEP_BACKUP, YKSSH_ATOMICFILE_STEP_TEMP,
	YKSSH_ATOMICFILE_STEP_WRITTEN, YKSSH_ATOMICFILE_STEP_SYNCED,
	YKSSH_ATOMICFILE_STEP_RENAMED, YKSSH_ATOMICFILE_STEP_DIRSYNCED
};

static void
kill_at(void *arg, const char *step)
{
	if (strcmp(arg, step) == 0)
		raise(SIGKILL);
}

/* SIGKILL after each step: the file is the old or the new one. */
static void
test_kill_between_steps(void **state)
{
	struct fx *fx = *state;
	struct ykssh_atomicfile_opts o;
	static char big_old[50000], big_new[60000];
	char *s;
	size_t i;
	pid_t pid;
	int st;

	memset(big_old, 'o', sizeof(big_old) - 1);
	memset(big_new, 'n', sizeof(big_new) - 1);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		put(fx->path, big_old, 0600);
		memset(&o, 0, sizeof(o));
		o.backup = 1;
		o.step_hook = kill_at;
		o.step_arg = (void *)(uintptr_t)steps[i];
		if ((pid = fork()) == 0) {
			ykssh_err_free(ykssh_atomicfile_write(NULL, fx->path,
			    big_new, strlen(big_new), &o, NULL));
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		s = get(fx->path);
		if (i < 4)
			assert_string_equal(s, big_old);
		else
			assert_string_equal(s, big_new);
		free(s);
		assert_int_equal(mode_of(fx->path), 0600);
		/* The next run cleans up and succeeds. */
		assert_null(ykssh_atomicfile_write(NULL, fx->path, "final\n",
		    6, NULL, NULL));
		assert_int_equal(count(fx->dir, ".ykssh-tmp-"), 0);
		s = get(fx->path);
		assert_string_equal(s, "final\n");
		free(s);
	}
}

static void
test_mkdir(void **state)
{
	struct fx *fx = *state;
	char d[160];
	struct ykssh_err *e;

	snprintf(d, sizeof(d), "%s/.ssh", fx->dir);
	assert_null(ykssh_atomicfile_mkdir(d, 0700));
	assert_int_equal(mode_of(d), 0700);
	assert_null(ykssh_atomicfile_mkdir(d, 0700));
	put(fx->path, "", 0600);
	e = ykssh_atomicfile_mkdir(fx->path, 0700);
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_UNSAFE_FILE);
	ykssh_err_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_new_file_0600),
		T(test_mode_and_owner_kept),
		T(test_refuses_group_writable),
		T(test_symlink_target_edited_link_kept),
		T(test_symlink_loop),
		T(test_backup_never_follows_symlink),
		T(test_backup_default_name),
		T(test_backup_next_to_link),
		T(test_stale_temp_cleaned_symlink_ignored),
		T(test_verify_failure_keeps_old),
		T(test_lock_contention),
		T(test_kill_between_steps),
		T(test_mkdir),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
