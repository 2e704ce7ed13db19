/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live check of a rotation: one ssh login with the new key alone, as
 * "ssh -T git@bitbucket.org" does, through the real ssh so that its
 * known_hosts, proxies and SecurityKeyProvider apply.  ssh -G tells where
 * the entry's host really is; the login then runs with -F /dev/null and
 * only those settings, so that no other IdentityFile of the config, no
 * agent and no control master (which would prove the old key) take part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc-internal.h"
#include "ykssh/rotate.h"

#define CHECK_TIMEOUT_S	180	/* a touch, maybe a PIN */
#define ARGV_MAX	64

/* ssh -G settings the login keeps (besides hostname, port and user). */
static const struct {
	const char	*g;	/* as ssh -G prints it */
	const char	*opt;	/* as -o takes it */
} kept[] = {
	{ "userknownhostsfile", "UserKnownHostsFile" },
	{ "globalknownhostsfile", "GlobalKnownHostsFile" },
	{ "stricthostkeychecking", "StrictHostKeyChecking" },
	{ "hostkeyalias", "HostKeyAlias" },
	{ "proxycommand", "ProxyCommand" },
	{ "proxyjump", "ProxyJump" },
	{ "securitykeyprovider", "SecurityKeyProvider" },
	{ "addressfamily", "AddressFamily" },
	{ "batchmode", "BatchMode" },
	{ "connecttimeout", "ConnectTimeout" },
};

/*
 * Runs argv with stdin from /dev/null; collects stdout and stderr and the
 * exit status (255 when killed after the timeout).  ssh stays in our
 * process group: it may ask for a PIN on the terminal.
 */
static struct ykssh_err *
run(char *const argv[], char **outp, char **errp, int *statusp)
{
	size_t outlen, errlen;
	int timed_out;
	struct ykssh_err *err;

	if ((err = ykssh_proc_run((const char *const *)argv, NULL,
	    CHECK_TIMEOUT_S * 1000, 0, outp, &outlen, errp, &errlen, statusp,
	    &timed_out)) != NULL)
		return err;
	if (*statusp == -1)
		*statusp = 255;
	return NULL;
}

/* The value of "key value" in ssh -G output (malloc'd), or NULL. */
static char *
g_value(const char *out, const char *key)
{
	size_t kl = strlen(key);
	const char *p, *nl;

	for (p = out; p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return nl != NULL ? strndup(p + kl + 1,
			    (size_t)(nl - p - (ptrdiff_t)kl - 1)) :
			    strdup(p + kl + 1);
	}
	return NULL;
}

/* The first line of ssh's stderr containing `what`, or NULL. */
static char *
line_with(const char *text, const char *what)
{
	const char *p = strstr(text, what), *b, *e;

	if (p == NULL)
		return NULL;
	for (b = p; b > text && b[-1] != '\n'; b--)
		;
	if ((e = strchr(p, '\n')) == NULL)
		e = p + strlen(p);
	while (e > b && e[-1] == '\r')
		e--;
	return strndup(b, (size_t)(e - b));
}

/* "%" is a token in IdentityFile: double it. */
static char *
escape_percent(const char *s)
{
	char *o, *p;

	if ((o = malloc(strlen(s) * 2 + 1)) == NULL)
		return NULL;
	for (p = o; *s != '\0'; s++) {
		if (*s == '%')
			*p++ = '%';
		*p++ = *s;
	}
	*p = '\0';
	return o;
}

static const char *const unreachable[] = {
	"Connection refused", "Connection timed out", "No route to host",
	"Network is unreachable", "Could not resolve hostname",
	"Name or service not known", "Temporary failure in name resolution",
	"Connection closed by UNKNOWN", "kex_exchange_identification",
	"Operation timed out", "timed out",
	NULL
};

struct ykssh_err *
ykssh_rotate_check_login(const char *ssh_path, const char *config_path,
    const char *host, const char *user, const char *identity,
    char **detailp)
{
	return ykssh_rotate_check_login_pkcs11(ssh_path, config_path, host,
	    user, identity, NULL, detailp);
}

struct ykssh_err *
ykssh_rotate_check_login_pkcs11(const char *ssh_path,
    const char *config_path, const char *host, const char *user,
    const char *identity, const char *pkcs11, char **detailp)
{
	struct ykssh_err *err = NULL;
	char *argv[ARGV_MAX], *opts[ARGV_MAX], *g_out = NULL, *g_err = NULL;
	char *l_out = NULL, *l_err = NULL, *hostname = NULL, *port = NULL;
	char *login = NULL, *ident = NULL, *v, *line = NULL;
	const char *ssh = ssh_path != NULL ? ssh_path : "ssh";
	size_t na = 0, no = 0, i;
	int status;

	*detailp = NULL;
	/* Where the entry's host really is, as ssh computes it. */
	argv[na++] = (char *)(uintptr_t)ssh;
	argv[na++] = (char *)(uintptr_t)"-G";
	argv[na++] = (char *)(uintptr_t)"-F";
	argv[na++] = (char *)(uintptr_t)config_path;
	argv[na++] = (char *)(uintptr_t)"--";
	argv[na++] = (char *)(uintptr_t)host;
	argv[na] = NULL;
	if ((err = run(argv, &g_out, &g_err, &status)) != NULL)
		goto out;
	if (status != 0) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "ssh -G "
		    "rejects %s: %s", config_path, g_err), "fix the file; "
		    "'ssh -G -F %s %s' shows the problem", config_path, host);
		goto out;
	}
	if ((hostname = g_value(g_out, "hostname")) == NULL ||
	    (port = g_value(g_out, "port")) == NULL ||
	    (login = user != NULL ? strdup(user) : g_value(g_out, "user")) ==
	    NULL || (ident = escape_percent(identity)) == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "ssh -G %s printed no "
		    "hostname, port or user", host);
		goto out;
	}
	na = 0;
	argv[na++] = (char *)(uintptr_t)ssh;
	argv[na++] = (char *)(uintptr_t)"-T";
	argv[na++] = (char *)(uintptr_t)"-F";
	argv[na++] = (char *)(uintptr_t)"/dev/null";
#define OPT(s) do { argv[na++] = (char *)(uintptr_t)"-o"; \
	argv[na++] = (char *)(uintptr_t)(s); } while (0)
	OPT("LogLevel=VERBOSE");
	OPT("IdentitiesOnly=yes");
	OPT("IdentityAgent=none");
	OPT("ControlMaster=no");
	OPT("ControlPath=none");
	OPT("PasswordAuthentication=no");
	OPT("KbdInteractiveAuthentication=no");
	OPT("PreferredAuthentications=publickey");
	OPT("ClearAllForwardings=yes");
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		if ((v = g_value(g_out, kept[i].g)) == NULL)
			continue;
		if (strcmp(v, "none") == 0 && strcmp(kept[i].g,
		    "stricthostkeychecking") != 0) {
			free(v);
			continue;
		}
		if (asprintf(&opts[no], "%s=%s", kept[i].opt, v) < 0) {
			free(v);
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		free(v);
		OPT(opts[no]);
		no++;
	}
	if (asprintf(&opts[no], "IdentityFile=%s", ident) < 0) {
		err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		goto out;
	}
	OPT(opts[no]);
	no++;
	/* A PIV key: the module finds it on the card, the .pub picks it. */
	if (pkcs11 != NULL) {
		if (asprintf(&opts[no], "PKCS11Provider=%s", pkcs11) < 0) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		OPT(opts[no]);
		no++;
	}
#undef OPT
	argv[na++] = (char *)(uintptr_t)"-p";
	argv[na++] = port;
	argv[na++] = (char *)(uintptr_t)"-l";
	argv[na++] = login;
	argv[na++] = (char *)(uintptr_t)"--";
	argv[na++] = hostname;
	argv[na] = NULL;
	if ((err = run(argv, &l_out, &l_err, &status)) != NULL)
		goto out;
	if ((line = line_with(l_err, "Authenticated to ")) != NULL) {
		*detailp = line;
		line = NULL;
		goto out;
	}
	if ((line = line_with(l_err, "Permission denied")) != NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_REJECTED, "%s@%s "
		    "port %s refused the new key: %s", login, hostname, port,
		    line), "the registration may not have reached the server "
		    "yet: run the same command again in a minute (it "
		    "registers the key again if needed)");
		goto out;
	}
	if ((line = line_with(l_err, "Host key verification failed")) !=
	    NULL || (line = line_with(l_err, "REMOTE HOST IDENTIFICATION"))
	    != NULL) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_CONFIG, "%s port %s: "
		    "%s", hostname, port, line), "connect once with 'ssh -T "
		    "%s' to check and accept the server's host key", host);
		goto out;
	}
	for (i = 0; unreachable[i] != NULL; i++)
		if ((line = line_with(l_err, unreachable[i])) != NULL)
			break;
	if (line != NULL || status == 255) {
		err = ykssh_err_hint(YKSSH_ERR(YKSSH_ERR_NETWORK, "cannot "
		    "reach %s port %s to prove the new key: %s", hostname,
		    port, line != NULL ? line : "ssh failed"), "nothing was "
		    "switched: connect to the network (or VPN) and run the "
		    "same command again; --no-check skips the proof");
		goto out;
	}
	err = YKSSH_ERR(YKSSH_ERR_REJECTED, "ssh to %s port %s with the new "
	    "key did not authenticate (exit %d)", hostname, port, status);
out:
	for (i = 0; i < no; i++)
		free(opts[i]);
	free(g_out);
	free(g_err);
	free(l_out);
	free(l_err);
	free(hostname);
	free(port);
	free(login);
	free(ident);
	free(line);
	return err;
}
