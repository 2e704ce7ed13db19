/* SPDX-License-Identifier: BSD-2-Clause */
/* The rotation journal (rotate.c, its fuzz target). */
#ifndef YKSSH_ROTATE_INTERNAL_H
#define YKSSH_ROTATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/error.h"
#include "ykssh/rotate.h"

/* Largest journal read. */
#define YKSSH_ROTATE_JOURNAL_MAX	(64 * 1024)

/*
 * One rotation's record: "key value" lines, the first "ykssh-rotate 1".
 * Every string is malloc'd; optional ones may be NULL.
 */
struct ykssh_rotate_journal {
	char		*label;
	char		*old_fp;
	uint8_t		 old_flags;
	char		*stub;		/* canonical stub and .pub */
	char		*pub;
	char		*new_stub;	/* side files of the new key */
	char		*new_pub;
	char		*backup_stub;	/* names for the old files */
	char		*backup_pub;
	char		*new_type;	/* key type name */
	char		*new_application;
	uint8_t		 new_flags;
	char		*new_user;	/* resident user id, or NULL */
	char		*comment;	/* or NULL */
	char		*new_fp;	/* NULL until enrolled */
	unsigned	 expires_days;
	int		 on_token;
	int		 no_check;
	enum ykssh_rotate_step step;
};

void ykssh_rotate_journal_clear(struct ykssh_rotate_journal *j);
/*
 * Parses a journal.  On error j is cleared.  Errors: INVALID_FORMAT
 * (naming the line), NOMEM.
 */
struct ykssh_err *ykssh_rotate_journal_parse(const char *text, size_t len,
    struct ykssh_rotate_journal *j) YKSSH_MUST_CHECK;
/* The journal's text (malloc'd).  Errors: INVALID_ARGUMENT, NOMEM. */
struct ykssh_err *ykssh_rotate_journal_format(
    const struct ykssh_rotate_journal *j, char **textp) YKSSH_MUST_CHECK;

#endif /* YKSSH_ROTATE_INTERNAL_H */
