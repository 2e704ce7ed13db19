/* SPDX-License-Identifier: BSD-2-Clause */
/* ykssh doctor: one troubleshooting step per check; see doctor.h. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor-internal.h"
#include "proc-internal.h"
#include "ykssh/atomicfile.h"
#include "ykssh/bitbucket.h"
#include "ykssh/fido.h"
#include "ykssh/piv.h"
#include "ykssh/sshconfig.h"

#define WARN_DAYS	14
#define STUB_MAX	(64 * 1024)
#define CONNECT_TIMEOUT	10
#define TOUCH_WAIT_MS	30000
#define PCSCD_SOCKET	"/run/pcscd/pcscd.comm"

#define NOMEM()	YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory")

static const char *const check_names[YKSSH_DOCTOR_NCHECKS] = {
	"token", "config", "key", "agent", "bitbucket", "hostkey", "auth"
};

const char *
ykssh_doctor_check_name(enum ykssh_doctor_check_id id)
{
	return (unsigned)id < YKSSH_DOCTOR_NCHECKS ? check_names[id] : "?";
}

const char *
ykssh_doctor_status_name(enum ykssh_doctor_status st)
{
	switch (st) {
	case YKSSH_DOCTOR_PASS:
		return "pass";
	case YKSSH_DOCTOR_WARN:
		return "warn";
	case YKSSH_DOCTOR_FAIL:
		return "fail";
	default:
		return "skip";
	}
}

/* Everything one target's checks share. */
struct run {
	struct ykssh_ctx		*ctx;
	const struct ykssh_doctor_opts	*o;
	const char			*config;
	struct ykssh_doctor_target	*t;
	struct ykssh_sshconfig_effect	 ef;
	int				 have_ef;
	struct dr_sshg			 g;
	int				 have_g;
	char				*idfile;	/* expanded */
	char				*key_path;	/* stub or PIV .pub */
	struct ykssh_sshkey		*key;		/* the entry's key */
	char				*comment;
	struct ykssh_fido_dev		*dev;
	const char			*model;		/* static */
	int				 oom;
};

static void
set(struct run *r, enum ykssh_doctor_check_id id,
    enum ykssh_doctor_status st, const char *fix, const char *fmt, ...)
    YKSSH_PRINTF(5, 6);

static void
set(struct run *r, enum ykssh_doctor_check_id id,
    enum ykssh_doctor_status st, const char *fix, const char *fmt, ...)
{
	struct ykssh_doctor_check *c = &r->t->checks[id];
	va_list ap;

	free(c->finding);
	free(c->fix);
	c->finding = c->fix = NULL;
	c->status = st;
	va_start(ap, fmt);
	if (vasprintf(&c->finding, fmt, ap) == -1) {
		c->finding = NULL;
		r->oom = 1;
	}
	va_end(ap);
	if (fix != NULL && (c->fix = strdup(fix)) == NULL)
		r->oom = 1;
}

static void
set_fix(struct run *r, enum ykssh_doctor_check_id id, const char *fmt, ...)
    YKSSH_PRINTF(3, 4);

static void
set_fix(struct run *r, enum ykssh_doctor_check_id id, const char *fmt, ...)
{
	struct ykssh_doctor_check *c = &r->t->checks[id];
	va_list ap;

	free(c->fix);
	va_start(ap, fmt);
	if (vasprintf(&c->fix, fmt, ap) == -1) {
		c->fix = NULL;
		r->oom = 1;
	}
	va_end(ap);
}

/* "~/x" with the passwd home (what ssh uses) or HOME given. */
static char *
expand(const char *p, const char *home)
{
	char *s;

	if (p[0] == '~' && p[1] == '/') {
		if (asprintf(&s, "%s%s", home, p + 1) == -1)
			return NULL;
		return s;
	}
	return strdup(p);
}

static const char *
pw_home(void)
{
	struct passwd *pw = getpwuid(getuid());

	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
}

/* Loads a stub (sk) or a .pub; NULL key when absent or unreadable. */
static void
load_key(const char *path, struct ykssh_sshkey **kp, char **commentp,
    int *existsp)
{
	struct ykssh_err *err;
	char *data = NULL;
	size_t len;
	int enc = 0;

	*kp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	*existsp = 0;
	if (strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".pub") == 0) {
		err = ykssh_sshkey_load_public(path, kp, commentp, existsp);
		ykssh_err_free(err);
		return;
	}
	err = ykssh_atomicfile_read(path, STUB_MAX, &data, &len, existsp);
	if (err == NULL && *existsp)
		err = ykssh_sshkey_parse_stub((const uint8_t *)data, len, kp,
		    commentp, &enc);
	ykssh_err_free(err);
	free(data);
}

static char *
fp_of(const struct ykssh_sshkey *k)
{
	struct ykssh_err *err;
	char *fp = NULL;

	if (k == NULL)
		return NULL;
	if ((err = ykssh_sshkey_fingerprint(k, &fp)) != NULL) {
		ykssh_err_free(err);
		return NULL;
	}
	return fp;
}

/* The .pub in ~/.ssh whose key has fingerprint fp, or NULL. */
static char *
find_pub(const char *home, const char *fp)
{
	struct ykssh_sshkey *k;
	struct dirent *de;
	char *dir = NULL, *path = NULL, *kfp, *found = NULL;
	size_t n;
	int exists;
	DIR *d;

	if (asprintf(&dir, "%s/.ssh", home) == -1 ||
	    (d = opendir(dir)) == NULL) {
		if (dir != NULL)
			free(dir);
		return NULL;
	}
	while (found == NULL && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1)
			break;
		load_key(path, &k, NULL, &exists);
		kfp = fp_of(k);
		if (kfp != NULL && strcmp(kfp, fp) == 0)
			found = path;
		else
			free(path);
		path = NULL;
		free(kfp);
		ykssh_sshkey_free(k);
	}
	closedir(d);
	free(dir);
	return found;
}

/* --- token ---------------------------------------------------------- */

static int
pcscd_answers(void)
{
	struct sockaddr_un sa;
	const char *path = getenv("PCSCLITE_CSOCK_NAME");
	int fd, ok;

	if (path == NULL || *path == '\0')
		path = PCSCD_SOCKET;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void
check_token(struct run *r)
{
	struct ykssh_err *err;
	struct ykssh_piv *piv = NULL;
	int code;

	if (r->t->kind != NULL && strcmp(r->t->kind, "piv") == 0) {
		if (!pcscd_answers()) {
			set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_FAIL,
			    "start it: 'sudo systemctl start pcscd.socket' "
			    "(Debian: apt install pcscd)",
			    "pcscd not running: the PIV key is reached "
			    "through the PC/SC daemon and nothing answers "
			    "on its socket");
			return;
		}
		if ((err = ykssh_piv_open(r->ctx, NULL, &piv)) != NULL) {
			set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_FAIL,
			    "plug in the YubiKey (a reader without the card "
			    "does not help); 'pcsc_scan' shows what pcscd "
			    "sees", "no PIV card: %s", ykssh_err_message(err));
			ykssh_err_free(err);
			return;
		}
		ykssh_piv_close(piv);
		set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_PASS, NULL,
		    "pcscd answers and a YubiKey PIV card is present");
		return;
	}
	if ((err = ykssh_fido_open(r->ctx, r->o->devices, r->o->ndevices,
	    &r->dev)) == NULL) {
		r->model = ykssh_fido_model(r->dev);
		set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_PASS, NULL,
		    "%s at %s (firmware %s)", ykssh_fido_model(r->dev),
		    ykssh_fido_path(r->dev), ykssh_fido_firmware(r->dev));
		return;
	}
	code = ykssh_err_code(err);
	if (code == YKSSH_ERR_PERMISSION)
		set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_FAIL,
		    "install ykssh's udev rules (/lib/udev/rules.d/"
		    "70-ykssh.rules, or add yourself to group plugdev), then "
		    "re-plug the key", "token not accessible: %s",
		    ykssh_err_message(err));
	else if (code == YKSSH_ERR_DEVICE_NOT_FOUND)
		set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_FAIL,
		    "plug in the YubiKey; if it is plugged in, install "
		    "ykssh's udev rules (/lib/udev/rules.d/70-ykssh.rules) and "
		    "re-plug it", "no token: %s", ykssh_err_message(err));
	else
		set(r, YKSSH_DOCTOR_TOKEN, YKSSH_DOCTOR_FAIL,
		    "re-plug the key and run 'ykssh doctor' again",
		    "token not usable: %s", ykssh_err_message(err));
	ykssh_err_free(err);
}

/* --- config --------------------------------------------------------- */

static struct ykssh_err *
ssh_g(struct run *r, char **errtextp)
{
	const char *argv[10];
	char *out = NULL, *errt = NULL;
	size_t outlen, errlen;
	int st, to, n = 0;
	struct ykssh_err *err;

	*errtextp = NULL;
	argv[n++] = r->o->ssh_path != NULL ? r->o->ssh_path : "ssh";
	argv[n++] = "-G";
	argv[n++] = "-F";
	argv[n++] = r->config;
	if (r->o->user != NULL) {
		argv[n++] = "-l";
		argv[n++] = r->o->user;
	}
	argv[n++] = "--";
	argv[n++] = r->t->host;
	argv[n] = NULL;
	if ((err = ykssh_proc_run(argv, NULL, 10000, YKSSH_PROC_OWN_GROUP,
	    &out, &outlen, &errt, &errlen, &st, &to)) != NULL)
		return err;
	if (st != 0) {
		*errtextp = errt;
		errt = NULL;
		err = YKSSH_ERR(YKSSH_ERR_CONFIG, "ssh -G failed");
	} else if ((err = ykssh_dr_parse_sshg(out, outlen, &r->g)) == NULL)
		r->have_g = 1;
	free(out);
	free(errt);
	return err;
}

static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
check_config(struct run *r)
{
	static const int opts[] = { YKSSH_SSHCONFIG_OPT_USER,
	    YKSSH_SSHCONFIG_OPT_HOSTNAME, YKSSH_SSHCONFIG_OPT_PORT,
	    YKSSH_SSHCONFIG_OPT_IDFILE, YKSSH_SSHCONFIG_OPT_PKCS11 };
	struct ykssh_sshconfig_effect *ef = &r->ef;
	struct ykssh_sshkey *k = NULL;
	struct ykssh_err *err;
	char *errtext = NULL, *kfp = NULL, *alt;
	const char *fp = r->t->fingerprint, *v;
	size_t i;
	int exists, k_i, listed = 0;

	if ((err = ssh_g(r, &errtext)) != NULL) {
		set(r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL,
		    "fix the line ssh names, then run 'ykssh doctor' again",
		    "ssh rejects %s: %s", r->config, errtext != NULL ?
		    errtext : ykssh_err_message(err));
		ykssh_err_free(err);
		free(errtext);
		return;
	}
	/* An earlier line that ssh reads first. */
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		k_i = opts[i];
		if (ef->winner[k_i] == NULL || (ef->own[k_i] == NULL &&
		    k_i != YKSSH_SSHCONFIG_OPT_IDFILE))
			continue;
		v = k_i == YKSSH_SSHCONFIG_OPT_USER ? r->g.user :
		    k_i == YKSSH_SSHCONFIG_OPT_HOSTNAME ? r->g.hostname :
		    k_i == YKSSH_SSHCONFIG_OPT_PORT ? r->g.port :
		    k_i == YKSSH_SSHCONFIG_OPT_IDFILE ? (r->g.nidfiles > 0 ?
		    r->g.idfiles[0] : "?") : r->g.pkcs11provider;
		if (k_i == YKSSH_SSHCONFIG_OPT_USER && r->o->user != NULL)
			continue;	/* -l wins anyway */
		set(r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL, NULL,
		    "earlier Host block wins: %s sets %s first, so ssh %s "
		    "'%s'%s%s%s", ef->winner[k_i],
		    ykssh_sshconfig_opt_name(k_i),
		    k_i == YKSSH_SSHCONFIG_OPT_IDFILE ? "tries" : "uses",
		    v != NULL ? v : "?",
		    k_i == YKSSH_SSHCONFIG_OPT_IDFILE ? " before the entry's "
		    "key" : ", not the entry's '",
		    k_i == YKSSH_SSHCONFIG_OPT_IDFILE ? "" : ef->own[k_i],
		    k_i == YKSSH_SSHCONFIG_OPT_IDFILE ? "" : "'");
		set_fix(r, YKSSH_DOCTOR_CONFIG, "remove that line, or move "
		    "the ykssh block (line %zu) above it: 'ykssh config "
		    "apply' places it there", ef->first_line);
		return;
	}
	if (ef->own[YKSSH_SSHCONFIG_OPT_IDFILE] == NULL) {
		set(r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL,
		    "'ykssh config apply --force' rewrites the entry",
		    "the entry (line %zu) has no IdentityFile", ef->first_line);
		return;
	}
	for (i = 0; i < r->g.nidfiles; i++) {
		char *a = expand(r->g.idfiles[i], pw_home());

		if (a == NULL) {
			r->oom = 1;
			return;
		}
		if (same_file(a, r->idfile) ||
		    strcmp(r->g.idfiles[i], ef->own[YKSSH_SSHCONFIG_OPT_IDFILE])
		    == 0)
			listed = 1;
		free(a);
	}
	if (!listed) {
		set(r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL,
		    "check Include and Match lines above the entry; "
		    "'ykssh config apply' places the block where it wins",
		    "ssh -G %s does not use the entry's IdentityFile %s",
		    r->t->host, ef->own[YKSSH_SSHCONFIG_OPT_IDFILE]);
		return;
	}
	/* The IdentityFile holds the entry's key. */
	load_key(r->idfile, &k, NULL, &exists);
	kfp = fp_of(k);
	ykssh_sshkey_free(k);
	if (fp != NULL && (kfp == NULL || strcmp(kfp, fp) != 0)) {
		alt = r->key_path;
		set(r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL, NULL,
		    "wrong IdentityFile: %s %s, not the entry's key %s",
		    ef->own[YKSSH_SSHCONFIG_OPT_IDFILE], !exists ?
		    "does not exist" : kfp == NULL ? "is not a key ssh can "
		    "read" : kfp, fp);
		if (alt != NULL)
			set_fix(r, YKSSH_DOCTOR_CONFIG, "the key is %s: put "
			    "that path back in the entry ('ykssh config "
			    "apply --force' rewrites it)", alt);
		else
			set_fix(r, YKSSH_DOCTOR_CONFIG, "restore the key "
			    "file ('ykssh recover' for a resident key), or "
			    "'ykssh revoke %s' and enroll again", fp);
		free(kfp);
		return;
	}
	free(kfp);
	set(r, YKSSH_DOCTOR_CONFIG, ef->edited ? YKSSH_DOCTOR_WARN :
	    YKSSH_DOCTOR_PASS, ef->edited ? "'ykssh config apply --force' "
	    "restores it" : NULL, "%sssh -G %s: user %s, hostname %s, port "
	    "%s, IdentityFile %s (entry '%s', line %zu)", ef->edited ?
	    "entry edited by hand; " : "", r->t->host, r->g.user,
	    r->g.hostname, r->g.port, ef->own[YKSSH_SSHCONFIG_OPT_IDFILE],
	    r->t->label, ef->first_line);
}

/* --- key ------------------------------------------------------------ */

static void
check_key(struct run *r)
{
	struct ykssh_sshkey *pub = NULL;
	struct ykssh_err *err;
	char *pubpath = NULL;
	int exists, present;

	if (r->key == NULL) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_FAIL,
		    "'ykssh recover' (resident key), or 'ykssh revoke' it "
		    "and enroll again", "no key file in ~/.ssh holds %s",
		    r->t->fingerprint != NULL ? r->t->fingerprint : "the "
		    "entry's key");
		return;
	}
	if (strcmp(r->t->kind, "piv") == 0) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_PASS, NULL,
		    "%s holds %s", r->key_path, r->t->fingerprint);
		return;
	}
	if (asprintf(&pubpath, "%s.pub", r->key_path) == -1) {
		r->oom = 1;
		return;
	}
	load_key(pubpath, &pub, NULL, &exists);
	if (exists && (pub == NULL || !ykssh_sshkey_equal_public(pub,
	    r->key))) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_FAIL, NULL,
		    "%s does not hold the stub's public key", pubpath);
		set_fix(r, YKSSH_DOCTOR_KEY, "ssh-keygen -y -f %s > %s",
		    r->key_path, pubpath);
		goto out;
	}
	if (r->dev == NULL) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_SKIP, NULL,
		    "stub %s read; no token to ask whether it holds the "
		    "credential", r->key_path);
		goto out;
	}
	if (ykssh_sshkey_sk_flags(r->key) & YKSSH_SK_USER_VERIFICATION_REQD) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_SKIP, NULL,
		    "verify-required key: the token shows it only with the "
		    "PIN, not checked");
		goto out;
	}
	if ((err = ykssh_fido_probe_key(r->dev, r->key, &present)) != NULL) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_WARN,
		    "re-plug the key and run 'ykssh doctor' again",
		    "could not ask the token: %s", ykssh_err_message(err));
		ykssh_err_free(err);
		goto out;
	}
	if (!present) {
		set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_FAIL,
		    (ykssh_sshkey_sk_flags(r->key) & YKSSH_SK_RESIDENT_KEY) ?
		    "attach the token the key was enrolled on, or run "
		    "'ykssh recover' with this one if it holds your keys" :
		    "attach the token the key was enrolled on, or enroll a "
		    "key on this one ('ykssh enroll')",
		    "stub from another token: the credential of %s is not on "
		    "the attached %s (%s)", r->key_path,
		    ykssh_fido_model(r->dev), ykssh_fido_path(r->dev));
		goto out;
	}
	set(r, YKSSH_DOCTOR_KEY, YKSSH_DOCTOR_PASS, NULL,
	    "%s matches its .pub; its credential is on the attached %s",
	    r->key_path, ykssh_fido_model(r->dev));
out:
	ykssh_sshkey_free(pub);
	free(pubpath);
}

/* --- agent ---------------------------------------------------------- */

static int
is_stale(const struct run *r, const struct dr_agentkey *a)
{
	enum ykssh_keytype t = ykssh_sshkey_type(a->key);

	if (r->comment != NULL && *r->comment != '\0' && a->comment != NULL &&
	    strcmp(a->comment, r->comment) == 0)
		return 1;
	if (r->key_path != NULL && a->comment != NULL &&
	    strcmp(a->comment, r->key_path) == 0)
		return 1;
	if (r->key != NULL && ykssh_sshkey_type_is_sk(t) &&
	    ykssh_sshkey_type_is_sk(ykssh_sshkey_type(r->key)) &&
	    strcmp(ykssh_sshkey_application(a->key),
	    ykssh_sshkey_application(r->key)) == 0)
		return 1;
	return 0;
}

/*
 * The agent socket ssh uses for the host: IdentityAgent (a path, "~/",
 * or an environment variable "$NAME"/"${NAME}", or SSH_AUTH_SOCK), else
 * $SSH_AUTH_SOCK.  NULL: none.  *fromp says where it came from.
 */
static char *
agent_socket(const struct run *r, const char **fromp)
{
	const char *ia = r->have_g ? r->g.identityagent : NULL, *v;
	char name[128];
	size_t n;

	*fromp = "SSH_AUTH_SOCK";
	if (ia != NULL && strcmp(ia, "SSH_AUTH_SOCK") != 0) {
		*fromp = "IdentityAgent";
		if (strcmp(ia, "none") == 0)
			return NULL;
		if (ia[0] == '$') {
			v = ia + 1 + (ia[1] == '{');
			n = strcspn(v, "}");
			if (n == 0 || n >= sizeof(name))
				return NULL;
			memcpy(name, v, n);
			name[n] = '\0';
			v = getenv(name);
			return v != NULL && *v != '\0' ? strdup(v) : NULL;
		}
		return expand(ia, pw_home());
	}
	v = getenv("SSH_AUTH_SOCK");
	return v != NULL && *v != '\0' ? strdup(v) : NULL;
}

/* Our environment with SSH_AUTH_SOCK=sock; NULL on allocation failure. */
static char **
env_with_sock(const char *sock)
{
	extern char **environ;
	char **env;
	size_t n = 0, i, j = 0;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "SSH_AUTH_SOCK=", 14) != 0)
			env[j++] = environ[i];
	if (asprintf(&env[j], "SSH_AUTH_SOCK=%s", sock) == -1) {
		free(env);
		return NULL;
	}
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		if (env[i + 1] == NULL)
			free(env[i]);	/* ours: the last one */
	free(env);
}

static void
check_agent(struct run *r)
{
	struct dr_agentkey *keys = NULL;
	struct ykssh_err *err;
	const struct dr_agentkey *first = NULL, *stale = NULL;
	const char *argv[3], *from;
	char *out = NULL, *errt = NULL, *sock, **env = NULL;
	size_t outlen, errlen, n = 0, i, others = 0, ours = 0;
	int st, to;

	if ((sock = agent_socket(r, &from)) == NULL) {
		set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_SKIP, NULL,
		    "no agent for %s (%s %s)", r->t->host, from,
		    strcmp(from, "IdentityAgent") == 0 ? r->g.identityagent :
		    "unset");
		return;
	}
	if ((env = env_with_sock(sock)) == NULL) {
		free(sock);
		r->oom = 1;
		return;
	}
	argv[0] = r->o->ssh_add_path != NULL ? r->o->ssh_add_path : "ssh-add";
	argv[1] = "-L";
	argv[2] = NULL;
	err = ykssh_proc_run(argv, env, 10000, YKSSH_PROC_OWN_GROUP, &out,
	    &outlen, &errt, &errlen, &st, &to);
	env_free(env);
	free(sock);
	if (err != NULL) {
		set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_SKIP, NULL,
		    "%s", ykssh_err_message(err));
		ykssh_err_free(err);
		return;
	}
	if (st != 0 && st != 1) {
		set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_WARN,
		    "start the agent again, or unset SSH_AUTH_SOCK",
		    "%s names an agent socket but no agent answers there",
		    from);
		goto out;
	}
	if ((err = ykssh_dr_parse_agent(out, outlen, &keys, &n)) != NULL) {
		ykssh_err_free(err);
		r->oom = 1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (r->t->fingerprint != NULL &&
		    strcmp(keys[i].fingerprint, r->t->fingerprint) == 0) {
			ours++;
			continue;
		}
		others++;
		if (first == NULL)
			first = &keys[i];
		if (stale == NULL && is_stale(r, &keys[i]))
			stale = &keys[i];
	}
	if (stale != NULL)
		first = stale;
	if (others == 0) {
		set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_PASS, NULL,
		    "the agent holds %s", ours ? "the entry's key and no "
		    "other" : "no keys");
		goto out;
	}
	/*
	 * ssh offers agent keys before the IdentityFiles it has no agent
	 * copy of, unless IdentitiesOnly: only then do they matter here.
	 */
	if (r->have_g && !r->g.identitiesonly) {
		set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_FAIL, NULL,
		    "%s agent key: ssh offers %zu agent key%s to %s before "
		    "the entry's key (IdentitiesOnly no%s%s), first %s (%s)",
		    stale != NULL ? "stale" : "conflicting", others,
		    others == 1 ? "" : "s", r->t->host,
		    r->ef.winner[YKSSH_SSHCONFIG_OPT_IDONLY] != NULL ?
		    " from " : "", r->ef.winner[YKSSH_SSHCONFIG_OPT_IDONLY] !=
		    NULL ? r->ef.winner[YKSSH_SSHCONFIG_OPT_IDONLY] : "",
		    first->fingerprint, first->comment != NULL &&
		    *first->comment != '\0' ? first->comment : "no comment");
		set_fix(r, YKSSH_DOCTOR_AGENT, "remove it: 'ssh-add -d "
		    "FILE' (or 'ssh-add -D' for all), or let the entry's "
		    "'IdentitiesOnly yes' win%s%s",
		    r->ef.winner[YKSSH_SSHCONFIG_OPT_IDONLY] != NULL ?
		    " by removing " : "",
		    r->ef.winner[YKSSH_SSHCONFIG_OPT_IDONLY] != NULL ?
		    r->ef.winner[YKSSH_SSHCONFIG_OPT_IDONLY] : "");
		goto out;
	}
	if (stale != NULL) {
		set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_WARN, NULL,
		    "the agent holds an older key for this entry, %s (%s); "
		    "ssh does not offer it to %s (IdentitiesOnly yes), other "
		    "hosts and tools may", stale->fingerprint,
		    stale->comment != NULL ? stale->comment : "no comment",
		    r->t->host);
		set_fix(r, YKSSH_DOCTOR_AGENT, "ssh-add -d the old key file "
		    "(or 'ssh-add -D')");
		goto out;
	}
	set(r, YKSSH_DOCTOR_AGENT, YKSSH_DOCTOR_PASS, NULL,
	    "%zu other agent key%s, not offered to %s (IdentitiesOnly yes)",
	    others, others == 1 ? "" : "s", r->t->host);
out:
	ykssh_dr_agent_free(keys, n);
	free(out);
	free(errt);
}

/* --- bitbucket ------------------------------------------------------ */

/* Whole days from now until an ISO 8601 time (UTC); INT_MAX if unknown. */
static int
days_until(const char *iso, time_t now)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return INT_MAX;
	if ((t = timegm(&tm)) == (time_t)-1)
		return INT_MAX;
	if (t <= now)
		return -(int)((now - t) / 86400) - 1;
	return (int)((t - now) / 86400);
}

static void
check_bitbucket(struct run *r)
{
	struct ykssh_bb_keylist *kl = NULL;
	struct ykssh_err *err;
	const struct ykssh_bb_key *k = NULL;
	const char *name = r->o->bb_name != NULL ? r->o->bb_name :
	    "Bitbucket";
	time_t now = r->o->now != 0 ? r->o->now : time(NULL);
	unsigned warn = r->o->warn_days != 0 ? r->o->warn_days : WARN_DAYS;
	size_t i;
	int days;

	if (r->o->bb == NULL) {
		set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_SKIP, NULL,
		    "not asked%s%s", r->o->bb_skip != NULL ? ": " : "",
		    r->o->bb_skip != NULL ? r->o->bb_skip : "");
		return;
	}
	if (r->t->fingerprint == NULL) {
		set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_SKIP, NULL,
		    "no key to look for");
		return;
	}
	if ((err = ykssh_bb_list(r->o->bb, &kl)) != NULL) {
		set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_WARN,
		    ykssh_err_find_hint(err), "cannot list the keys on %s: %s",
		    name, ykssh_err_message(err));
		ykssh_err_free(err);
		return;
	}
	for (i = 0; i < kl->n; i++)
		if (kl->keys[i].fingerprint != NULL &&
		    strcmp(kl->keys[i].fingerprint, r->t->fingerprint) == 0)
			k = &kl->keys[i];
	if (k == NULL) {
		set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_FAIL, NULL,
		    "key not registered: %s is not on your %s account, which "
		    "refuses it", r->t->fingerprint, name);
		set_fix(r, YKSSH_DOCTOR_BITBUCKET, "ykssh register %s.pub",
		    r->key_path != NULL && strcmp(r->t->kind, "fido2") == 0 ?
		    r->key_path : "~/.ssh/KEY");
		goto out;
	}
	days = k->expires != NULL ? days_until(k->expires, now) : INT_MAX;
	if (days < 0) {
		set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_FAIL, NULL,
		    "expired key: the registration '%s' expired on %s; %s "
		    "refuses it", k->label != NULL ? k->label : "",
		    k->expires, name);
		set_fix(r, YKSSH_DOCTOR_BITBUCKET, "ykssh rotate %s",
		    r->t->label);
		goto out;
	}
	if (days != INT_MAX && (unsigned)days < warn) {
		set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_WARN, NULL,
		    "registered as '%s', expires on %s (in %d day%s)",
		    k->label != NULL ? k->label : "", k->expires, days,
		    days == 1 ? "" : "s");
		set_fix(r, YKSSH_DOCTOR_BITBUCKET, "ykssh rotate %s",
		    r->t->label);
		goto out;
	}
	set(r, YKSSH_DOCTOR_BITBUCKET, YKSSH_DOCTOR_PASS, NULL,
	    "registered on %s as '%s'%s%s", name, k->label != NULL ?
	    k->label : "", k->expires != NULL ? ", expires " : "",
	    k->expires != NULL ? k->expires : "");
out:
	ykssh_bb_keylist_free(kl);
}

/* --- hostkey -------------------------------------------------------- */

static void
check_hostkey(struct run *r)
{
	const char *argv[6];
	char *name = NULL, *out, *errt, *f;
	size_t outlen, errlen, i;
	int st, to, found = 0, cloud;
	struct ykssh_err *err;

	if (!r->have_g) {
		set(r, YKSSH_DOCTOR_HOSTKEY, YKSSH_DOCTOR_SKIP, NULL,
		    "ssh -G did not answer (see config)");
		return;
	}
	if (r->g.hostkeyalias != NULL)
		name = strdup(r->g.hostkeyalias);
	else if (strcmp(r->g.port, "22") == 0)
		name = strdup(r->g.hostname);
	else if (asprintf(&name, "[%s]:%s", r->g.hostname, r->g.port) == -1)
		name = NULL;
	if (name == NULL) {
		r->oom = 1;
		return;
	}
	for (i = 0; !found && i < r->g.nkhfiles; i++) {
		if ((f = expand(r->g.khfiles[i], pw_home())) == NULL) {
			r->oom = 1;
			break;
		}
		if (access(f, R_OK) != 0) {
			free(f);
			continue;
		}
		argv[0] = r->o->ssh_keygen_path != NULL ?
		    r->o->ssh_keygen_path : "ssh-keygen";
		argv[1] = "-F";
		argv[2] = name;
		argv[3] = "-f";
		argv[4] = f;
		argv[5] = NULL;
		out = errt = NULL;
		if ((err = ykssh_proc_run(argv, NULL, 10000,
		    YKSSH_PROC_OWN_GROUP, &out, &outlen, &errt, &errlen, &st,
		    &to)) != NULL)
			ykssh_err_free(err);
		else if (st == 0 && outlen > 0) {
			found = 1;
			set(r, YKSSH_DOCTOR_HOSTKEY, YKSSH_DOCTOR_PASS, NULL,
			    "%s's host key is in %s", name, r->g.khfiles[i]);
		}
		free(out);
		free(errt);
		free(f);
	}
	if (!found) {
		cloud = strcmp(r->g.hostname, "bitbucket.org") == 0;
		set(r, YKSSH_DOCTOR_HOSTKEY, YKSSH_DOCTOR_FAIL, NULL,
		    "host key not known: no known_hosts file ssh reads has "
		    "%s, so ssh asks (or, in scripts, refuses)", name);
		if (cloud)
			set_fix(r, YKSSH_DOCTOR_HOSTKEY, "'ssh-keyscan -t "
			    "ed25519 bitbucket.org | ssh-keygen -lf -', "
			    "compare with the fingerprint Bitbucket "
			    "publishes (support.atlassian.com, \"Bitbucket "
			    "Cloud SSH host keys\"), then append the "
			    "ssh-keyscan line to ~/.ssh/known_hosts");
		else
			set_fix(r, YKSSH_DOCTOR_HOSTKEY, "'ssh-keyscan -p %s "
			    "%s | ssh-keygen -lf -', compare with the "
			    "fingerprint your Bitbucket administrator "
			    "publishes, then append the line to "
			    "~/.ssh/known_hosts", r->g.port, r->g.hostname);
	}
	free(name);
}

/* --- auth ----------------------------------------------------------- */

static void
check_auth(struct run *r)
{
	static const char *const fixed[] = { "StrictHostKeyChecking=yes",
	    "UpdateHostKeys=no", "ControlMaster=no", "ControlPath=none",
	    "PasswordAuthentication=no", "KbdInteractiveAuthentication=no" };
	const char *argv[32];
	char *out = NULL, *errt = NULL, *fp = NULL, *line = NULL, ct[32];
	size_t k;
	int needs_pin;
	size_t outlen, errlen;
	int st, to, n = 0, secs = r->o->connect_timeout > 0 ?
	    r->o->connect_timeout : CONNECT_TIMEOUT;
	struct ykssh_err *err;
	const char *user;

	if (r->o->offline) {
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_SKIP, NULL,
		    "offline: no login attempted");
		return;
	}
	if (r->t->checks[YKSSH_DOCTOR_TOKEN].status == YKSSH_DOCTOR_FAIL ||
	    r->t->checks[YKSSH_DOCTOR_CONFIG].status == YKSSH_DOCTOR_FAIL ||
	    r->t->label == NULL) {
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_SKIP, NULL,
		    "not attempted: fix the failures above first");
		return;
	}
	needs_pin = strcmp(r->t->kind, "piv") == 0 || (r->key != NULL &&
	    (ykssh_sshkey_sk_flags(r->key) & YKSSH_SK_USER_VERIFICATION_REQD));
	/* The token is ssh's now. */
	ykssh_fido_close(r->dev);
	r->dev = NULL;
	snprintf(ct, sizeof(ct), "ConnectTimeout=%d", secs);
	argv[n++] = r->o->ssh_path != NULL ? r->o->ssh_path : "ssh";
	argv[n++] = "-F";
	argv[n++] = r->config;
	argv[n++] = "-T";
	argv[n++] = "-v";
	/*
	 * A fresh login (no control master), no prompts but a PIN the key
	 * itself needs (PIV, verify-required), and known_hosts left alone.
	 */
	for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
		argv[n++] = "-o";
		argv[n++] = fixed[k];
	}
	if (!needs_pin) {
		argv[n++] = "-o";
		argv[n++] = "BatchMode=yes";
	}
	argv[n++] = "-o";
	argv[n++] = ct;
	if (r->o->user != NULL) {
		argv[n++] = "-l";
		argv[n++] = r->o->user;
	}
	argv[n++] = "--";
	argv[n++] = r->t->host;
	argv[n] = NULL;
	/* ssh's "Confirm user presence" goes to us, not the terminal. */
	if (r->key != NULL && strcmp(r->t->kind, "fido2") == 0 &&
	    (ykssh_sshkey_sk_flags(r->key) & YKSSH_SK_USER_PRESENCE_REQD))
		ykssh_ctx_notice(r->ctx, YKSSH_NOTICE_TOUCH, r->model);
	/* A PIN may be asked on the terminal: stay in its process group. */
	if ((err = ykssh_proc_run(argv, NULL, secs * 1000 + TOUCH_WAIT_MS,
	    needs_pin ? 0 : YKSSH_PROC_OWN_GROUP, &out, &outlen, &errt,
	    &errlen, &st, &to)) != NULL) {
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_SKIP,
		    ykssh_err_find_hint(err), "%s", ykssh_err_message(err));
		ykssh_err_free(err);
		return;
	}
	user = r->o->user != NULL ? r->o->user : r->g.user;
	switch (ykssh_dr_classify_auth(errt, errlen, to, &fp, &line)) {
	case DR_AUTH_OK:
		if (fp != NULL && r->t->fingerprint != NULL &&
		    strcmp(fp, r->t->fingerprint) != 0)
			set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_WARN,
			    "see the agent and config checks",
			    "logged in to %s as %s, but with another key "
			    "(%s)", r->t->host, user, fp);
		else
			set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_PASS, NULL,
			    "authenticated to %s as %s with %s", r->t->host,
			    user, fp != NULL ? fp : "the entry's key");
		break;
	case DR_AUTH_DENIED:
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_FAIL,
		    "see the bitbucket check: 'ykssh register' the key",
		    "permission denied (publickey): %s refused the key for "
		    "user %s", r->t->host, user);
		break;
	case DR_AUTH_HOSTKEY_CHANGED:
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_FAIL,
		    "do not connect until the fingerprint is checked against "
		    "the published one; then 'ssh-keygen -R HOST' and add the "
		    "right key", "host key mismatch: %s's host key is not the "
		    "one in known_hosts", r->t->host);
		break;
	case DR_AUTH_HOSTKEY_UNKNOWN:
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_FAIL,
		    "see the hostkey check", "host key verification failed "
		    "for %s", r->t->host);
		break;
	case DR_AUTH_NETWORK:
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_SKIP, NULL,
		    "skipped: network unreachable (%s); not a fault of the "
		    "key", line != NULL ? line : "no answer");
		break;
	case DR_AUTH_TOUCH:
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_FAIL,
		    "run 'ykssh doctor' again and touch the key when it "
		    "blinks", "touch timeout: ssh waited for a touch of the "
		    "key and none came");
		break;
	default:
		set(r, YKSSH_DOCTOR_AUTH, YKSSH_DOCTOR_FAIL,
		    "run 'ssh -v' to see more", "ssh failed: %s",
		    line != NULL ? line : "no message");
		break;
	}
	free(fp);
	free(line);
	free(out);
	free(errt);
}

/* --- targets -------------------------------------------------------- */

static void
target_clear(struct ykssh_doctor_target *t)
{
	size_t i;

	free(t->host);
	free(t->label);
	free(t->fingerprint);
	for (i = 0; i < YKSSH_DOCTOR_NCHECKS; i++) {
		free(t->checks[i].finding);
		free(t->checks[i].fix);
	}
}

void
ykssh_doctor_free(struct ykssh_doctor *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		target_clear(&d->targets[i]);
	free(d->targets);
	free(d);
}

/* Finds the entry's key and its files. */
static void
locate_key(struct run *r)
{
	struct ykssh_sshkey *k = NULL;
	char *kfp, *pub;
	int exists;

	load_key(r->idfile, &k, &r->comment, &exists);
	kfp = fp_of(k);
	if (kfp != NULL && r->t->fingerprint != NULL &&
	    strcmp(kfp, r->t->fingerprint) == 0) {
		free(kfp);
		r->key = k;
		r->key_path = strdup(r->idfile);
		if (r->key_path == NULL)
			r->oom = 1;
		return;
	}
	free(kfp);
	ykssh_sshkey_free(k);
	free(r->comment);
	r->comment = NULL;
	if (r->t->fingerprint == NULL ||
	    (pub = find_pub(r->o->home, r->t->fingerprint)) == NULL)
		return;
	if (strcmp(r->t->kind, "piv") == 0) {
		r->key_path = pub;
	} else {
		pub[strlen(pub) - 4] = '\0';
		r->key_path = pub;
	}
	load_key(r->key_path, &r->key, &r->comment, &exists);
	if (r->key == NULL) {
		free(r->key_path);
		r->key_path = NULL;
	}
}

static void
run_target(struct ykssh_ctx *ctx, const struct ykssh_doctor_opts *o,
    const char *config, struct ykssh_doctor_target *t, int *oom)
{
	struct ykssh_sshconfig_opts sco;
	struct run r;
	struct ykssh_err *err;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.o = o;
	r.config = config;
	r.t = t;
	for (i = 0; i < YKSSH_DOCTOR_NCHECKS; i++) {
		t->checks[i].id = (enum ykssh_doctor_check_id)i;
		t->checks[i].status = YKSSH_DOCTOR_SKIP;
	}
	if (t->label == NULL) {
		set(&r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL,
		    "'ykssh enroll' makes a key and its entry; 'ykssh config "
		    "apply' adds the entry for a key you have",
		    "no ykssh entry for %s in %s", t->host, config);
		for (i = 0; i < YKSSH_DOCTOR_NCHECKS; i++)
			if (i != YKSSH_DOCTOR_CONFIG)
				set(&r, (enum ykssh_doctor_check_id)i,
				    YKSSH_DOCTOR_SKIP, NULL, "no entry");
		goto out;
	}
	memset(&sco, 0, sizeof(sco));
	sco.name = config;
	sco.home = pw_home();	/* ssh's "~" in Include */
	if ((err = ykssh_sshconfig_effect_file(&sco, config, t->label,
	    &r.ef)) != NULL) {
		set(&r, YKSSH_DOCTOR_CONFIG, YKSSH_DOCTOR_FAIL,
		    ykssh_err_find_hint(err), "%s", ykssh_err_message(err));
		ykssh_err_free(err);
		goto out;
	}
	r.have_ef = 1;
	t->kind = r.ef.own[YKSSH_SSHCONFIG_OPT_PKCS11] != NULL ? "piv" :
	    "fido2";
	if (r.ef.own[YKSSH_SSHCONFIG_OPT_IDFILE] != NULL &&
	    (r.idfile = expand(r.ef.own[YKSSH_SSHCONFIG_OPT_IDFILE],
	    o->home)) == NULL) {
		r.oom = 1;
		goto out;
	}
	if (r.idfile != NULL)
		locate_key(&r);
	check_token(&r);
	check_config(&r);
	check_key(&r);
	check_agent(&r);
	check_bitbucket(&r);
	check_hostkey(&r);
	check_auth(&r);
out:
	for (i = 0; i < YKSSH_DOCTOR_NCHECKS; i++)
		if (t->checks[i].finding == NULL && !r.oom)
			set(&r, (enum ykssh_doctor_check_id)i,
			    YKSSH_DOCTOR_SKIP, NULL, "not checked");
	if (r.oom)
		*oom = 1;
	ykssh_fido_close(r.dev);
	ykssh_sshconfig_effect_clear(&r.ef);
	ykssh_dr_sshg_clear(&r.g);
	ykssh_sshkey_free(r.key);
	free(r.key_path);
	free(r.idfile);
	free(r.comment);
}

static int
add_target(struct ykssh_doctor *d, const char *host, const char *label,
    const char *fp)
{
	struct ykssh_doctor_target *tmp, *t;

	if ((tmp = reallocarray(d->targets, d->n + 1, sizeof(*tmp))) == NULL)
		return -1;
	d->targets = tmp;
	t = &d->targets[d->n];
	memset(t, 0, sizeof(*t));
	d->n++;
	if ((t->host = strdup(host)) == NULL ||
	    (label != NULL && (t->label = strdup(label)) == NULL) ||
	    (fp != NULL && strncmp(fp, "SHA256:", 7) == 0 &&
	    (t->fingerprint = strdup(fp)) == NULL))
		return -1;
	return 0;
}

struct ykssh_err *
ykssh_doctor_run(struct ykssh_ctx *ctx, const struct ykssh_doctor_opts *o,
    struct ykssh_doctor **doctorp)
{
	struct ykssh_doctor *d = NULL;
	struct ykssh_sshconfig_block *b = NULL;
	struct ykssh_err *err = NULL;
	char *config = NULL;
	size_t nb = 0, i, j;
	int oom = 0;

	*doctorp = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (o->config_path != NULL ? (config = strdup(o->config_path)) ==
	    NULL : asprintf(&config, "%s/.ssh/config", o->home) == -1)) {
		config = NULL;
		err = NOMEM();
		goto out;
	}
	if ((err = ykssh_sshconfig_list_file(config, &b, &nb)) != NULL)
		goto out;
	for (i = 0; i < nb; i++) {
		if (b[i].host == NULL || (o->host != NULL &&
		    strcmp(b[i].host, o->host) != 0))
			continue;
		if (add_target(d, b[i].host, b[i].label, b[i].key_id) != 0)
			goto nomem;
	}
	if (d->n == 0 && add_target(d, o->host != NULL ? o->host :
	    YKSSH_BB_CLOUD_SSH_HOST, NULL, NULL) != 0)
		goto nomem;
	for (i = 0; i < d->n; i++) {
		run_target(ctx, o, config, &d->targets[i], &oom);
		if (oom)
			goto nomem;
		for (j = 0; j < YKSSH_DOCTOR_NCHECKS; j++) {
			if (d->targets[i].checks[j].status ==
			    YKSSH_DOCTOR_FAIL)
				d->failed++;
			if (d->targets[i].checks[j].status ==
			    YKSSH_DOCTOR_WARN)
				d->warned++;
		}
	}
	*doctorp = d;
	d = NULL;	/* transferred */
	goto out;
nomem:
	err = NOMEM();
out:
	ykssh_sshconfig_blocks_free(b, nb);
	ykssh_doctor_free(d);
	free(config);
	return err;
}
