/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rotation journal: "key value" lines, one per field, the value being
 * the rest of the line (paths may hold spaces, never a newline).  Strict:
 * an unknown or repeated key, a missing field or a bad number is an
 * error, so a damaged journal stops the rotation instead of guessing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotate-internal.h"

#define MAGIC	"ykssh-rotate 1"

enum fkind { F_STR, F_U8, F_UINT, F_BOOL, F_STEP };

struct field {
	const char	*key;
	enum fkind	 kind;
	size_t		 off;
	int		 required;
};

#define J(m)	offsetof(struct ykssh_rotate_journal, m)
static const struct field fields[] = {
	{ "label", F_STR, J(label), 1 },
	{ "old-fingerprint", F_STR, J(old_fp), 1 },
	{ "old-flags", F_U8, J(old_flags), 1 },
	{ "stub", F_STR, J(stub), 1 },
	{ "pub", F_STR, J(pub), 1 },
	{ "new-stub", F_STR, J(new_stub), 1 },
	{ "new-pub", F_STR, J(new_pub), 1 },
	{ "backup-stub", F_STR, J(backup_stub), 1 },
	{ "backup-pub", F_STR, J(backup_pub), 1 },
	{ "new-type", F_STR, J(new_type), 1 },
	{ "new-application", F_STR, J(new_application), 1 },
	{ "new-flags", F_U8, J(new_flags), 1 },
	{ "new-user", F_STR, J(new_user), 0 },
	{ "comment", F_STR, J(comment), 0 },
	{ "new-fingerprint", F_STR, J(new_fp), 0 },
	{ "expires-days", F_UINT, J(expires_days), 1 },
	{ "on-token", F_BOOL, J(on_token), 1 },
	{ "no-check", F_BOOL, J(no_check), 1 },
	{ "step", F_STEP, J(step), 1 },
	/* PIV keys only (absent: a FIDO2 key). */
	{ "kind", F_STR, J(kind), 0 },
	{ "old-slot", F_U8, J(old_slot), 0 },
	{ "new-slot", F_U8, J(new_slot), 0 },
	{ "piv-algorithm", F_U8, J(piv_algorithm), 0 },
	{ "piv-pin-policy", F_U8, J(piv_pin_policy), 0 },
	{ "piv-touch-policy", F_U8, J(piv_touch_policy), 0 },
};
#undef J
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

void
ykssh_rotate_journal_clear(struct ykssh_rotate_journal *j)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (fields[i].kind == F_STR)
			free(*(char **)(void *)((char *)j + fields[i].off));
	memset(j, 0, sizeof(*j));
}

static int
parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno != 0 || *end != '\0' || *v > max ? -1 : 0;
}

static int
set_field(struct ykssh_rotate_journal *j, const struct field *f,
    const char *v)
{
	void *p = (char *)j + f->off;
	unsigned long n;
	int step;

	switch (f->kind) {
	case F_STR:
		if (*v == '\0')
			return -1;
		return (*(char **)p = strdup(v)) == NULL ? -2 : 0;
	case F_U8:
		if (parse_num(v, 255, &n) != 0)
			return -1;
		*(uint8_t *)p = (uint8_t)n;
		return 0;
	case F_UINT:
		if (parse_num(v, 3650, &n) != 0)
			return -1;
		*(unsigned *)p = (unsigned)n;
		return 0;
	case F_BOOL:
		if (parse_num(v, 1, &n) != 0)
			return -1;
		*(int *)p = (int)n;
		return 0;
	case F_STEP:
		if ((step = ykssh_rotate_step_from_name(v)) < 0 ||
		    step < YKSSH_ROTATE_PLANNED || step >= YKSSH_ROTATE_DONE)
			return -1;
		*(enum ykssh_rotate_step *)p = (enum ykssh_rotate_step)step;
		return 0;
	}
	return -1;
}

struct ykssh_err *
ykssh_rotate_journal_parse(const char *text, size_t len,
    struct ykssh_rotate_journal *j)
{
	struct ykssh_err *err = NULL;
	char *copy = NULL, *line, *nl, *sp;
	int seen[NFIELDS];
	size_t i, lineno = 0;
	int r;

	memset(j, 0, sizeof(*j));
	memset(seen, 0, sizeof(seen));
	if (memchr(text, '\0', len) != NULL)
		return YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "rotation journal: a NUL byte");
	if ((copy = strndup(text, len)) == NULL)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	for (line = copy; *line != '\0'; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "rotation "
			    "journal: line %zu is not finished", lineno);
			goto out;
		}
		*nl = '\0';
		if (lineno == 1) {
			if (strcmp(line, MAGIC) != 0) {
				err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
				    "not a rotation journal (\"%s\" "
				    "expected)", MAGIC);
				goto out;
			}
			continue;
		}
		if ((sp = strchr(line, ' ')) == NULL)
			goto bad;
		*sp++ = '\0';
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(fields[i].key, line) == 0)
				break;
		if (i == NFIELDS || seen[i])
			goto bad;
		seen[i] = 1;
		if ((r = set_field(j, &fields[i], sp)) == -2) {
			err = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (r != 0)
			goto bad;
	}
	if (lineno == 0) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT,
		    "rotation journal: empty");
		goto out;
	}
	for (i = 0; i < NFIELDS; i++)
		if (fields[i].required && !seen[i]) {
			err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "rotation "
			    "journal: no \"%s\"", fields[i].key);
			goto out;
		}
	if (j->step >= YKSSH_ROTATE_ENROLLED && j->new_fp == NULL) {
		err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "rotation journal: "
		    "step %s without the new fingerprint",
		    ykssh_rotate_step_name(j->step));
		goto out;
	}
	goto out;
bad:
	err = YKSSH_ERR(YKSSH_ERR_INVALID_FORMAT, "rotation journal: line %zu "
	    "is not understood", lineno);
out:
	free(copy);
	if (err != NULL)
		ykssh_rotate_journal_clear(j);
	return err;
}

struct ykssh_err *
ykssh_rotate_journal_format(const struct ykssh_rotate_journal *j,
    char **textp)
{
	const void *p;
	char *s = NULL, *t, num[16];
	const char *v;
	size_t i;

	*textp = NULL;
	if (asprintf(&s, "%s\n", MAGIC) < 0)
		return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
	for (i = 0; i < NFIELDS; i++) {
		p = (const char *)j + fields[i].off;
		switch (fields[i].kind) {
		case F_STR:
			v = *(char *const *)p;
			break;
		case F_U8:
			snprintf(num, sizeof(num), "%u",
			    (unsigned)*(const uint8_t *)p);
			/* An optional number is written when set. */
			v = fields[i].required || *(const uint8_t *)p != 0 ?
			    num : NULL;
			break;
		case F_UINT:
			snprintf(num, sizeof(num), "%u", *(const unsigned *)p);
			v = num;
			break;
		case F_BOOL:
			snprintf(num, sizeof(num), "%d",
			    *(const int *)p != 0);
			v = num;
			break;
		default:
			v = ykssh_rotate_step_name(
			    *(const enum ykssh_rotate_step *)p);
			break;
		}
		if (v == NULL)
			continue;
		if (*v == '\0' || strchr(v, '\n') != NULL) {
			free(s);
			return YKSSH_ERR(YKSSH_ERR_INVALID_ARGUMENT, "rotation "
			    "journal: %s cannot be recorded", fields[i].key);
		}
		if (asprintf(&t, "%s%s %s\n", s, fields[i].key, v) < 0) {
			free(s);
			return YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
		}
		free(s);
		s = t;
	}
	*textp = s;
	return NULL;
}
