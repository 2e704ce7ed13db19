/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz ykssh_sshkey_parse_stub().  A parsed sk stub with its key handle
 * must be written back by ykssh_sshkey_write_stub() and parse again to the
 * same key, flags, handle and comment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ykssh/buf.h"
#include "ykssh/sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ykssh_sshkey *key = NULL, *again = NULL;
	struct ykssh_buf *out;
	struct ykssh_err *err;
	char *comment = NULL, *comment2 = NULL;
	int enc = 0;

	err = ykssh_sshkey_parse_stub(data, size, &key, &comment, &enc);
	if (err != NULL) {
		CHECK(key == NULL && comment == NULL);
		ykssh_err_free(err);
		return 0;
	}
	CHECK(enc || comment != NULL);
	if (ykssh_sshkey_has_key_handle(key) &&
	    strpbrk(comment, "\r\n") == NULL) {
		CHECK((out = ykssh_buf_new()) != NULL);
		CHECK(ykssh_sshkey_write_stub(key, comment, out) == NULL);
		CHECK(ykssh_sshkey_parse_stub(ykssh_buf_ptr(out),
		    ykssh_buf_len(out), &again, &comment2, NULL) == NULL);
		CHECK(ykssh_sshkey_equal_public(key, again));
		CHECK(ykssh_sshkey_sk_flags(key) ==
		    ykssh_sshkey_sk_flags(again));
		CHECK(ykssh_sshkey_key_handle_len(key) ==
		    ykssh_sshkey_key_handle_len(again));
		CHECK(memcmp(ykssh_sshkey_key_handle_ptr(key),
		    ykssh_sshkey_key_handle_ptr(again),
		    ykssh_sshkey_key_handle_len(key)) == 0);
		CHECK(strcmp(comment, comment2) == 0);
		ykssh_sshkey_free(again);
		free(comment2);
		ykssh_buf_free(out);
	}
	free(comment);
	ykssh_sshkey_free(key);
	return 0;
}
