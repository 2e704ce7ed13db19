/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz ykssh_sshkey_parse_public() and ykssh_sshkey_from_blob().  Whatever
 * parses must format back to a line that parses to the same key with the
 * same fingerprint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ykssh/buf.h"
#include "ykssh/sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static void
round_trip(const struct ykssh_sshkey *key)
{
	struct ykssh_sshkey *again = NULL;
	struct ykssh_buf *blob = ykssh_buf_new();
	char *line = NULL, *fp1 = NULL, *fp2 = NULL;

	CHECK(blob != NULL);
	CHECK(ykssh_sshkey_format_public(key, "c", &line) == NULL);
	CHECK(ykssh_sshkey_parse_public(line, &again, NULL) == NULL);
	CHECK(ykssh_sshkey_equal_public(key, again));
	CHECK(ykssh_sshkey_fingerprint(key, &fp1) == NULL);
	CHECK(ykssh_sshkey_fingerprint(again, &fp2) == NULL);
	CHECK(strcmp(fp1, fp2) == 0 && strlen(fp1) == 7 + 43);
	CHECK(ykssh_sshkey_to_blob(key, blob) == NULL);
	free(line);
	free(fp1);
	free(fp2);
	ykssh_sshkey_free(again);
	ykssh_buf_free(blob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err;
	char *text, *comment = NULL;

	/* As a blob. */
	if ((err = ykssh_sshkey_from_blob(data, size, &key)) == NULL) {
		round_trip(key);
		ykssh_sshkey_free(key);
		key = NULL;
	}
	ykssh_err_free(err);
	/* As a line of text. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((err = ykssh_sshkey_parse_public(text, &key, &comment)) == NULL) {
		round_trip(key);
		ykssh_sshkey_free(key);
		free(comment);
	}
	ykssh_err_free(err);
	free(text);
	return 0;
}
