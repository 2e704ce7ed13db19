/* SPDX-License-Identifier: BSD-2-Clause */
/* Error objects: chains, hints, errno capture, names and exit statuses. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ykssh/error.h"

static struct ykssh_err *
inner_failure(void)
{
	errno = ENOENT;
	return ykssh_err_hint(YKSSH_ERRNO(YKSSH_ERR_FILE_NOT_FOUND,
	    "cannot open %s", "/nonexistent/id"), "run 'ykssh recover'");
}

static void
test_chain(void **state)
{
	struct ykssh_err *e, *outer;
	const struct ykssh_err *c;

	(void)state;
	e = inner_failure();
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_FILE_NOT_FOUND);
	assert_int_equal(ykssh_err_errno(e), ENOENT);
	/* errno text is captured when the error is made. */
	assert_string_equal(ykssh_err_message(e),
	    "cannot open /nonexistent/id: No such file or directory");
	errno = EPERM;
	assert_string_equal(ykssh_err_message(e),
	    "cannot open /nonexistent/id: No such file or directory");
	assert_string_equal(ykssh_err_func(e), "inner_failure");
	assert_non_null(strstr(ykssh_err_file(e), "test_error.c"));
	assert_true(ykssh_err_line(e) > 0);

	outer = YKSSH_ERR_CAUSE(YKSSH_ERR_CONFIG, e, "loading %d keys", 2);
	assert_int_equal(ykssh_err_code(outer), YKSSH_ERR_CONFIG);
	c = ykssh_err_cause(outer);
	assert_ptr_equal(c, e);
	assert_null(ykssh_err_cause(c));
	assert_true(ykssh_err_has(outer, YKSSH_ERR_FILE_NOT_FOUND));
	assert_true(ykssh_err_has(outer, YKSSH_ERR_CONFIG));
	assert_false(ykssh_err_has(outer, YKSSH_ERR_PIN_INVALID));
	assert_null(ykssh_err_hint_text(outer));
	assert_string_equal(ykssh_err_find_hint(outer), "run 'ykssh recover'");
	/* An outer hint wins over the cause's. */
	outer = ykssh_err_hint(outer, "check %s", "~/.ssh");
	assert_string_equal(ykssh_err_find_hint(outer), "check ~/.ssh");
	ykssh_err_free(outer);
}

static void
test_wrap_keeps_code(void **state)
{
	struct ykssh_err *e;

	(void)state;
	e = YKSSH_ERR_WRAP(YKSSH_ERR(YKSSH_ERR_PIN_INVALID,
	    "wrong PIN, %d tries left", 3), "enrolling on %s", "YubiKey 5");
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_PIN_INVALID);
	assert_string_equal(ykssh_err_message(e), "enrolling on YubiKey 5");
	assert_int_equal(ykssh_err_errno(e), 0);
	ykssh_err_free(e);
	/* Wrapping nothing is a bug, reported as such. */
	e = YKSSH_ERR_WRAP(NULL, "context");
	assert_int_equal(ykssh_err_code(e), YKSSH_ERR_INTERNAL);
	ykssh_err_free(e);
}

static void
test_null_safety(void **state)
{
	(void)state;
	ykssh_err_free(NULL);
	assert_int_equal(ykssh_err_code(NULL), YKSSH_ERR_SUCCESS);
	assert_false(ykssh_err_has(NULL, YKSSH_ERR_SUCCESS));
	assert_null(ykssh_err_find_hint(NULL));
	assert_null(ykssh_err_hint(NULL, "x"));
}

static void
test_names_and_texts(void **state)
{
	int code;

	(void)state;
	for (code = 0; code < YKSSH_ERR_MAX; code++) {
		const char *name = ykssh_strerror_name(code);

		/* Every code has its own row. */
		assert_int_equal(strncmp(name, "YKSSH_ERR_", 10), 0);
		assert_string_not_equal(name, "YKSSH_ERR_UNKNOWN");
		assert_true(strlen(ykssh_strerror(code)) > 0);
	}
	assert_string_equal(ykssh_strerror_name(YKSSH_ERR_PIN_BLOCKED),
	    "YKSSH_ERR_PIN_BLOCKED");
	assert_string_equal(ykssh_strerror_name(YKSSH_ERR_PIN_POLICY),
	    "YKSSH_ERR_PIN_POLICY");
	assert_string_equal(ykssh_strerror_name(YKSSH_ERR_PROTOCOL),
	    "YKSSH_ERR_PROTOCOL");
	assert_string_equal(ykssh_strerror(YKSSH_ERR_BUFFER_READ_ONLY),
	    "buffer is read-only");
	assert_string_equal(ykssh_strerror(-1), "unknown error");
	assert_string_equal(ykssh_strerror(YKSSH_ERR_MAX), "unknown error");
	assert_string_equal(ykssh_strerror_name(999), "YKSSH_ERR_UNKNOWN");
}

static void
test_exit_statuses(void **state)
{
	int code, s;

	(void)state;
	assert_int_equal(ykssh_err_exit_status(YKSSH_ERR_SUCCESS), 0);
	assert_int_equal(ykssh_err_exit_status(YKSSH_ERR_USAGE), 64);
	assert_int_equal(ykssh_err_exit_status(YKSSH_ERR_FILE_EXISTS), 73);
	assert_int_equal(ykssh_err_exit_status(YKSSH_ERR_DEVICE_NOT_FOUND),
	    69);
	assert_int_equal(ykssh_err_exit_status(YKSSH_ERR_CANCELLED), 130);
	/* Failure classes must be told apart from each other. */
	assert_int_not_equal(ykssh_err_exit_status(YKSSH_ERR_PIN_INVALID),
	    ykssh_err_exit_status(YKSSH_ERR_PIN_BLOCKED));
	assert_int_not_equal(ykssh_err_exit_status(YKSSH_ERR_TOUCH_DENIED),
	    ykssh_err_exit_status(YKSSH_ERR_PIN_INVALID));
	assert_int_not_equal(ykssh_err_exit_status(YKSSH_ERR_AUTH),
	    ykssh_err_exit_status(YKSSH_ERR_FORBIDDEN));
	for (code = 1; code < YKSSH_ERR_MAX; code++) {
		s = ykssh_err_exit_status(code);
		/* Failures never exit 0 and never collide with shells'. */
		assert_true(s > 0 && s < 256);
		assert_true(s != 126 && s != 127);
	}
	assert_int_equal(ykssh_err_exit_status(-5), 70);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_wrap_keeps_code),
		cmocka_unit_test(test_null_safety),
		cmocka_unit_test(test_names_and_texts),
		cmocka_unit_test(test_exit_statuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
