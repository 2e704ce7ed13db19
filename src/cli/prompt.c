/* SPDX-License-Identifier: BSD-2-Clause */
/* Prompts: terminal without echo, or SSH_ASKPASS; see prompt.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "prompt.h"

static volatile sig_atomic_t *interrupt_flag;

static void
on_interrupt(int sig)
{
	(void)sig;
	if (interrupt_flag != NULL && *interrupt_flag == 0) {
		*interrupt_flag = 1;
		return;
	}
	_exit(130);
}

void
cli_catch_interrupt(volatile sig_atomic_t *flag)
{
	struct sigaction sa;

	interrupt_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read returns EINTR and sees the flag. */
	sa.sa_flags = 0;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

void
cli_release_interrupt(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	interrupt_flag = NULL;
}

void
cli_token_begin(struct cli *cli)
{
	static volatile sig_atomic_t cancelled;

	cancelled = 0;
	ykssh_ctx_set_cancel_flag(cli->ctx, &cancelled);
	cli_catch_interrupt(&cancelled);
}

void
cli_token_end(struct cli *cli)
{
	cli_release_interrupt();
	ykssh_ctx_set_cancel_flag(cli->ctx, NULL);
}

struct ykssh_err *
cli_get_pin(void *arg, const char *prompt, struct ykssh_secret *pin)
{
	(void)arg;
	return cli_read_secret(prompt, pin);
}

int
cli_add_device(const struct cli *cli, const struct cli_cmd *cmd,
    const char **devices, size_t *n, size_t max, const char *arg)
{
	if (*n == max)
		return cli_usage_error(cli, cmd, "at most %zu --device options",
		    max);
	devices[(*n)++] = arg;
	return 0;
}

static int
interrupted(void)
{
	return interrupt_flag != NULL && *interrupt_flag != 0;
}

/* Where to ask: the terminal, or the askpass program (as ssh decides). */
static int
use_askpass(int *ttyfd)
{
	const char *req = getenv("SSH_ASKPASS_REQUIRE");
	const char *askpass = getenv("SSH_ASKPASS");

	*ttyfd = -1;
	if (req != NULL && strcmp(req, "force") == 0 && askpass != NULL &&
	    *askpass != '\0')
		return 1;
	if ((*ttyfd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) >= 0)
		return 0;
	if (req != NULL && strcmp(req, "never") == 0)
		return -1;
	return askpass != NULL && *askpass != '\0' ? 1 : -1;
}

/* Reads one line from fd into buf (max bytes + NUL), without the newline. */
static int
read_line(int fd, char *buf, size_t max, int *toolong)
{
	size_t n = 0;
	ssize_t r;
	char c;

	*toolong = 0;
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0) {
			if (errno == EINTR && !interrupted())
				continue;
			return -1;
		}
		if (r == 0)
			return n > 0 ? 0 : -1;	/* EOF */
		if (c == '\n' || c == '\r')
			break;
		if (n < max)
			buf[n++] = c;
		else
			*toolong = 1;
	}
	buf[n] = '\0';
	return 0;
}

static struct ykssh_err *
read_tty(int fd, const char *prompt, struct ykssh_secret *s, int echo)
{
	struct termios saved, t;
	int have_termios, toolong = 0, r;

	have_termios = tcgetattr(fd, &saved) == 0;
	if (have_termios && !echo) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		(void)tcsetattr(fd, TCSAFLUSH, &t);
	}
	(void)!write(fd, prompt, strlen(prompt));
	r = read_line(fd, ykssh_secret_buf(s), ykssh_secret_max_len(s),
	    &toolong);
	if (have_termios && !echo) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		(void)!write(fd, "\n", 1);
	}
	ykssh_secret_sync(s);
	if (r != 0 || interrupted()) {
		ykssh_secret_reset(s);
		return YKSSH_ERR(YKSSH_ERR_CANCELLED, "no answer at the prompt");
	}
	if (toolong) {
		ykssh_secret_reset(s);
		return YKSSH_ERR(YKSSH_ERR_PIN_POLICY,
		    "the answer is longer than %zu characters",
		    ykssh_secret_max_len(s));
	}
	return NULL;
}

/* Runs $SSH_ASKPASS PROMPT and reads its answer (or only its status). */
static struct ykssh_err *
run_askpass(const char *prompt, struct ykssh_secret *s, int confirm,
    int *statusp)
{
	const char *askpass = getenv("SSH_ASKPASS");
	int fds[2], status = 0, toolong = 0, r = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot run askpass");
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return YKSSH_ERRNO(YKSSH_ERR_SYSTEM, "cannot run askpass");
	}
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (confirm)
			setenv("SSH_ASKPASS_PROMPT", "confirm", 1);
		else
			unsetenv("SSH_ASKPASS_PROMPT");
		execlp(askpass, askpass, prompt, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (s != NULL)
		r = read_line(fds[0], ykssh_secret_buf(s),
		    ykssh_secret_max_len(s), &toolong);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*statusp = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	if (s == NULL)
		return NULL;
	ykssh_secret_sync(s);
	if (r != 0 || *statusp != 0 || interrupted()) {
		ykssh_secret_reset(s);
		return YKSSH_ERR(YKSSH_ERR_CANCELLED,
		    "no answer from %s", askpass);
	}
	if (toolong) {
		ykssh_secret_reset(s);
		return YKSSH_ERR(YKSSH_ERR_PIN_POLICY,
		    "the answer is longer than %zu characters",
		    ykssh_secret_max_len(s));
	}
	return NULL;
}

struct ykssh_err *
cli_read_secret(const char *prompt, struct ykssh_secret *s)
{
	struct ykssh_err *err;
	int fd, how, status;

	ykssh_secret_reset(s);
	how = use_askpass(&fd);
	if (how < 0)
		return ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_REQUIRED,
		    "a PIN is needed and there is no terminal to ask on"),
		    "run ykssh on a terminal, or set SSH_ASKPASS to a program "
		    "that prints the PIN");
	if (how == 1)
		return run_askpass(prompt, s, 0, &status);
	err = read_tty(fd, prompt, s, 0);
	close(fd);
	return err;
}

struct ykssh_err *
cli_read_text(const char *prompt, char **textp)
{
	struct ykssh_secret *s;
	struct ykssh_err *err = NULL;
	int fd, how, status;

	*textp = NULL;
	if ((s = ykssh_secret_new(512)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	how = use_askpass(&fd);
	if (how < 0)
		err = YKSSH_ERR(YKSSH_ERR_USAGE,
		    "an answer is needed and there is no terminal to ask on");
	else if (how == 1)
		err = run_askpass(prompt, s, 0, &status);
	else {
		err = read_tty(fd, prompt, s, 1);
		close(fd);
	}
	if (err == NULL && (*textp = strdup(ykssh_secret_str(s))) == NULL)
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	ykssh_secret_free(s);
	return err;
}

struct ykssh_err *
cli_read_new_secret(const char *what, struct ykssh_secret *s)
{
	struct ykssh_secret *again;
	struct ykssh_err *err;
	char prompt[160];

	if ((again = ykssh_secret_new(ykssh_secret_max_len(s))) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	snprintf(prompt, sizeof(prompt), "New %s: ", what);
	if ((err = cli_read_secret(prompt, s)) == NULL) {
		snprintf(prompt, sizeof(prompt), "Repeat the new %s: ", what);
		err = cli_read_secret(prompt, again);
	}
	if (err == NULL && (ykssh_secret_len(s) != ykssh_secret_len(again) ||
	    ykssh_timingsafe_bcmp(ykssh_secret_str(s),
	    ykssh_secret_str(again), ykssh_secret_len(s)) != 0))
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_PIN_POLICY,
		    "the two entries of the new %s differ", what),
		    "run the command again");
	if (err != NULL)
		ykssh_secret_reset(s);
	ykssh_secret_free(again);
	return err;
}

int
cli_confirm(const char *question)
{
	struct ykssh_secret *answer;
	struct ykssh_err *err = NULL;
	char prompt[512];
	int fd, how, status = 1, yes = 0;

	snprintf(prompt, sizeof(prompt), "%s [y/N] ", question);
	how = use_askpass(&fd);
	if (how < 0)
		return 0;
	if (how == 1) {
		err = run_askpass(prompt, NULL, 1, &status);
		yes = err == NULL && status == 0;
		ykssh_err_free(err);
		return yes;
	}
	if ((answer = ykssh_secret_new(16)) == NULL) {
		close(fd);
		return 0;
	}
	if ((err = read_tty(fd, prompt, answer, 1)) == NULL)
		yes = strcmp(ykssh_secret_str(answer), "y") == 0 ||
		    strcmp(ykssh_secret_str(answer), "yes") == 0 ||
		    strcmp(ykssh_secret_str(answer), "Y") == 0;
	ykssh_err_free(err);
	ykssh_secret_free(answer);
	close(fd);
	return yes;
}
