/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The EXIT STATUS section of docs/ykssh.1 lists exactly the statuses the
 * error table can produce: nothing missing, nothing stale.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ykssh/error.h"

static void
test_exit_status_section(void **state)
{
	char path[4096], line[1024];
	const char *src = getenv("YKSSH_SOURCE_DIR");
	int documented[256] = { 0 }, produced[256] = { 0 };
	int in_section = 0, n, code, s;
	FILE *f;

	(void)state;
	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/docs/ykssh.1", src);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".Sh ", 4) == 0)
			in_section = strcmp(line, ".Sh EXIT STATUS\n") == 0;
		else if (in_section && sscanf(line, ".It %d", &n) == 1) {
			assert_true(n >= 0 && n < 256);
			documented[n] = 1;
		}
	}
	fclose(f);
	produced[0] = 1;
	for (code = 0; code < YKSSH_ERR_MAX; code++)
		produced[ykssh_err_exit_status(code)] = 1;
	for (s = 0; s < 256; s++) {
		if (produced[s] != documented[s])
			print_error("exit status %d: %s\n", s, produced[s] ?
			    "produced but not documented" :
			    "documented but never produced");
		assert_int_equal(produced[s], documented[s]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
