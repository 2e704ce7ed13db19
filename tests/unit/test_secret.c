/* SPDX-License-Identifier: BSD-2-Clause */
/* Secret holders and wiping helpers; the logging context. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ykssh/ctx.h"
#include "ykssh/secret.h"

static void
test_secret_set_and_reset(void **state)
{
	struct ykssh_secret *s = ykssh_secret_new(8);
	const char *view;
	size_t i;

	(void)state;
	assert_non_null(s);
	assert_int_equal(ykssh_secret_max_len(s), 8);
	assert_int_equal(ykssh_secret_len(s), 0);
	assert_string_equal(ykssh_secret_str(s), "");
	assert_int_equal(ykssh_secret_set(s, "123456", 6), 0);
	assert_string_equal(ykssh_secret_str(s), "123456");
	assert_int_equal(ykssh_secret_len(s), 6);
	view = ykssh_secret_str(s);
	ykssh_secret_reset(s);
	/* The storage itself is wiped, not just the length. */
	for (i = 0; i <= 8; i++)
		assert_int_equal(view[i], 0);
	/* Too long: refused, and nothing of it remains. */
	assert_int_equal(ykssh_secret_set(s, "123456789", 9),
	    YKSSH_ERR_NO_BUFFER_SPACE);
	assert_int_equal(ykssh_secret_len(s), 0);
	for (i = 0; i <= 8; i++)
		assert_int_equal(view[i], 0);
	/* Embedded NUL: refused (a PIN is a C string for the libraries). */
	assert_int_equal(ykssh_secret_set(s, "12\0456", 6),
	    YKSSH_ERR_INVALID_FORMAT);
	assert_int_equal(ykssh_secret_len(s), 0);
	ykssh_secret_free(s);
	ykssh_secret_free(NULL);
}

static void
test_secret_fill_in_place(void **state)
{
	struct ykssh_secret *s = ykssh_secret_new(63);
	char *buf;

	(void)state;
	assert_non_null(s);
	buf = ykssh_secret_buf(s);
	strcpy(buf, "correct horse");
	ykssh_secret_sync(s);
	assert_int_equal(ykssh_secret_len(s), 13);
	/* A reader that fills every byte cannot run past the end. */
	memset(buf, 'x', 64);
	ykssh_secret_sync(s);
	assert_int_equal(ykssh_secret_len(s), 63);
	ykssh_secret_free(s);
	assert_null(ykssh_secret_new(0));
}

static void
test_helpers(void **state)
{
	char *p = strdup("token-abc");

	(void)state;
	assert_int_equal(ykssh_timingsafe_bcmp("abc", "abc", 3), 0);
	assert_int_not_equal(ykssh_timingsafe_bcmp("abc", "abd", 3), 0);
	assert_int_equal(ykssh_timingsafe_bcmp("a", "b", 0), 0);
	ykssh_free_secret_string(p);
	ykssh_free_secret_string(NULL);
	ykssh_freezero(NULL, 10);
	p = malloc(16);
	ykssh_freezero(p, 16);
}

struct logged {
	int	 count;
	int	 level;
	char	 last[256];
};

static void
sink(void *arg, enum ykssh_log_level level, const char *msg)
{
	struct logged *l = arg;

	l->count++;
	l->level = (int)level;
	snprintf(l->last, sizeof(l->last), "%s", msg);
}

static void
test_ctx_logging(void **state)
{
	struct ykssh_ctx *ctx = ykssh_ctx_new();
	struct logged l = { 0 };
	volatile sig_atomic_t flag = 0;

	(void)state;
	assert_non_null(ctx);
	/* No sink: nothing happens. */
	ykssh_log(ctx, YKSSH_LOG_ERROR, "dropped");
	ykssh_ctx_set_log(ctx, sink, &l, YKSSH_LOG_INFO);
	assert_int_equal(ykssh_ctx_log_level(ctx), YKSSH_LOG_INFO);
	ykssh_log(ctx, YKSSH_LOG_WARN, "token %s", "found");
	assert_int_equal(l.count, 1);
	assert_string_equal(l.last, "token found");
	ykssh_debug(ctx, "above the level");
	assert_int_equal(l.count, 1);
	ykssh_ctx_set_log(ctx, sink, &l, YKSSH_LOG_DEBUG);
	ykssh_debug(ctx, "makeCredential with PIN");
	assert_int_equal(l.count, 2);
	assert_int_equal(l.level, YKSSH_LOG_DEBUG);
	assert_string_equal(l.last,
	    "test_ctx_logging: makeCredential with PIN");
	/* Cancellation is off until a flag is attached and set. */
	assert_false(ykssh_ctx_cancelled(ctx));
	ykssh_ctx_set_cancel_flag(ctx, &flag);
	assert_false(ykssh_ctx_cancelled(ctx));
	flag = 1;
	assert_true(ykssh_ctx_cancelled(ctx));
	assert_false(ykssh_ctx_cancelled(NULL));
	ykssh_ctx_free(ctx);
	ykssh_ctx_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_set_and_reset),
		cmocka_unit_test(test_secret_fill_in_place),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_ctx_logging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
