/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the slot-certificate parser (piv-slots.c ykssh_piv_cert_parse),
 * which recover --piv, revoke --on-token and list --token --piv run on
 * what the card returns.  Input: one byte picking the slot, two bytes
 * (big endian) giving the length of the slot certificate, the slot
 * certificate, then the F9 certificate (the rest, possibly empty).  A key
 * comes back only on success, and the same input parses the same twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piv-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ykssh_sshkey *a = NULL, *b = NULL;
	struct ykssh_err *ea, *eb;
	const uint8_t *cert, *f9;
	char sa[128], sb[128];
	size_t clen, flen;
	uint8_t slot, alga, algb;
	int atta, attb;

	if (size < 3)
		return 0;
	slot = ykssh_piv_key_slot(data[0] % 24);
	clen = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	if (clen > size)
		clen = size;
	cert = data;
	f9 = data + clen;
	flen = size - clen;
	ea = ykssh_piv_cert_parse(cert, clen, slot, flen > 0 ? f9 : NULL,
	    flen, &alga, &a, &atta, sa, sizeof(sa));
	eb = ykssh_piv_cert_parse(cert, clen, slot, flen > 0 ? f9 : NULL,
	    flen, &algb, &b, &attb, sb, sizeof(sb));
	if ((ea == NULL) != (eb == NULL) || (ea == NULL) != (a != NULL) ||
	    alga != algb || atta != attb || strcmp(sa, sb) != 0 ||
	    memchr(sa, '\0', sizeof(sa)) == NULL)
		abort();
	if (a != NULL && !ykssh_sshkey_equal_public(a, b))
		abort();
	ykssh_err_free(ea);
	ykssh_err_free(eb);
	ykssh_sshkey_free(a);
	ykssh_sshkey_free(b);
	return 0;
}
