/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Times applying a ykssh entry to a generated 10,000-line ~/.ssh/config:
 *  text  - ykssh_sshconfig_apply_text (parse, place, render, self-check)
 *  file  - ykssh_sshconfig_apply_file without the ssh -G checks (lock,
 *          read, edit, diff, backup, temp + fsync + rename + dir fsync)
 *  ssh   - the same with the two ssh -G checks (two ssh processes)
 * Prints the median and the slowest of N runs for each.
 * usage: bench_sshconfig [RUNS] [LINES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ykssh/sshconfig.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
generate(size_t lines, size_t *lenp)
{
	size_t cap = lines * 40 + 256, len = 0, n = 0, i;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	len += (size_t)snprintf(s + len, cap - len, "# generated\n");
	for (i = 0; n + 6 < lines; i++) {
		len += (size_t)snprintf(s + len, cap - len,
		    "Host srv%05zu srv%05zu.corp.example.com\n"
		    "    HostName 10.%zu.%zu.%zu\n    User user%zu\n"
		    "    # note %zu\n    Port %zu\n\n", i, i, i / 65536 % 256,
		    i / 256 % 256, i % 256, i % 17, i, 2000 + i % 500);
		n += 6;
	}
	len += (size_t)snprintf(s + len, cap - len,
	    "Host *\n    IdentityFile ~/.ssh/id_default\n");
	*lenp = len;
	return s;
}

static int
put(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(s, 1, n, f) != n || fclose(f) != 0)
		return -1;
	return 0;
}

static void
report(const char *name, double *t, int runs, size_t lines)
{
	qsort(t, (size_t)runs, sizeof(*t), cmp);
	printf("%-5s %zu lines: median %.2f ms, max %.2f ms (%d runs)\n",
	    name, lines, t[runs / 2], t[runs - 1], runs);
}

int
main(int argc, char **argv)
{
	struct ykssh_sshconfig_entry e = {
		.kind = YKSSH_SSHCONFIG_FIDO2, .label = "work",
		.key_id = "SHA256:bench",
		.identity_file = "~/.ssh/id_ed25519_sk_work",
	};
	struct ykssh_sshconfig_opts o = { 0 };
	struct ykssh_sshconfig_report *rep;
	struct ykssh_err *err;
	int runs = argc > 1 ? atoi(argv[1]) : 21, i, pass;
	size_t lines = argc > 2 ? (size_t)atol(argv[2]) : 10000, len, n;
	char dir[] = "/tmp/ykssh-bench-XXXXXX", path[64], *cfg, *out;
	double *t, t0;

	if (runs < 1 || (t = calloc((size_t)runs, sizeof(*t))) == NULL ||
	    (cfg = generate(lines, &len)) == NULL || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/config", dir);
	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		err = ykssh_sshconfig_apply_text(cfg, len, &e, &o, &out, &n,
		    NULL);
		t[i] = now_ms() - t0;
		if (err != NULL) {
			fprintf(stderr, "%s\n", ykssh_err_message(err));
			return 1;
		}
		free(out);
	}
	report("text", t, runs, lines);
	for (pass = 0; pass < 2; pass++) {
		o.flags = pass == 0 ? YKSSH_SSHCONFIG_NO_SSH_CHECK : 0;
		for (i = 0; i < runs; i++) {
			if (put(path, cfg, len) == -1)
				return 1;
			t0 = now_ms();
			err = ykssh_sshconfig_apply_file(NULL, path, &e, &o,
			    &rep);
			t[i] = now_ms() - t0;
			if (err != NULL) {
				fprintf(stderr, "%s\n", ykssh_err_message(err));
				return 1;
			}
			if (!rep->written)
				return 1;
			if (rep->backup != NULL)
				unlink(rep->backup);
			ykssh_sshconfig_report_free(rep);
		}
		report(pass == 0 ? "file" : "ssh", t, runs, lines);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	free(cfg);
	free(t);
	return 0;
}
