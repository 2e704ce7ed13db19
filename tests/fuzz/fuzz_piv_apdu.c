/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for the pivsim card core (pivsim_transmit).
 *
 * Input (structured, so mutations hit fields rather than framing):
 *   byte 0: flags  bit0 firmware 5.7 profile, bit1 touches are denied,
 *                  bit2 power off between records of length 1
 *   then records:  <len u16 BE> <len bytes>
 *     len == 1: control byte (0 power off, 2 reset; others ignored)
 *     len >= 2: one command APDU
 * Randomness (witness, challenges) is a fixed pattern so that seeds can
 * authenticate with the default management key; time is a counter.  No
 * file I/O and no wall clock: the card lives in memory.
 *
 * Checked invariants: the response is 2..PIVSIM_RESP_MAX bytes; the state
 * survives save -> load -> save unchanged.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pivsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	*factory[2];		/* serialized fresh cards */
static size_t	 factory_len[2];
static EVP_PKEY	*rsa1024, *rsa2048;

static int
fixed_rand(void *arg, uint8_t *p, size_t n)
{
	(void)arg;
	memset(p, 0, n);
	return (0);
}

static int
touch(void *arg)
{
	return (*(const int *)arg);
}

static uint64_t
fake_clock(void *arg)
{
	uint64_t	*t = arg;

	*t += 1000;
	return (*t);
}

static void
init(void)
{
	struct pivsim	*c;
	int		 i;

	if (factory[0] != NULL)
		return;
	for (i = 0; i < 2; i++) {
		if ((c = pivsim_new(i ? PIVSIM_PROFILE_57 : PIVSIM_PROFILE_54,
		    16000001)) == NULL ||
		    pivsim_save(c, &factory[i], &factory_len[i]) != 0)
			abort();
		pivsim_free(c);
	}
	if ((rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024)) == NULL ||
	    (rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048)) == NULL)
		abort();
}

/* save -> load -> save must be the identity on the persistent state. */
static void
check_roundtrip(const struct pivsim *c)
{
	struct pivsim	*c2;
	uint8_t		*a = NULL, *b = NULL;
	size_t		 al = 0, bl = 0;

	if (pivsim_save(c, &a, &al) != 0)
		abort();
	if ((c2 = pivsim_load(a, al)) == NULL ||
	    pivsim_save(c2, &b, &bl) != 0 || al != bl || memcmp(a, b, al) != 0)
		abort();
	pivsim_free(c2);
	pivsim_freezero(a, al);
	pivsim_freezero(b, bl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pivsim	*c;
	uint8_t		 resp[PIVSIM_RESP_MAX];
	uint64_t	 clock = 0;
	size_t		 n, rlen;
	int		 approve, p;

	init();
	if (size < 1)
		return (0);
	p = data[0] & 1;
	approve = !(data[0] & 2);
	if ((c = pivsim_load(factory[p], factory_len[p])) == NULL)
		abort();
	pivsim_set_rand_cb(c, fixed_rand, NULL);
	pivsim_set_touch_cb(c, touch, &approve);
	pivsim_set_clock_cb(c, fake_clock, &clock);
	pivsim_set_rsa_pool(c, rsa1024, rsa2048);
	data++;
	size--;
	while (size >= 2) {
		n = ((size_t)data[0] << 8) | data[1];
		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		if (n == 1) {
			if (data[0] == 0 || data[0] == 2)
				pivsim_power_off(c);
		} else if (n >= 2) {
			rlen = 0;
			pivsim_transmit(c, data, n, resp, &rlen);
			if (rlen < 2 || rlen > PIVSIM_RESP_MAX)
				abort();
		}
		data += n;
		size -= n;
	}
	if (pivsim_dirty(c))
		check_roundtrip(c);
	pivsim_free(c);
	return (0);
}
