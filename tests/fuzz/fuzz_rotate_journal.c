/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz ykssh_rotate_journal_parse().  Whatever parses must format back to
 * text that parses to the same journal and formats to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rotate-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ykssh_rotate_journal j, again;
	struct ykssh_err *err;
	char *text = NULL, *text2 = NULL;

	if ((err = ykssh_rotate_journal_parse((const char *)data, size,
	    &j)) != NULL) {
		ykssh_err_free(err);
		return 0;
	}
	CHECK(ykssh_rotate_journal_format(&j, &text) == NULL);
	CHECK(ykssh_rotate_journal_parse(text, strlen(text), &again) == NULL);
	CHECK(ykssh_rotate_journal_format(&again, &text2) == NULL);
	CHECK(strcmp(text, text2) == 0);
	CHECK(j.step == again.step && j.new_flags == again.new_flags &&
	    j.expires_days == again.expires_days);
	free(text);
	free(text2);
	ykssh_rotate_journal_clear(&j);
	ykssh_rotate_journal_clear(&again);
	return 0;
}
