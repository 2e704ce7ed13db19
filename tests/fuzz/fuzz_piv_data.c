/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the parsers of PIV card data (piv-tlv.c): GET METADATA replies,
 * GENERATE/metadata public-key templates, certificate, printed-information
 * and admin-data objects.  The first byte picks the algorithm for the key
 * parsers.  Results must point inside the input and parse the same twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piv-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	if (p != NULL && (p < data || p + n > data + size))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t algs[] = { YKSSH_PIV_ALG_ECCP256,
	    YKSSH_PIV_ALG_ECCP384, YKSSH_PIV_ALG_RSA2048, 0x06 };
	struct piv_metadata a, b;
	struct ykssh_sshkey *key = NULL;
	struct ykssh_err *err;
	const uint8_t *v;
	size_t vlen;
	uint8_t alg;

	if (size < 1)
		return 0;
	alg = algs[data[0] & 3];
	data++;
	size--;
	if (ykssh_piv_metadata_parse(data, size, &a) == 0) {
		if (ykssh_piv_metadata_parse(data, size, &b) != 0 ||
		    memcmp(&a, &b, sizeof(a)) != 0)
			abort();
		inside(a.pubkey, a.pubkey_len, data, size);
		if (a.retries_left > a.retries_total)
			abort();
		if (a.has & PIV_MD_HAS_PUBKEY) {
			err = ykssh_piv_pubkey_parse(alg, a.pubkey,
			    a.pubkey_len, 0, &key);
			if ((err == NULL) != (key != NULL))
				abort();
			ykssh_err_free(err);
			ykssh_sshkey_free(key);
			key = NULL;
		}
	} else if (a.has != 0)
		abort();
	err = ykssh_piv_pubkey_parse(alg, data, size, 1, &key);
	if ((err == NULL) != (key != NULL))
		abort();
	ykssh_err_free(err);
	ykssh_sshkey_free(key);
	if (ykssh_piv_certobj_parse(data, size, &v, &vlen) == 0) {
		inside(v, vlen, data, size);
		if (vlen < 2 || v[0] != 0x30)
			abort();
	} else if (v != NULL)
		abort();
	if (ykssh_piv_protected_parse(data, size, &v, &vlen) == 0) {
		inside(v, vlen, data, size);
		if (vlen != 16 && vlen != 24 && vlen != 32)
			abort();
	}
	(void)ykssh_piv_admin_flags(data, size);
	if (ykssh_piv_tlv_find(data, size, 0x7f49, &v, &vlen) == 0)
		inside(v, vlen, data, size);
	(void)ykssh_piv_tlv_check(data, size);
	return 0;
}
