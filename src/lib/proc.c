/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Running ssh, ssh-add and ssh-keygen (doctor, rotate's login check):
 * stdin from /dev/null, stdout and stderr collected, a deadline after
 * which the child is killed, with its process group when it has its own
 * (ssh may have started ssh-sk-helper).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc-internal.h"

#define OUT_MAX	(1024 * 1024)

extern char **environ;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what fd has; closes it at EOF.  -1 on allocation failure. */
static int
drain(int *fd, char **buf, size_t *len)
{
	char tmp[4096], *nb;
	ssize_t n;

	n = read(*fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (*len + (size_t)n > OUT_MAX)
		return 0;	/* drop the excess, keep reading */
	if ((nb = realloc(*buf, *len + (size_t)n + 1)) == NULL)
		return -1;
	*buf = nb;
	memcpy(*buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return 0;
}

struct ykssh_err *
ykssh_proc_run(const char *const *argv, char *const *envp, int timeout_ms,
    int flags, char **outp, size_t *outlenp, char **errp, size_t *errlenp,
    int *statusp, int *timed_outp)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct ykssh_err *err = NULL;
	struct pollfd pfd[2];
	char *buf[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, fds[2], st, i, rc;
	long deadline;
	pid_t pid = -1;

	*outp = *errp = NULL;
	*outlenp = *errlenp = 0;
	*statusp = -1;
	*timed_outp = 0;
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
		err = YKSSH_ERR(YKSSH_ERR_SYSTEM, "pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (flags & YKSSH_PROC_OWN_GROUP) {
		posix_spawnattr_setpgroup(&at, 0);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	rc = posix_spawnp(&pid, argv[0], &fa, &at,
	    (char *const *)(uintptr_t)argv, envp != NULL ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (rc != 0) {
		pid = -1;
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_SYSTEM,
		    "cannot run %s: %s", argv[0], strerror(rc)),
		    "install OpenSSH's client (openssh-client)");
		goto out;
	}
	fds[0] = po[0];
	fds[1] = pe[0];
	po[0] = pe[0] = -1;
	deadline = now_ms() + timeout_ms;
	while (fds[0] != -1 || fds[1] != -1) {
		long left = deadline - now_ms();

		if (left <= 0) {
			*timed_outp = 1;
			kill(flags & YKSSH_PROC_OWN_GROUP ? -pid : pid,
			    SIGKILL);
			break;
		}
		for (i = 0; i < 2; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, 2, left > 200 ? 200 : (int)left) < 0 &&
		    errno != EINTR)
			break;
		for (i = 0; i < 2; i++)
			if (fds[i] != -1 && pfd[i].revents != 0 &&
			    drain(&fds[i], &buf[i], &len[i]) != 0) {
				kill(flags & YKSSH_PROC_OWN_GROUP ? -pid : pid,
				    SIGKILL);
				err = YKSSH_ERR(YKSSH_ERR_NOMEM,
				    "out of memory");
				break;
			}
		if (err != NULL)
			break;
	}
	for (i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	/* Whatever it left behind in its group (ssh-sk-helper). */
	if (flags & YKSSH_PROC_OWN_GROUP)
		kill(-pid, SIGKILL);
	if (err != NULL)
		goto out;
	if (!*timed_outp && WIFEXITED(st))
		*statusp = WEXITSTATUS(st);
	for (i = 0; i < 2; i++)
		if (buf[i] == NULL && (buf[i] = strdup("")) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
	*outp = buf[0];
	*outlenp = len[0];
	*errp = buf[1];
	*errlenp = len[1];
	buf[0] = buf[1] = NULL;	/* transferred */
out:
	for (i = 0; i < 2; i++) {
		free(buf[i]);
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	return err;
}
