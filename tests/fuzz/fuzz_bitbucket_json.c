/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the Bitbucket reply parsers (pages of both products, key objects,
 * the current user, the version, error bodies) and the settings file.
 * The first byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitbucket-internal.h"
#include "ykssh/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ykssh_bb_keylist *l;
	struct ykssh_bb_key *k = NULL;
	struct ykssh_settings *s = NULL;
	struct ykssh_err *err = NULL;
	const char *body = (const char *)data + 1;
	char *a = NULL, *b = NULL, *c = NULL;
	size_t len, i;
	long start;

	if (size < 1)
		return 0;
	len = size - 1;
	switch (data[0] % 6) {
	case 0:
	case 1:
		if ((l = calloc(1, sizeof(*l))) == NULL)
			return 0;
		err = ykssh_bb_json_page(data[0] % 2 ? YKSSH_BB_DC :
		    YKSSH_BB_CLOUD, body, len, l, &a, &start);
		for (i = 0; i < l->n; i++)
			if (l->keys[i].id == NULL)
				abort();
		ykssh_bb_keylist_free(l);
		break;
	case 2:
		err = ykssh_bb_json_key(YKSSH_BB_CLOUD, body, len, &k);
		ykssh_bb_key_free(k);
		break;
	case 3:
		err = ykssh_bb_json_user(body, len, &a);
		if (err == NULL && a[0] != '{')
			abort();
		break;
	case 4:
		ykssh_bb_json_error(body, len, &a, &b, &c);
		break;
	case 5:
		err = ykssh_settings_parse(body, len, "fuzz", &s);
		if ((err == NULL) != (s != NULL))
			abort();
		ykssh_settings_free(s);
		break;
	}
	ykssh_err_free(err);
	free(a);
	free(b);
	free(c);
	return 0;
}
