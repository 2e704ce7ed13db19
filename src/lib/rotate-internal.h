/* SPDX-License-Identifier: BSD-2-Clause */
/* The rotation journal (rotate.c, its fuzz target). */
#ifndef YKSSH_ROTATE_INTERNAL_H
#define YKSSH_ROTATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ykssh/ctx.h"
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
	/*
	 * A PIV key (kind "piv"): stub/pub are the old .pub and its
	 * attestation chain, new_stub/new_pub the new key's, backup_stub/
	 * backup_pub their names once retired (.old); new_application is
	 * "piv", the flags 0.  The card bytes of the slots and policies.
	 */
	char		*kind;		/* "piv", or NULL: FIDO2 */
	uint8_t		 old_slot;
	uint8_t		 new_slot;
	uint8_t		 piv_algorithm;
	uint8_t		 piv_pin_policy;
	uint8_t		 piv_touch_policy;
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

/* What rotation needs of the label's config entry (rotate.c). */
struct ykssh_rotate_entry {
	char		*key_id;
	char		*host;		/* for the login check */
	char		*identity;	/* as written ("~/..." or absolute) */
	char		*pkcs11;	/* a PIV entry */
};

/* One run of ykssh_rotate. */
struct ykssh_rotate_run {
	struct ykssh_ctx		*ctx;
	const struct ykssh_rotate_opts	*o;
	struct ykssh_rotate_journal	 j;
	struct ykssh_rotate_report	*r;
	struct ykssh_rotate_entry	 e;
	char				*config;
	char				*journal;
	int				 refused;
};

/* Records a step done in the journal (and the test hook's kill). */
struct ykssh_err *ykssh_rotate_record(struct ykssh_rotate_run *ru,
    enum ykssh_rotate_step step) YKSSH_MUST_CHECK;
/* "~/x" under home; anything else as it is (malloc'd, NULL: no memory). */
char *ykssh_rotate_expand(const char *home, const char *path);
struct ykssh_err *ykssh_rotate_take_old(struct ykssh_rotate_run *ru,
    const struct ykssh_sshkey *old) YKSSH_MUST_CHECK;
/* Tells the caller a step starts. */
void ykssh_rotate_progress(struct ykssh_rotate_run *ru,
    enum ykssh_rotate_step step, const char *detail);

/*
 * PIV keys (rotate-piv.c): the plan (old key, old and new slot, names),
 * the new key made in its slot (adopted when an interrupted run made
 * it), the entry switched to the new .pub, the old files retired, the
 * old slot emptied, --abort, and the report's sentences.
 */
struct ykssh_err *ykssh_rotate_piv_plan(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_rotate_piv_enroll(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_rotate_piv_config(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_rotate_piv_old_files(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_rotate_piv_token(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_rotate_piv_abort(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;
struct ykssh_err *ykssh_rotate_piv_describe(struct ykssh_rotate_run *ru)
    YKSSH_MUST_CHECK;

#endif /* YKSSH_ROTATE_INTERNAL_H */
