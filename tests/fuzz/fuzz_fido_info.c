/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz the getInfo reply parser (device data).  A reply that parses must
 * parse the same way twice, and report only what it carried.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fido-io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ykssh_fido_info a, b;

	if (ykssh_fido_info_parse(data, size, &a) != 0) {
		if (a.valid)
			abort();
		return 0;
	}
	if (!a.valid || ykssh_fido_info_parse(data, size, &b) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	if ((a.eddsa || a.es256) && !a.algorithms_listed)
		abort();
	return 0;
}
